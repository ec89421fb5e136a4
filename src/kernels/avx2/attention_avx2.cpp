// AVX2 attention: one output row (query, head) over F32 or F16 keys/values.
#include "kernels/attention_isa.h"
#include "kernels/avx2/ops_math_avx2.h"

namespace aigc {
namespace {

__m256 load_kv_avx2(const float* p, int64_t r) {
  return r == kLanesAvx2 ? _mm256_loadu_ps(p) : load_tail_avx2(p, r);
}

__m256 load_kv_avx2(const uint16_t* p, int64_t r) {
  if (r == kLanesAvx2) return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  alignas(16) uint16_t tail[kLanesAvx2] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int64_t i = 0; i < r; ++i) tail[i] = p[i];
  return _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(tail)));
}

template <class T>
void attention_row_avx2(float* out, const float* q, const T* k, const T* v, int64_t kv_stride, int64_t n_kv,
                        int64_t d, float scale, float* scores) {
  // scores[j] = scale * q . k_j, and their maximum
  float max_s = -__builtin_inff();
  for (int64_t j = 0; j < n_kv; ++j) {
    const T* kj = k + j * kv_stride;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < d; i += kLanesAvx2) {
      const int64_t r = d - i < kLanesAvx2 ? d - i : kLanesAvx2;
      acc = _mm256_fmadd_ps(load_tail_avx2(q + i, r), load_kv_avx2(kj + i, r), acc);
    }
    scores[j] = hsum_avx2(acc) * scale;
    max_s = scores[j] > max_s ? scores[j] : max_s;
  }
  // scores[j] = exp(scores[j] - max), and their sum
  const __m256 vmax = _mm256_set1_ps(max_s);
  __m256 vsum = _mm256_setzero_ps();
  for (int64_t j = 0; j < n_kv; j += kLanesAvx2) {
    const int64_t r = n_kv - j < kLanesAvx2 ? n_kv - j : kLanesAvx2;
    const __m256 e = _mm256_and_ps(exp_avx2(_mm256_sub_ps(load_tail_avx2(scores + j, r), vmax)),
                                   _mm256_castsi256_ps(tail_mask_avx2(r)));
    store_tail_avx2(scores + j, r, e);
    vsum = _mm256_add_ps(vsum, e);
  }
  // out = sum_j scores[j] v_j / sum
  for (int64_t i = 0; i < d; i += kLanesAvx2) {
    store_tail_avx2(out + i, d - i < kLanesAvx2 ? d - i : kLanesAvx2, _mm256_setzero_ps());
  }
  for (int64_t j = 0; j < n_kv; ++j) {
    const T* vj = v + j * kv_stride;
    const __m256 p = _mm256_set1_ps(scores[j]);
    for (int64_t i = 0; i < d; i += kLanesAvx2) {
      const int64_t r = d - i < kLanesAvx2 ? d - i : kLanesAvx2;
      store_tail_avx2(out + i, r, _mm256_fmadd_ps(p, load_kv_avx2(vj + i, r), load_tail_avx2(out + i, r)));
    }
  }
  const __m256 inv = _mm256_set1_ps(1.0f / hsum_avx2(vsum));
  for (int64_t i = 0; i < d; i += kLanesAvx2) {
    const int64_t r = d - i < kLanesAvx2 ? d - i : kLanesAvx2;
    store_tail_avx2(out + i, r, _mm256_mul_ps(load_tail_avx2(out + i, r), inv));
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
