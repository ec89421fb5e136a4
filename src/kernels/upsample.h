// Upsampling of NCHW maps: nearest-neighbour 2x, as Stable Diffusion's
// Upsample block (torch.nn.functional.interpolate(x, scale_factor=2.0,
// mode="nearest")), and bilinear to any size (mode="bilinear",
// align_corners=False).
//
// Legend: P = planes (N * C), H, W = input height and width, OH, OW = output
// height and width.
//
// upsample_nearest2x_ref is the scalar reference; upsample_nearest2x
// dispatches to the AVX2 or AVX-512 variant chosen by active_isa(), threaded
// over input rows. Pure copies: every variant gives the same bits.
// Bilinear is scalar only (not on a hot path): upsample_bilinear threads the
// reference over planes, with the same bits.
#pragma once

#include <cstdint>

namespace aigc {

// in: [P, H, W]; out: [P, 2H, 2W]; out[p, y, x] = in[p, y / 2, x / 2].
void upsample_nearest2x_ref(float* out, const float* in, int64_t n_planes, int64_t H, int64_t W);
void upsample_nearest2x(float* out, const float* in, int64_t n_planes, int64_t H, int64_t W);

// in: [P, H, W]; out: [P, OH, OW]. Output pixel y samples input row
// (y + 0.5) * H / OH - 0.5 (clamped at 0), blending the two nearest rows
// linearly; likewise columns.
void upsample_bilinear_ref(float* out, const float* in, int64_t n_planes, int64_t H, int64_t W, int64_t OH,
                           int64_t OW);
void upsample_bilinear(float* out, const float* in, int64_t n_planes, int64_t H, int64_t W, int64_t OH, int64_t OW);

}  // namespace aigc
