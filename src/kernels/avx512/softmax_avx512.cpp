// AVX-512 softmax of one row: z = x * scale + mask, then exp(z - max) / sum.
#include "kernels/avx512/ops_math_avx512.h"
#include "kernels/softmax_isa.h"

namespace aigc {

void softmax_row_avx512(float* out, const float* in, const float* mask, float scale, int64_t n) {
  const __m512 vscale = _mm512_set1_ps(scale);
  const __m512 neg_inf = _mm512_set1_ps(-__builtin_inff());
  __m512 vmax = neg_inf;
  for (int64_t i = 0; i < n; i += kLanesAvx512) {
    const int64_t r = n - i < kLanesAvx512 ? n - i : kLanesAvx512;
    __m512 z = _mm512_mul_ps(load_tail_avx512(in + i, r), vscale);
    if (mask) z = _mm512_add_ps(z, load_tail_avx512(mask + i, r));
    store_tail_avx512(out + i, r, z);
    vmax = _mm512_max_ps(vmax, _mm512_mask_blend_ps(tail_mask_avx512(r), neg_inf, z));
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
  for (int64_t i = 0; i < n; i += kLanesAvx512) {
    const int64_t r = n - i < kLanesAvx512 ? n - i : kLanesAvx512;
    const __m512 e =
        _mm512_maskz_mov_ps(tail_mask_avx512(r), exp_avx512(_mm512_sub_ps(load_tail_avx512(out + i, r), vm)));
    store_tail_avx512(out + i, r, e);
    vsum = _mm512_add_ps(vsum, e);
  }
  const __m512 inv = _mm512_set1_ps(1.0f / hsum_avx512(vsum));
  for (int64_t i = 0; i < n; i += kLanesAvx512) {
    const int64_t r = n - i < kLanesAvx512 ? n - i : kLanesAvx512;
    store_tail_avx512(out + i, r, _mm512_mul_ps(load_tail_avx512(out + i, r), inv));
  }
}

}  // namespace aigc
