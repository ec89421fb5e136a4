// RoPE: scalar reference and dispatch.
#include "kernels/rope.h"

#include <cmath>
#include <vector>

#include "core/assert.h"
#include "core/cpu_features.h"
#include "kernels/rope_isa.h"

namespace aigc {

namespace {

double rope_theta(int32_t pos, float freq_base, float freq_scale, int64_t i, int64_t head_dim) {
  return double(pos) * double(freq_scale) * std::pow(double(freq_base), -2.0 * double(i) / double(head_dim));
}

}  // namespace

void rope_ref(float* x, const int32_t* pos, RopeMode mode, float freq_base, float freq_scale, int64_t n_tokens,
              int64_t n_head, int64_t head_dim) {
  AIGC_ASSERT(head_dim % 2 == 0);
  const int64_t half = head_dim / 2;
  for (int64_t t = 0; t < n_tokens; ++t) {
    for (int64_t h = 0; h < n_head; ++h) {
      float* v = x + (t * n_head + h) * head_dim;
      for (int64_t i = 0; i < half; ++i) {
        const double theta = rope_theta(pos[t], freq_base, freq_scale, i, head_dim);
        const float c = float(std::cos(theta)), s = float(std::sin(theta));
        const int64_t ia = mode == RopeMode::kNormal ? 2 * i : i;
        const int64_t ib = mode == RopeMode::kNormal ? 2 * i + 1 : i + half;
        const float a = v[ia], b = v[ib];
        v[ia] = a * c - b * s;
        v[ib] = a * s + b * c;
      }
    }
  }
}

void rope(float* x, const int32_t* pos, RopeMode mode, float freq_base, float freq_scale, int64_t n_tokens,
          int64_t n_head, int64_t head_dim) {
  AIGC_ASSERT(head_dim % 2 == 0);
  const Isa isa = active_isa();
  if (isa == Isa::kScalar) {
    rope_ref(x, pos, mode, freq_base, freq_scale, n_tokens, n_head, head_dim);
    return;
  }
  const int64_t half = head_dim / 2;
#pragma omp parallel
  {
    std::vector<float> c(static_cast<size_t>(head_dim)),
        s(static_cast<size_t>(head_dim));  // per-token tables (rope_isa.h)
#pragma omp for schedule(static)
    for (int64_t t = 0; t < n_tokens; ++t) {
      for (int64_t i = 0; i < half; ++i) {
        const double theta = rope_theta(pos[t], freq_base, freq_scale, i, head_dim);
        const float ci = float(std::cos(theta)), si = float(std::sin(theta));
        if (mode == RopeMode::kNormal) {
          c[2 * i] = c[2 * i + 1] = ci;
          s[2 * i] = -si;
          s[2 * i + 1] = si;
        } else {
          c[i] = ci;
          s[i] = si;
        }
      }
      for (int64_t h = 0; h < n_head; ++h) {
        float* v = x + (t * n_head + h) * head_dim;
        if (isa == Isa::kAvx512) {
          if (mode == RopeMode::kNormal) rope_normal_head_avx512(v, c.data(), s.data(), head_dim);
          else rope_neox_head_avx512(v, c.data(), s.data(), head_dim);
        } else {
          if (mode == RopeMode::kNormal) rope_normal_head_avx2(v, c.data(), s.data(), head_dim);
          else rope_neox_head_avx2(v, c.data(), s.data(), head_dim);
        }
      }
    }
  }
}

}  // namespace aigc
