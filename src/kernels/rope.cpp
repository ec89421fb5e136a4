// RoPE: scalar reference and dispatch.
#include "kernels/rope.h"

#include <cmath>
#include <vector>

#include "core/assert.h"
#include "core/cpu_features.h"
#include "kernels/rope_isa.h"

namespace aigc {

namespace {

double rope_theta(int32_t pos, const RopeParams& p, int64_t i, int64_t n_rot) {
  const double theta = double(pos) * double(p.freq_scale) * std::pow(double(p.freq_base), -2.0 * double(i) / double(n_rot));
  return p.freq_factors ? theta / double(p.freq_factors[i]) : theta;
}

}  // namespace

void rope_ref(float* x, const int32_t* pos, const RopeParams& p, int64_t n_tokens, int64_t n_head, int64_t head_dim) {
  const int64_t n_rot = p.n_rot > 0 ? p.n_rot : head_dim;
  AIGC_ASSERT(n_rot % 2 == 0 && n_rot <= head_dim);
  const RopeMode mode = p.mode;
  const int64_t half = n_rot / 2;
  for (int64_t t = 0; t < n_tokens; ++t) {
    for (int64_t h = 0; h < n_head; ++h) {
      float* v = x + (t * n_head + h) * head_dim;
      for (int64_t i = 0; i < half; ++i) {
        const double theta = rope_theta(pos[t], p, i, n_rot);
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

void rope(float* x, const int32_t* pos, const RopeParams& p, int64_t n_tokens, int64_t n_head, int64_t head_dim) {
  const int64_t n_rot = p.n_rot > 0 ? p.n_rot : head_dim;
  AIGC_ASSERT(n_rot % 2 == 0 && n_rot <= head_dim);
  const Isa isa = active_isa();
  if (isa == Isa::kScalar) {
    rope_ref(x, pos, p, n_tokens, n_head, head_dim);
    return;
  }
  const RopeMode mode = p.mode;
  const int64_t half = n_rot / 2;
#pragma omp parallel
  {
    std::vector<float> c(static_cast<size_t>(n_rot)),
        s(static_cast<size_t>(n_rot));  // per-token tables (rope_isa.h)
#pragma omp for schedule(static)
    for (int64_t t = 0; t < n_tokens; ++t) {
      for (int64_t i = 0; i < half; ++i) {
        const double theta = rope_theta(pos[t], p, i, n_rot);
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
          if (mode == RopeMode::kNormal) rope_normal_head_avx512(v, c.data(), s.data(), n_rot);
          else rope_neox_head_avx512(v, c.data(), s.data(), n_rot);
        } else {
          if (mode == RopeMode::kNormal) rope_normal_head_avx2(v, c.data(), s.data(), n_rot);
          else rope_neox_head_avx2(v, c.data(), s.data(), n_rot);
        }
      }
    }
  }
}

void rope_ref(float* x, const int32_t* pos, RopeMode mode, float freq_base, float freq_scale, int64_t n_tokens,
              int64_t n_head, int64_t head_dim) {
  rope_ref(x, pos, RopeParams{mode, freq_base, freq_scale, 0, nullptr}, n_tokens, n_head, head_dim);
}

void rope(float* x, const int32_t* pos, RopeMode mode, float freq_base, float freq_scale, int64_t n_tokens,
          int64_t n_head, int64_t head_dim) {
  rope(x, pos, RopeParams{mode, freq_base, freq_scale, 0, nullptr}, n_tokens, n_head, head_dim);
}

}  // namespace aigc
