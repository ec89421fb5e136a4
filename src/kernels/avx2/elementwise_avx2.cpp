// AVX2 element-wise add, mul and scale.
#include "kernels/avx2/ops_math_avx2.h"
#include "kernels/elementwise_isa.h"

namespace aigc {

void elementwise_add_avx2(float* out, const float* a, const float* b, int64_t n) {
  int64_t i = 0;
  for (; i + kLanesAvx2 <= n; i += kLanesAvx2) {
    _mm256_storeu_ps(out + i, _mm256_add_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
  }
  if (i < n) store_tail_avx2(out + i, n - i, _mm256_add_ps(load_tail_avx2(a + i, n - i), load_tail_avx2(b + i, n - i)));
}

void elementwise_mul_avx2(float* out, const float* a, const float* b, int64_t n) {
  int64_t i = 0;
  for (; i + kLanesAvx2 <= n; i += kLanesAvx2) {
    _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
  }
  if (i < n) store_tail_avx2(out + i, n - i, _mm256_mul_ps(load_tail_avx2(a + i, n - i), load_tail_avx2(b + i, n - i)));
}

void elementwise_scale_avx2(float* out, const float* in, float s, int64_t n) {
  const __m256 vs = _mm256_set1_ps(s);
  int64_t i = 0;
  for (; i + kLanesAvx2 <= n; i += kLanesAvx2) _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_loadu_ps(in + i), vs));
  if (i < n) store_tail_avx2(out + i, n - i, _mm256_mul_ps(load_tail_avx2(in + i, n - i), vs));
}

}  // namespace aigc
