// AVX2 attention: one output row (query, head) over F32 or F16 keys/values.
//
// Scores are computed eight keys at a time (eight independent FMA chains,
// reduced together by a transpose of horizontal adds); the weighted sum of
// values keeps up to 64 output floats in registers while it walks the keys.
#include "kernels/attention_isa.h"
#include "kernels/avx2/ops_math_avx2.h"

namespace aigc {
namespace {

constexpr int64_t kKeyBlockAvx2 = 8;   // keys per score block
constexpr int64_t kOutVecsAvx2 = 8;    // output vectors kept in registers

__m256 load_kv_avx2(const float* p, int64_t r) {
  return r == kLanesAvx2 ? _mm256_loadu_ps(p) : load_tail_avx2(p, r);
}

__m256 load_kv_avx2(const uint16_t* p, int64_t r) {
  if (r == kLanesAvx2) return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  alignas(16) uint16_t tail[kLanesAvx2] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int64_t i = 0; i < r; ++i) tail[i] = p[i];
  return _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(tail)));
}

// (sum(a0), sum(a1), ..., sum(a7)) as one vector.
__m256 hsum8_avx2(const __m256* a) {
  const __m256 u = _mm256_hadd_ps(_mm256_hadd_ps(a[0], a[1]), _mm256_hadd_ps(a[2], a[3]));
  const __m256 w = _mm256_hadd_ps(_mm256_hadd_ps(a[4], a[5]), _mm256_hadd_ps(a[6], a[7]));
  return _mm256_add_ps(_mm256_permute2f128_ps(u, w, 0x20), _mm256_permute2f128_ps(u, w, 0x31));
}

// scores[j] = scale * q . k_j for j < n_kv; returns their maximum.
template <class T>
float scores_avx2(float* scores, const float* q, const T* k, int64_t kv_stride, int64_t n_kv, int64_t d,
                  float scale) {
  const __m256 vscale = _mm256_set1_ps(scale);
  __m256 vmax = _mm256_set1_ps(-__builtin_inff());
  int64_t j = 0;
  for (; j + kKeyBlockAvx2 <= n_kv; j += kKeyBlockAvx2) {
    __m256 acc[kKeyBlockAvx2];
    for (int64_t b = 0; b < kKeyBlockAvx2; ++b) acc[b] = _mm256_setzero_ps();
    for (int64_t i = 0; i < d; i += kLanesAvx2) {
      const int64_t r = d - i < kLanesAvx2 ? d - i : kLanesAvx2;
      const __m256 qv = load_tail_avx2(q + i, r);
      for (int64_t b = 0; b < kKeyBlockAvx2; ++b) {
        acc[b] = _mm256_fmadd_ps(qv, load_kv_avx2(k + (j + b) * kv_stride + i, r), acc[b]);
      }
    }
    const __m256 s = _mm256_mul_ps(hsum8_avx2(acc), vscale);
    _mm256_storeu_ps(scores + j, s);
    vmax = _mm256_max_ps(vmax, s);
  }
  float max_s = hmax_avx2(vmax);
  for (; j < n_kv; ++j) {
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < d; i += kLanesAvx2) {
      const int64_t r = d - i < kLanesAvx2 ? d - i : kLanesAvx2;
      acc = _mm256_fmadd_ps(load_tail_avx2(q + i, r), load_kv_avx2(k + j * kv_stride + i, r), acc);
    }
    scores[j] = hsum_avx2(acc) * scale;
    max_s = scores[j] > max_s ? scores[j] : max_s;
  }
  return max_s;
}

// out[0, 8 NV) (clipped to d) = sum_j p[j] v_j[0, 8 NV), accumulated in registers.
template <int NV, class T>
void weighted_sum_avx2(float* out, const float* p, const T* v, int64_t kv_stride, int64_t n_kv, int64_t d) {
  __m256 acc[NV];
  for (int c = 0; c < NV; ++c) acc[c] = _mm256_setzero_ps();
  const int64_t last_r = d - (NV - 1) * kLanesAvx2;  // lanes of the last vector, 1..8
  for (int64_t j = 0; j < n_kv; ++j) {
    const __m256 pj = _mm256_set1_ps(p[j]);
    const T* vj = v + j * kv_stride;
    for (int c = 0; c < NV - 1; ++c)
      acc[c] = _mm256_fmadd_ps(pj, load_kv_avx2(vj + c * kLanesAvx2, kLanesAvx2), acc[c]);
    acc[NV - 1] = _mm256_fmadd_ps(pj, load_kv_avx2(vj + (NV - 1) * kLanesAvx2, last_r), acc[NV - 1]);
  }
  for (int c = 0; c < NV - 1; ++c) _mm256_storeu_ps(out + c * kLanesAvx2, acc[c]);
  store_tail_avx2(out + (NV - 1) * kLanesAvx2, last_r, acc[NV - 1]);
}

