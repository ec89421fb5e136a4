// AVX-512 RoPE rotation of one head (tables as described in rope_isa.h).
#include "kernels/avx512/ops_math_avx512.h"
#include "kernels/rope_isa.h"

namespace aigc {

void rope_normal_head_avx512(float* x, const float* c, const float* s, int64_t d) {
  for (int64_t i = 0; i < d; i += kLanesAvx512) {
    const int64_t r = d - i < kLanesAvx512 ? d - i : kLanesAvx512;  // even: pairs never straddle a vector
    const __m512 v = load_tail_avx512(x + i, r);
    const __m512 swapped = _mm512_permute_ps(v, 0xB1);  // (x1, x0, x3, x2, ...)
    const __m512 y = _mm512_fmadd_ps(v, load_tail_avx512(c + i, r), _mm512_mul_ps(swapped, load_tail_avx512(s + i, r)));
    store_tail_avx512(x + i, r, y);
  }
}

void rope_neox_head_avx512(float* x, const float* c, const float* s, int64_t d) {
  const int64_t half = d / 2;
  for (int64_t i = 0; i < half; i += kLanesAvx512) {
    const int64_t r = half - i < kLanesAvx512 ? half - i : kLanesAvx512;
    const __m512 a = load_tail_avx512(x + i, r), b = load_tail_avx512(x + half + i, r);
    const __m512 vc = load_tail_avx512(c + i, r), vs = load_tail_avx512(s + i, r);
    store_tail_avx512(x + i, r, _mm512_fmsub_ps(a, vc, _mm512_mul_ps(b, vs)));
    store_tail_avx512(x + half + i, r, _mm512_fmadd_ps(b, vc, _mm512_mul_ps(a, vs)));
  }
}

}  // namespace aigc
