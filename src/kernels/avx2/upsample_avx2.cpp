// AVX2 nearest 2x upsampling of one row.
#include "kernels/avx2/ops_math_avx2.h"
#include "kernels/upsample_isa.h"

namespace aigc {

void upsample_nearest2x_row_avx2(float* out0, float* out1, const float* in, int64_t w) {
  for (int64_t i = 0; i < w; i += kLanesAvx2) {
    const int64_t r = w - i < kLanesAvx2 ? w - i : kLanesAvx2;
    const __m256 v = load_tail_avx2(in + i, r);
    const __m256 lo = _mm256_unpacklo_ps(v, v);  // x0 x0 x1 x1 | x4 x4 x5 x5
    const __m256 hi = _mm256_unpackhi_ps(v, v);  // x2 x2 x3 x3 | x6 x6 x7 x7
    const __m256 first = _mm256_permute2f128_ps(lo, hi, 0x20);   // x0 x0 .. x3 x3
    const __m256 second = _mm256_permute2f128_ps(lo, hi, 0x31);  // x4 x4 .. x7 x7
    const int64_t n_out = 2 * r;
    const int64_t r0 = n_out < kLanesAvx2 ? n_out : kLanesAvx2;
    store_tail_avx2(out0 + 2 * i, r0, first);
    store_tail_avx2(out1 + 2 * i, r0, first);
    if (n_out > kLanesAvx2) {
      store_tail_avx2(out0 + 2 * i + kLanesAvx2, n_out - kLanesAvx2, second);
      store_tail_avx2(out1 + 2 * i + kLanesAvx2, n_out - kLanesAvx2, second);
    }
  }
}

}  // namespace aigc
