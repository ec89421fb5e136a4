// 3x3 convolution, stride 1, padding 1 (most of the FLOPs of Stable
// Diffusion's UNet and VAE) by Winograd's F(2x2, 3x3) (Lavin & Gray, 2015):
// per 2x2 output tile
//   Y = A^T [ sum_ci (G g G^T) . (B^T d B) ] A
// with d the 4x4 input patch and g the 3x3 kernel: 16 multiplies instead of
// 36, as 16 GEMMs U[xi] [C_out, C_in] x V[xi] [C_in, tiles] between the input
// and output transforms. The reference is conv2d_ref (conv2d.h): this
// computes the same convolution up to float rounding of the transforms.
//
// Legend: N = batch, C_in / C_out = input / output channels, H, W = map size
// (any, odd included: tiles past the edge read zeros and are cropped).
//
// U = G g G^T is computed per call into a buffer of the calling thread kept
// between calls (16 C_out C_in floats: 26 MB at 640 x 640 channels). Threads
// take fixed chunks of at most 128 tiles of one sample, each transformed,
// multiplied (conv2d's micro-kernels, U read in place) and transformed back
// by one thread (scratch 16 (C_in + C_out) 128 floats per thread): results are
// bit-identical for any thread count.
// Where amx_usable(), the 16 GEMMs run on AMX tiles instead (gemm_amx_isa.h):
// U (split once per call, 16 C_out C_in bf16 pairs more) and V each in two
// bf16 parts, the three products of gemm_amx's F16 path, so each element of
// M is within 2^-15 sum_ci |U V| (plus float rounding) of the exact product;
// through the transforms, |error| <= 2^-15 * 81 * C_in * max |g| * max |d|
// (the tests check this bound and exact results where every part is
// representable).
#pragma once

#include <cstdint>

#include "core/dtype.h"

namespace aigc {

// out: [N, C_out, H, W]; in: [N, C_in, H, W]; weight: [C_out, C_in, 3, 3] of
// weight_type (F32, F16 or BF16); bias: [C_out] or null. out must not alias in.
void conv3x3_winograd(float* out, const float* in, const void* weight, DType weight_type, const float* bias,
                      int64_t n, int64_t c_in, int64_t c_out, int64_t h, int64_t w);

}  // namespace aigc
