// AVX2 RMSNorm, LayerNorm and GroupNorm kernels (one row or group per call).
#include "kernels/avx2/ops_math_avx2.h"
#include "kernels/norm_isa.h"

namespace aigc {
namespace {

float sum_avx2(const float* x, int64_t n) {
  __m256 acc = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + kLanesAvx2 <= n; i += kLanesAvx2) acc = _mm256_add_ps(acc, _mm256_loadu_ps(x + i));
  if (i < n) acc = _mm256_add_ps(acc, load_tail_avx2(x + i, n - i));
  return hsum_avx2(acc);
}

// sum((x - mean)^2); the masked tail lanes load 0 and are masked out.
float sum_sq_dev_avx2(const float* x, float mean, int64_t n) {
  const __m256 m = _mm256_set1_ps(mean);
  __m256 acc = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + kLanesAvx2 <= n; i += kLanesAvx2) {
    const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(x + i), m);
    acc = _mm256_fmadd_ps(d, d, acc);
  }
  if (i < n) {
    const __m256 d = _mm256_and_ps(_mm256_sub_ps(load_tail_avx2(x + i, n - i), m),
                                   _mm256_castsi256_ps(tail_mask_avx2(n - i)));
    acc = _mm256_fmadd_ps(d, d, acc);
  }
  return hsum_avx2(acc);
}

// y = (x - shift) * scale * w + b over n elements; null w means 1, null b means 0.
void affine_avx2(float* y, const float* x, float shift, float scale, const float* w, const float* b, int64_t n) {
  const __m256 vs = _mm256_set1_ps(shift), vk = _mm256_set1_ps(scale);
  int64_t i = 0;
  for (; i < n; i += kLanesAvx2) {
    const int64_t r = n - i < kLanesAvx2 ? n - i : kLanesAvx2;
    __m256 v = _mm256_mul_ps(_mm256_sub_ps(load_tail_avx2(x + i, r), vs), vk);
    if (w) v = _mm256_mul_ps(v, load_tail_avx2(w + i, r));
    if (b) v = _mm256_add_ps(v, load_tail_avx2(b + i, r));
    store_tail_avx2(y + i, r, v);
  }
}

}  // namespace

void rms_norm_row_avx2(float* out, const float* in, const float* weight, float eps, int64_t n) {
  const float ms = sum_sq_dev_avx2(in, 0.0f, n) / float(n);
  affine_avx2(out, in, 0.0f, 1.0f / __builtin_sqrtf(ms + eps), weight, nullptr, n);
}

void layer_norm_row_avx2(float* out, const float* in, const float* weight, const float* bias, float eps, int64_t n) {
  const float mean = sum_avx2(in, n) / float(n);
  const float var = sum_sq_dev_avx2(in, mean, n) / float(n);
  affine_avx2(out, in, mean, 1.0f / __builtin_sqrtf(var + eps), weight, bias, n);
}

void group_norm_group_avx2(float* out, const float* in, const float* weight, const float* bias, float eps,
                           int64_t channels, int64_t hw) {
  const int64_t count = channels * hw;
  const float mean = sum_avx2(in, count) / float(count);
  const float rstd = 1.0f / __builtin_sqrtf(sum_sq_dev_avx2(in, mean, count) / float(count) + eps);
  for (int64_t c = 0; c < channels; ++c) {
    const float w = weight ? weight[c] : 1.0f;
    const float b = bias ? bias[c] : 0.0f;
    // (x - mean) * rstd * w + b == x * a + (b - mean * a)
    const __m256 a = _mm256_set1_ps(rstd * w), s = _mm256_set1_ps(b - mean * rstd * w);
    const float* x = in + c * hw;
    float* y = out + c * hw;
    for (int64_t i = 0; i < hw; i += kLanesAvx2) {
      const int64_t r = hw - i < kLanesAvx2 ? hw - i : kLanesAvx2;
      store_tail_avx2(y + i, r, _mm256_fmadd_ps(load_tail_avx2(x + i, r), a, s));
    }
  }
}

}  // namespace aigc
