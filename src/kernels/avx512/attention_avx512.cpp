// AVX-512 attention: one output row (query, head) over F32 or F16 keys/values.
#include "kernels/attention_isa.h"
#include "kernels/avx512/ops_math_avx512.h"

namespace aigc {
namespace {

__m512 load_kv_avx512(const float* p, int64_t r) {
  return r == kLanesAvx512 ? _mm512_loadu_ps(p) : load_tail_avx512(p, r);
}

__m512 load_kv_avx512(const uint16_t* p, int64_t r) {
  if (r == kLanesAvx512) return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  alignas(32) uint16_t tail[kLanesAvx512] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  for (int64_t i = 0; i < r; ++i) tail[i] = p[i];
  return _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(tail)));
}

template <class T>
void attention_row_avx512(float* out, const float* q, const T* k, const T* v, int64_t kv_stride, int64_t n_kv,
                        int64_t d, float scale, float* scores) {
  // scores[j] = scale * q . k_j, and their maximum
  float max_s = -__builtin_inff();
  for (int64_t j = 0; j < n_kv; ++j) {
    const T* kj = k + j * kv_stride;
    __m512 acc = _mm512_setzero_ps();
    for (int64_t i = 0; i < d; i += kLanesAvx512) {
      const int64_t r = d - i < kLanesAvx512 ? d - i : kLanesAvx512;
      acc = _mm512_fmadd_ps(load_tail_avx512(q + i, r), load_kv_avx512(kj + i, r), acc);
    }
    scores[j] = hsum_avx512(acc) * scale;
    max_s = scores[j] > max_s ? scores[j] : max_s;
  }
  // scores[j] = exp(scores[j] - max), and their sum
  const __m512 vmax = _mm512_set1_ps(max_s);
  __m512 vsum = _mm512_setzero_ps();
  for (int64_t j = 0; j < n_kv; j += kLanesAvx512) {
    const int64_t r = n_kv - j < kLanesAvx512 ? n_kv - j : kLanesAvx512;
    const __m512 e = _mm512_maskz_mov_ps(tail_mask_avx512(r), exp_avx512(_mm512_sub_ps(load_tail_avx512(scores + j, r), vmax)));
    store_tail_avx512(scores + j, r, e);
    vsum = _mm512_add_ps(vsum, e);
  }
  // out = sum_j scores[j] v_j / sum
  for (int64_t i = 0; i < d; i += kLanesAvx512) {
    store_tail_avx512(out + i, d - i < kLanesAvx512 ? d - i : kLanesAvx512, _mm512_setzero_ps());
  }
  for (int64_t j = 0; j < n_kv; ++j) {
    const T* vj = v + j * kv_stride;
    const __m512 p = _mm512_set1_ps(scores[j]);
    for (int64_t i = 0; i < d; i += kLanesAvx512) {
      const int64_t r = d - i < kLanesAvx512 ? d - i : kLanesAvx512;
      store_tail_avx512(out + i, r, _mm512_fmadd_ps(p, load_kv_avx512(vj + i, r), load_tail_avx512(out + i, r)));
    }
  }
  const __m512 inv = _mm512_set1_ps(1.0f / hsum_avx512(vsum));
  for (int64_t i = 0; i < d; i += kLanesAvx512) {
    const int64_t r = d - i < kLanesAvx512 ? d - i : kLanesAvx512;
    store_tail_avx512(out + i, r, _mm512_mul_ps(load_tail_avx512(out + i, r), inv));
  }
}

}  // namespace

void attention_row_f32_avx512(float* out, const float* q, const float* k, const float* v, int64_t kv_stride,
                            int64_t n_kv, int64_t d, float scale, float* scores) {
  attention_row_avx512(out, q, k, v, kv_stride, n_kv, d, scale, scores);
}

void attention_row_f16_avx512(float* out, const float* q, const uint16_t* k, const uint16_t* v, int64_t kv_stride,
                            int64_t n_kv, int64_t d, float scale, float* scores) {
  attention_row_avx512(out, q, k, v, kv_stride, n_kv, d, scale, scores);
}

}  // namespace aigc