template <class T>
void attention_row_avx2(float* out, const float* q, const T* k, const T* v, int64_t kv_stride, int64_t n_kv,
                        int64_t d, float scale, float* scores) {
  const float max_s = scores_avx2(scores, q, k, kv_stride, n_kv, d, scale);
  // scores[j] = exp(scores[j] - max) / sum
  const __m256 vmax = _mm256_set1_ps(max_s);
  __m256 vsum = _mm256_setzero_ps();
  for (int64_t j = 0; j < n_kv; j += kLanesAvx2) {
    const int64_t r = n_kv - j < kLanesAvx2 ? n_kv - j : kLanesAvx2;
    const __m256 e = _mm256_and_ps(exp_avx2(_mm256_sub_ps(load_tail_avx2(scores + j, r), vmax)),
                                   _mm256_castsi256_ps(tail_mask_avx2(r)));
    store_tail_avx2(scores + j, r, e);
    vsum = _mm256_add_ps(vsum, e);
  }
  const __m256 inv = _mm256_set1_ps(1.0f / hsum_avx2(vsum));
  for (int64_t j = 0; j < n_kv; j += kLanesAvx2) {
    const int64_t r = n_kv - j < kLanesAvx2 ? n_kv - j : kLanesAvx2;
    store_tail_avx2(scores + j, r, _mm256_mul_ps(load_tail_avx2(scores + j, r), inv));
  }
  // out = sum_j scores[j] v_j, up to kOutVecsAvx2 vectors of the row at a time
  for (int64_t i = 0; i < d; i += kOutVecsAvx2 * kLanesAvx2) {
    const int64_t rest = d - i;
    const int64_t nv = rest >= kOutVecsAvx2 * kLanesAvx2 ? kOutVecsAvx2 : (rest + kLanesAvx2 - 1) / kLanesAvx2;
    switch (nv) {
      case 1: weighted_sum_avx2<1>(out + i, scores, v + i, kv_stride, n_kv, rest); break;
      case 2: weighted_sum_avx2<2>(out + i, scores, v + i, kv_stride, n_kv, rest); break;
      case 3: weighted_sum_avx2<3>(out + i, scores, v + i, kv_stride, n_kv, rest); break;
      case 4: weighted_sum_avx2<4>(out + i, scores, v + i, kv_stride, n_kv, rest); break;
      case 5: weighted_sum_avx2<5>(out + i, scores, v + i, kv_stride, n_kv, rest); break;
      case 6: weighted_sum_avx2<6>(out + i, scores, v + i, kv_stride, n_kv, rest); break;
      case 7: weighted_sum_avx2<7>(out + i, scores, v + i, kv_stride, n_kv, rest); break;
      default:
        weighted_sum_avx2<8>(out + i, scores, v + i, kv_stride, n_kv,
                             rest < kOutVecsAvx2 * kLanesAvx2 ? rest : kOutVecsAvx2 * kLanesAvx2);
        break;
    }
  }
}

}  // namespace

void attention_row_f32_avx2(float* out, const float* q, const float* k, const float* v, int64_t kv_stride,
                            int64_t n_kv, int64_t d, float scale, float* scores) {
  attention_row_avx2(out, q, k, v, kv_stride, n_kv, d, scale, scores);
}

void attention_row_f16_avx2(float* out, const float* q, const uint16_t* k, const uint16_t* v, int64_t kv_stride,
                            int64_t n_kv, int64_t d, float scale, float* scores) {
  attention_row_avx2(out, q, k, v, kv_stride, n_kv, d, scale, scores);
}

}  // namespace aigc
