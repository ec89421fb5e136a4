// AVX-512 element-wise add, mul and scale.
#include "kernels/avx512/ops_math_avx512.h"
#include "kernels/elementwise_isa.h"

namespace aigc {

void elementwise_add_avx512(float* out, const float* a, const float* b, int64_t n) {
  int64_t i = 0;
  for (; i + kLanesAvx512 <= n; i += kLanesAvx512) {
    _mm512_storeu_ps(out + i, _mm512_add_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i)));
  }
  if (i < n)
    store_tail_avx512(out + i, n - i, _mm512_add_ps(load_tail_avx512(a + i, n - i), load_tail_avx512(b + i, n - i)));
}

void elementwise_mul_avx512(float* out, const float* a, const float* b, int64_t n) {
  int64_t i = 0;
  for (; i + kLanesAvx512 <= n; i += kLanesAvx512) {
    _mm512_storeu_ps(out + i, _mm512_mul_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i)));
  }
  if (i < n)
    store_tail_avx512(out + i, n - i, _mm512_mul_ps(load_tail_avx512(a + i, n - i), load_tail_avx512(b + i, n - i)));
}

void elementwise_scale_avx512(float* out, const float* in, float s, int64_t n) {
  const __m512 vs = _mm512_set1_ps(s);
  int64_t i = 0;
  for (; i + kLanesAvx512 <= n; i += kLanesAvx512)
    _mm512_storeu_ps(out + i, _mm512_mul_ps(_mm512_loadu_ps(in + i), vs));
  if (i < n) store_tail_avx512(out + i, n - i, _mm512_mul_ps(load_tail_avx512(in + i, n - i), vs));
}

}  // namespace aigc
