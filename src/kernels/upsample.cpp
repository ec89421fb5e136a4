// Nearest 2x and bilinear upsampling: scalar references and dispatch.
#include "kernels/upsample.h"

#include <algorithm>

#include "core/cpu_features.h"
#include "kernels/upsample_isa.h"

namespace aigc {

void upsample_nearest2x_ref(float* out, const float* in, int64_t n_planes, int64_t H, int64_t W) {
  for (int64_t p = 0; p < n_planes; ++p) {
    for (int64_t y = 0; y < 2 * H; ++y) {
      for (int64_t x = 0; x < 2 * W; ++x) out[(p * 2 * H + y) * 2 * W + x] = in[(p * H + y / 2) * W + x / 2];
    }
  }
}

void upsample_nearest2x(float* out, const float* in, int64_t n_planes, int64_t H, int64_t W) {
  const Isa isa = active_isa();
#pragma omp parallel for schedule(static)
  for (int64_t row = 0; row < n_planes * H; ++row) {  // row = p * H + y
    float* out0 = out + row * 4 * W;                   // output row 2y of plane p
    float* out1 = out0 + 2 * W;
    const float* src = in + row * W;
    switch (isa) {
      case Isa::kAvx512: upsample_nearest2x_row_avx512(out0, out1, src, W); break;
      case Isa::kAvx2: upsample_nearest2x_row_avx2(out0, out1, src, W); break;
      case Isa::kScalar:
        for (int64_t x = 0; x < 2 * W; ++x) out0[x] = out1[x] = src[x / 2];
        break;
    }
  }
}

namespace {

// Bilinear taps of output index o along an axis of n_in inputs and n_out outputs.
struct Taps {
  int64_t i0, i1;
  float w1;  // weight of i1; i0 gets 1 - w1
};

Taps bilinear_taps(int64_t o, int64_t n_in, int64_t n_out) {
  const double src = std::max(0.0, (double(o) + 0.5) * double(n_in) / double(n_out) - 0.5);
  const int64_t i0 = std::min(int64_t(src), n_in - 1);
  return {i0, std::min(i0 + 1, n_in - 1), float(src - double(i0))};
}

}  // namespace

void upsample_bilinear_ref(float* out, const float* in, int64_t n_planes, int64_t H, int64_t W, int64_t OH,
                           int64_t OW) {
  for (int64_t p = 0; p < n_planes; ++p) {
    const float* src = in + p * H * W;
    for (int64_t y = 0; y < OH; ++y) {
      const Taps ty = bilinear_taps(y, H, OH);
      for (int64_t x = 0; x < OW; ++x) {
        const Taps tx = bilinear_taps(x, W, OW);
        const float top = src[ty.i0 * W + tx.i0] * (1.0f - tx.w1) + src[ty.i0 * W + tx.i1] * tx.w1;
        const float bottom = src[ty.i1 * W + tx.i0] * (1.0f - tx.w1) + src[ty.i1 * W + tx.i1] * tx.w1;
        out[(p * OH + y) * OW + x] = top * (1.0f - ty.w1) + bottom * ty.w1;
      }
    }
  }
}

void upsample_bilinear(float* out, const float* in, int64_t n_planes, int64_t H, int64_t W, int64_t OH, int64_t OW) {
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < n_planes; ++p) upsample_bilinear_ref(out + p * OH * OW, in + p * H * W, 1, H, W, OH, OW);
}

}  // namespace aigc
