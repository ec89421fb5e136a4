// AVX2 RoPE rotation of one head (tables as described in rope_isa.h).
#include "kernels/avx2/ops_math_avx2.h"
#include "kernels/rope_isa.h"

namespace aigc {

void rope_normal_head_avx2(float* x, const float* c, const float* s, int64_t d) {
  for (int64_t i = 0; i < d; i += kLanesAvx2) {
    const int64_t r = d - i < kLanesAvx2 ? d - i : kLanesAvx2;  // even: pairs never straddle a vector
    const __m256 v = load_tail_avx2(x + i, r);
    const __m256 swapped = _mm256_permute_ps(v, 0xB1);  // (x1, x0, x3, x2, ...)
    const __m256 y = _mm256_fmadd_ps(v, load_tail_avx2(c + i, r), _mm256_mul_ps(swapped, load_tail_avx2(s + i, r)));
    store_tail_avx2(x + i, r, y);
  }
}

void rope_neox_head_avx2(float* x, const float* c, const float* s, int64_t d) {
  const int64_t half = d / 2;
  for (int64_t i = 0; i < half; i += kLanesAvx2) {
    const int64_t r = half - i < kLanesAvx2 ? half - i : kLanesAvx2;
    const __m256 a = load_tail_avx2(x + i, r), b = load_tail_avx2(x + half + i, r);
    const __m256 vc = load_tail_avx2(c + i, r), vs = load_tail_avx2(s + i, r);
    store_tail_avx2(x + i, r, _mm256_fmsub_ps(a, vc, _mm256_mul_ps(b, vs)));
    store_tail_avx2(x + half + i, r, _mm256_fmadd_ps(b, vc, _mm256_mul_ps(a, vs)));
  }
}

}  // namespace aigc
