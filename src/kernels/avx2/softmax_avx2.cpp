// AVX2 softmax of one row: z = x * scale + mask, then exp(z - max) / sum.
// Whole vectors use plain loads; only the last partial vector is masked.
#include "kernels/avx2/ops_math_avx2.h"
#include "kernels/softmax_isa.h"

namespace aigc {

void softmax_row_avx2(float* out, const float* in, const float* mask, float scale, int64_t n) {
  const __m256 vscale = _mm256_set1_ps(scale);
  const __m256 neg_inf = _mm256_set1_ps(-__builtin_inff());
  const int64_t n_full = n / kLanesAvx2 * kLanesAvx2, tail = n - n_full;
  __m256 vmax = neg_inf;
  for (int64_t i = 0; i < n_full; i += kLanesAvx2) {
    __m256 z = _mm256_mul_ps(_mm256_loadu_ps(in + i), vscale);
    if (mask) z = _mm256_add_ps(z, _mm256_loadu_ps(mask + i));
    _mm256_storeu_ps(out + i, z);
    vmax = _mm256_max_ps(vmax, z);
  }
  if (tail) {
    __m256 z = _mm256_mul_ps(load_tail_avx2(in + n_full, tail), vscale);
    if (mask) z = _mm256_add_ps(z, load_tail_avx2(mask + n_full, tail));
    store_tail_avx2(out + n_full, tail, z);
    vmax = _mm256_max_ps(vmax, _mm256_blendv_ps(neg_inf, z, _mm256_castsi256_ps(tail_mask_avx2(tail))));
  }
  const float max_z = hmax_avx2(vmax);
  if (max_z == -__builtin_inff()) {
    for (int64_t i = 0; i < n; i += kLanesAvx2) {
      store_tail_avx2(out + i, n - i < kLanesAvx2 ? n - i : kLanesAvx2, _mm256_setzero_ps());
    }
    return;
  }
  const __m256 vm = _mm256_set1_ps(max_z);
  __m256 vsum = _mm256_setzero_ps();
  for (int64_t i = 0; i < n_full; i += kLanesAvx2) {
    const __m256 e = exp_avx2(_mm256_sub_ps(_mm256_loadu_ps(out + i), vm));
    _mm256_storeu_ps(out + i, e);
    vsum = _mm256_add_ps(vsum, e);
  }
  if (tail) {
    const __m256 e = _mm256_and_ps(exp_avx2(_mm256_sub_ps(load_tail_avx2(out + n_full, tail), vm)),
                                   _mm256_castsi256_ps(tail_mask_avx2(tail)));
    store_tail_avx2(out + n_full, tail, e);
    vsum = _mm256_add_ps(vsum, e);
  }
  const __m256 inv = _mm256_set1_ps(1.0f / hsum_avx2(vsum));
  for (int64_t i = 0; i < n_full; i += kLanesAvx2) {
    _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_loadu_ps(out + i), inv));
  }
  if (tail) store_tail_avx2(out + n_full, tail, _mm256_mul_ps(load_tail_avx2(out + n_full, tail), inv));
}

}  // namespace aigc
