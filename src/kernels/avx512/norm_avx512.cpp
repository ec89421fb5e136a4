// AVX-512 RMSNorm, LayerNorm and GroupNorm kernels (one row or group per call).
#include "kernels/avx512/ops_math_avx512.h"
#include "kernels/norm_isa.h"

namespace aigc {
namespace {

float sum_avx512(const float* x, int64_t n) {
  __m512 acc = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + kLanesAvx512 <= n; i += kLanesAvx512) acc = _mm512_add_ps(acc, _mm512_loadu_ps(x + i));
  if (i < n) acc = _mm512_add_ps(acc, load_tail_avx512(x + i, n - i));
  return hsum_avx512(acc);
}

// sum((x - mean)^2); the masked tail lanes load 0 and are masked out.
float sum_sq_dev_avx512(const float* x, float mean, int64_t n) {
  const __m512 m = _mm512_set1_ps(mean);
  __m512 acc = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + kLanesAvx512 <= n; i += kLanesAvx512) {
    const __m512 d = _mm512_sub_ps(_mm512_loadu_ps(x + i), m);
    acc = _mm512_fmadd_ps(d, d, acc);
  }
  if (i < n) {
    const __m512 d = _mm512_maskz_sub_ps(tail_mask_avx512(n - i), load_tail_avx512(x + i, n - i), m);
    acc = _mm512_fmadd_ps(d, d, acc);
  }
  return hsum_avx512(acc);
}

// y = (x - shift) * scale * w + b over n elements; null w means 1, null b means 0.
void affine_avx512(float* y, const float* x, float shift, float scale, const float* w, const float* b, int64_t n) {
  const __m512 vs = _mm512_set1_ps(shift), vk = _mm512_set1_ps(scale);
  int64_t i = 0;
  for (; i < n; i += kLanesAvx512) {
    const int64_t r = n - i < kLanesAvx512 ? n - i : kLanesAvx512;
    __m512 v = _mm512_mul_ps(_mm512_sub_ps(load_tail_avx512(x + i, r), vs), vk);
    if (w) v = _mm512_mul_ps(v, load_tail_avx512(w + i, r));
    if (b) v = _mm512_add_ps(v, load_tail_avx512(b + i, r));
    store_tail_avx512(y + i, r, v);
  }
}

}  // namespace

void rms_norm_row_avx512(float* out, const float* in, const float* weight, float eps, int64_t n) {
  const float ms = sum_sq_dev_avx512(in, 0.0f, n) / float(n);
  affine_avx512(out, in, 0.0f, 1.0f / __builtin_sqrtf(ms + eps), weight, nullptr, n);
}

void layer_norm_row_avx512(float* out, const float* in, const float* weight, const float* bias, float eps, int64_t n) {
  const float mean = sum_avx512(in, n) / float(n);
  const float var = sum_sq_dev_avx512(in, mean, n) / float(n);
  affine_avx512(out, in, mean, 1.0f / __builtin_sqrtf(var + eps), weight, bias, n);
}

void group_norm_group_avx512(float* out, const float* in, const float* weight, const float* bias, float eps,
                           int64_t channels, int64_t hw) {
  const int64_t count = channels * hw;
  const float mean = sum_avx512(in, count) / float(count);
  const float rstd = 1.0f / __builtin_sqrtf(sum_sq_dev_avx512(in, mean, count) / float(count) + eps);
  for (int64_t c = 0; c < channels; ++c) {
    const float w = weight ? weight[c] : 1.0f;
    const float b = bias ? bias[c] : 0.0f;
    // (x - mean) * rstd * w + b == x * a + (b - mean * a)
    const __m512 a = _mm512_set1_ps(rstd * w), s = _mm512_set1_ps(b - mean * rstd * w);
    const float* x = in + c * hw;
    float* y = out + c * hw;
    for (int64_t i = 0; i < hw; i += kLanesAvx512) {
      const int64_t r = hw - i < kLanesAvx512 ? hw - i : kLanesAvx512;
      store_tail_avx512(y + i, r, _mm512_fmadd_ps(load_tail_avx512(x + i, r), a, s));
    }
  }
}

}  // namespace aigc
