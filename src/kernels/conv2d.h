// 2D convolution of NCHW maps, as torch.nn.functional.conv2d with
// dilation 1 and groups 1 (the convolutions of Stable Diffusion's UNet and VAE).
//
// Legend: N = batch, C_in / C_out = input / output channels, H, W = input
// height and width, KH, KW = kernel size, OH, OW = output size:
//   OH = (H + 2 pad - KH) / stride + 1,  OW = (W + 2 pad - KW) / stride + 1.
//
// out[n, co, oy, ox] = bias[co] + sum_{ci, ky, kx} weight[co, ci, ky, kx]
//                      * in[n, ci, oy * stride - pad + ky, ox * stride - pad + kx]
// (taps outside the input read 0).
//
// conv2d_ref is the scalar reference (double accumulation). conv2d is the
// optimised path: im2col columns packed on the fly in panels of nr pixels, the
// weights used as stored (F32 rows read in place; F16 / BF16 blocks of 6
// output channels x 256 taps converted per work piece with F16C / AVX2, so
// nothing is packed per call or kept at load), multiplied by a
// register-blocked AVX2 / AVX-512 GEMM micro-kernel (chosen by active_isa()),
// threaded over (samples, pixel tile, channel block) pieces in one parallel
// region. Each output element is accumulated in the
// same order whatever the thread count, so results are bit-identical across
// thread counts. Where amx_usable(), the GEMM runs on AMX tiles instead
// (gemm_amx_isa.h): weights split once per call into bf16 parts (F32 three,
// F16 two, BF16 one), each piece's im2col block into 16-pixel groups (three
// parts against F32 weights: F32-grade; two otherwise: |error| <= 2^-15
// sum |w x| plus float rounding).
#pragma once

#include <cstdint>

#include "core/dtype.h"

namespace aigc {

struct Conv2dShape {
  int64_t n = 1, c_in = 1, h = 1, w = 1;  // input [N, C_in, H, W]
  int64_t c_out = 1, kh = 1, kw = 1;      // weight [C_out, C_in, KH, KW]
  int64_t stride = 1, pad = 0;
  int64_t out_h() const { return (h + 2 * pad - kh) / stride + 1; }
  int64_t out_w() const { return (w + 2 * pad - kw) / stride + 1; }
};

// out: [N, C_out, OH, OW]; in: [N, C_in, H, W]; weight: [C_out, C_in, KH, KW]
// of weight_type (F32, F16 or BF16); bias: [C_out] or null. The shape must
// give OH, OW >= 1; out must not alias in.
void conv2d_ref(float* out, const float* in, const void* weight, DType weight_type, const float* bias,
                const Conv2dShape& s);
void conv2d(float* out, const float* in, const void* weight, DType weight_type, const float* bias,
            const Conv2dShape& s);

// dst[i] = src[i] as float for n weights of `type` (F32, F16 or BF16), with
// F16C / AVX2 conversions where the CPU has them (exact either way).
void conv2d_weights_to_float(const void* src, DType type, float* dst, int64_t n);

// For the AMX paths (only where amx_usable()): the rows of a [rows][k] matrix
// of `type` (F32, F16 or BF16) split into n_parts bf16 parts as the tiles'
// weight rows (gemm_amx_isa.h), zero-padded to rows_pad x k_pad (k_pad a
// multiple of 32): part p of row r at parts + p * part_stride + r * k_pad.
// Runs its own parallel region (call it outside one).
void conv2d_weights_to_amx_parts(const void* w, DType type, int64_t rows, int64_t k, int64_t rows_pad, int64_t k_pad,
                                 int n_parts, int64_t part_stride, uint16_t* parts);

}  // namespace aigc
