// Softmax over rows: scalar reference and dispatch.
#include "kernels/softmax.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/cpu_features.h"
#include "kernels/softmax_isa.h"

namespace aigc {

void softmax_ref(float* out, const float* in, const float* mask, float scale, int64_t n_rows, int64_t n) {
  for (int64_t r = 0; r < n_rows; ++r) {
    const float* x = in + r * n;
    const float* m = mask ? mask + r * n : nullptr;
    float* y = out + r * n;
    float max_z = -std::numeric_limits<float>::infinity();
    for (int64_t i = 0; i < n; ++i) {
      y[i] = x[i] * scale + (m ? m[i] : 0.0f);
      max_z = std::max(max_z, y[i]);
    }
    if (max_z == -std::numeric_limits<float>::infinity()) {
      for (int64_t i = 0; i < n; ++i) y[i] = 0.0f;
      continue;
    }
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      y[i] = std::exp(y[i] - max_z);
      sum += y[i];
    }
    const float inv = float(1.0 / sum);
    for (int64_t i = 0; i < n; ++i) y[i] *= inv;
  }
}

void softmax(float* out, const float* in, const float* mask, float scale, int64_t n_rows, int64_t n) {
  const Isa isa = active_isa();
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < n_rows; ++r) {
    const float* m = mask ? mask + r * n : nullptr;
    switch (isa) {
      case Isa::kAvx512: softmax_row_avx512(out + r * n, in + r * n, m, scale, n); break;
      case Isa::kAvx2: softmax_row_avx2(out + r * n, in + r * n, m, scale, n); break;
      case Isa::kScalar: softmax_ref(out + r * n, in + r * n, m, scale, 1, n); break;
    }
  }
}

}  // namespace aigc
