// RMSNorm, LayerNorm, GroupNorm: scalar references and dispatch.
#include "kernels/norm.h"

#include <cmath>

#include "core/assert.h"
#include "core/cpu_features.h"
#include "kernels/norm_isa.h"

namespace aigc {

void rms_norm_ref(float* out, const float* in, const float* weight, float eps, int64_t n_rows, int64_t n) {
  for (int64_t r = 0; r < n_rows; ++r) {
    const float* x = in + r * n;
    float* y = out + r * n;
    double sum_sq = 0.0;
    for (int64_t i = 0; i < n; ++i) sum_sq += double(x[i]) * x[i];
    const float rstd = float(1.0 / std::sqrt(sum_sq / double(n) + eps));
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] * rstd * (weight ? weight[i] : 1.0f);
  }
}

void layer_norm_ref(float* out, const float* in, const float* weight, const float* bias, float eps, int64_t n_rows,
                    int64_t n) {
  for (int64_t r = 0; r < n_rows; ++r) {
    const float* x = in + r * n;
    float* y = out + r * n;
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += x[i];
    const double mean = sum / double(n);
    double sum_sq = 0.0;
    for (int64_t i = 0; i < n; ++i) sum_sq += (x[i] - mean) * (x[i] - mean);
    const double rstd = 1.0 / std::sqrt(sum_sq / double(n) + eps);
    for (int64_t i = 0; i < n; ++i) {
      y[i] = float((x[i] - mean) * rstd) * (weight ? weight[i] : 1.0f) + (bias ? bias[i] : 0.0f);
    }
  }
}

void group_norm_ref(float* out, const float* in, const float* weight, const float* bias, float eps, int64_t N,
                    int64_t C, int64_t H, int64_t W, int64_t G) {
  AIGC_ASSERT(G > 0 && C % G == 0);
  const int64_t cpg = C / G;  // channels per group
  const int64_t hw = H * W;
  for (int64_t b = 0; b < N; ++b) {
    for (int64_t g = 0; g < G; ++g) {
      const int64_t base = (b * C + g * cpg) * hw;  // the group's channels are contiguous
      const int64_t count = cpg * hw;
      double sum = 0.0;
      for (int64_t i = 0; i < count; ++i) sum += in[base + i];
      const double mean = sum / double(count);
      double sum_sq = 0.0;
      for (int64_t i = 0; i < count; ++i) sum_sq += (in[base + i] - mean) * (in[base + i] - mean);
      const double rstd = 1.0 / std::sqrt(sum_sq / double(count) + eps);
      for (int64_t c = g * cpg; c < (g + 1) * cpg; ++c) {
        for (int64_t i = 0; i < hw; ++i) {
          const int64_t at = (b * C + c) * hw + i;
          out[at] = float((in[at] - mean) * rstd) * (weight ? weight[c] : 1.0f) + (bias ? bias[c] : 0.0f);
        }
      }
    }
  }
}

void rms_norm(float* out, const float* in, const float* weight, float eps, int64_t n_rows, int64_t n) {
  const Isa isa = active_isa();
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < n_rows; ++r) {
    switch (isa) {
      case Isa::kAvx512: rms_norm_row_avx512(out + r * n, in + r * n, weight, eps, n); break;
      case Isa::kAvx2: rms_norm_row_avx2(out + r * n, in + r * n, weight, eps, n); break;
      case Isa::kScalar: rms_norm_ref(out + r * n, in + r * n, weight, eps, 1, n); break;
    }
  }
}

void layer_norm(float* out, const float* in, const float* weight, const float* bias, float eps, int64_t n_rows,
                int64_t n) {
  const Isa isa = active_isa();
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < n_rows; ++r) {
    switch (isa) {
      case Isa::kAvx512: layer_norm_row_avx512(out + r * n, in + r * n, weight, bias, eps, n); break;
      case Isa::kAvx2: layer_norm_row_avx2(out + r * n, in + r * n, weight, bias, eps, n); break;
      case Isa::kScalar: layer_norm_ref(out + r * n, in + r * n, weight, bias, eps, 1, n); break;
    }
  }
}

void group_norm(float* out, const float* in, const float* weight, const float* bias, float eps, int64_t N, int64_t C,
                int64_t H, int64_t W, int64_t G) {
  AIGC_ASSERT(G > 0 && C % G == 0);
  const Isa isa = active_isa();
  const int64_t cpg = C / G;
  const int64_t hw = H * W;
#pragma omp parallel for schedule(static)
  for (int64_t bg = 0; bg < N * G; ++bg) {
    const int64_t b = bg / G, g = bg % G;
    const int64_t base = (b * C + g * cpg) * hw;
    const float* w = weight ? weight + g * cpg : nullptr;
    const float* bi = bias ? bias + g * cpg : nullptr;
    switch (isa) {
      case Isa::kAvx512: group_norm_group_avx512(out + base, in + base, w, bi, eps, cpg, hw); break;
      case Isa::kAvx2: group_norm_group_avx2(out + base, in + base, w, bi, eps, cpg, hw); break;
      case Isa::kScalar: group_norm_ref(out + base, in + base, w, bi, eps, 1, cpg, H, W, 1); break;
    }
  }
}

}  // namespace aigc
