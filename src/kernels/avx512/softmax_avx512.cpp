// AVX-512 softmax of one row: z = x * scale + mask, then exp(z - max) / sum.
// Whole vectors use plain loads; only the last partial vector is masked.
#include "kernels/avx512/ops_math_avx512.h"
#include "kernels/softmax_isa.h"

namespace aigc {

void softmax_row_avx512(float* out, const float* in, const float* mask, float scale, int64_t n) {
  const __m512 vscale = _mm512_set1_ps(scale);
  const __m512 neg_inf = _mm512_set1_ps(-__builtin_inff());
  const int64_t n_full = n / kLanesAvx512 * kLanesAvx512, tail = n - n_full;
  __m512 vmax = neg_inf;
  for (int64_t i = 0; i < n_full; i += kLanesAvx512) {
    __m512 z = _mm512_mul_ps(_mm512_loadu_ps(in + i), vscale);
    if (mask) z = _mm512_add_ps(z, _mm512_loadu_ps(mask + i));
    _mm512_storeu_ps(out + i, z);
    vmax = _mm512_max_ps(vmax, z);
  }
  if (tail) {
    __m512 z = _mm512_mul_ps(load_tail_avx512(in + n_full, tail), vscale);
    if (mask) z = _mm512_add_ps(z, load_tail_avx512(mask + n_full, tail));
    store_tail_avx512(out + n_full, tail, z);
    vmax = _mm512_max_ps(vmax, _mm512_mask_blend_ps(tail_mask_avx512(tail), neg_inf, z));
  }
  const float max_z = hmax_avx512(vmax);
  if (max_z == -__builtin_inff()) {
    for (int64_t i = 0; i < n; i += kLanesAvx512) {
      store_tail_avx512(out + i, n - i < kLanesAvx512 ? n - i : kLanesAvx512, _mm512_setzero_ps());
    }
    return;
  }
  const __m512 vm = _mm512_set1_ps(max_z);
  __m512 vsum = _mm512_setzero_ps();
  for (int64_t i = 0; i < n_full; i += kLanesAvx512) {
    const __m512 e = exp_avx512(_mm512_sub_ps(_mm512_loadu_ps(out + i), vm));
    _mm512_storeu_ps(out + i, e);
    vsum = _mm512_add_ps(vsum, e);
  }
  if (tail) {
    const __m512 e = _mm512_maskz_mov_ps(tail_mask_avx512(tail),
                                         exp_avx512(_mm512_sub_ps(load_tail_avx512(out + n_full, tail), vm)));
    store_tail_avx512(out + n_full, tail, e);
    vsum = _mm512_add_ps(vsum, e);
  }
  const __m512 inv = _mm512_set1_ps(1.0f / hsum_avx512(vsum));
  for (int64_t i = 0; i < n_full; i += kLanesAvx512) {
    _mm512_storeu_ps(out + i, _mm512_mul_ps(_mm512_loadu_ps(out + i), inv));
  }
  if (tail) store_tail_avx512(out + n_full, tail, _mm512_mul_ps(load_tail_avx512(out + n_full, tail), inv));
}

}  // namespace aigc
