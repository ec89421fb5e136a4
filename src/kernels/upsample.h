// Nearest-neighbour 2x upsampling of NCHW maps, as Stable Diffusion's
// Upsample block (torch.nn.functional.interpolate(x, scale_factor=2.0,
// mode="nearest")).
//
// Legend: P = planes (N * C), H, W = input height and width.
// in: [P, H, W]; out: [P, 2H, 2W]; out[p, y, x] = in[p, y / 2, x / 2].
//
// upsample_nearest2x_ref is the scalar reference; upsample_nearest2x
// dispatches to the AVX2 or AVX-512 variant chosen by active_isa(), threaded
// over input rows. Pure copies: every variant gives the same bits.
#pragma once

#include <cstdint>

namespace aigc {

void upsample_nearest2x_ref(float* out, const float* in, int64_t n_planes, int64_t H, int64_t W);
void upsample_nearest2x(float* out, const float* in, int64_t n_planes, int64_t H, int64_t W);

}  // namespace aigc
