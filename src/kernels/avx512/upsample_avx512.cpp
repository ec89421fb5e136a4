// AVX-512 nearest 2x upsampling of one row.
#include "kernels/avx512/ops_math_avx512.h"
#include "kernels/upsample_isa.h"

namespace aigc {

void upsample_nearest2x_row_avx512(float* out0, float* out1, const float* in, int64_t w) {
  const __m512i first_idx = _mm512_set_epi32(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0);
  const __m512i second_idx = _mm512_set_epi32(15, 15, 14, 14, 13, 13, 12, 12, 11, 11, 10, 10, 9, 9, 8, 8);
  for (int64_t i = 0; i < w; i += kLanesAvx512) {
    const int64_t r = w - i < kLanesAvx512 ? w - i : kLanesAvx512;
    const __m512 v = load_tail_avx512(in + i, r);
    const __m512 first = _mm512_permutexvar_ps(first_idx, v);    // x0 x0 .. x7 x7
    const __m512 second = _mm512_permutexvar_ps(second_idx, v);  // x8 x8 .. x15 x15
    const int64_t n_out = 2 * r;
    const int64_t r0 = n_out < kLanesAvx512 ? n_out : kLanesAvx512;
    store_tail_avx512(out0 + 2 * i, r0, first);
    store_tail_avx512(out1 + 2 * i, r0, first);
    if (n_out > kLanesAvx512) {
      store_tail_avx512(out0 + 2 * i + kLanesAvx512, n_out - kLanesAvx512, second);
      store_tail_avx512(out1 + 2 * i + kLanesAvx512, n_out - kLanesAvx512, second);
    }
  }
}

}  // namespace aigc
