// Nearest 2x upsampling: scalar reference and dispatch.
#include "kernels/upsample.h"

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

}  // namespace aigc
