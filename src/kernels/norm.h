// Normalisations: RMSNorm and LayerNorm over rows, GroupNorm over NCHW maps
// (as torch.nn.GroupNorm).
//
// Legend: n_rows = rows, n = elements per row; N = batch, C = channels,
// H, W = height and width, G = groups (C is a multiple of G).
//
// Each op has a scalar reference (<op>_ref: the math, accumulated in double)
// and a dispatcher (<op>) that runs the AVX2 or AVX-512 variant chosen by
// active_isa(), threaded over rows (groups). Each row (group) is computed by
// one thread in a fixed order: results do not depend on the thread count.
// `out` may alias `in`. A null weight means 1, a null bias means 0.
#pragma once

#include <cstdint>

namespace aigc {

// out[r, i] = in[r, i] / sqrt(mean_i(in[r, :]^2) + eps) * weight[i]
void rms_norm_ref(float* out, const float* in, const float* weight, float eps, int64_t n_rows, int64_t n);
void rms_norm(float* out, const float* in, const float* weight, float eps, int64_t n_rows, int64_t n);

// out[r, i] = (in[r, i] - mean) / sqrt(var + eps) * weight[i] + bias[i]  (biased variance)
void layer_norm_ref(float* out, const float* in, const float* weight, const float* bias, float eps, int64_t n_rows,
                    int64_t n);
void layer_norm(float* out, const float* in, const float* weight, const float* bias, float eps, int64_t n_rows,
                int64_t n);

// out, in: [N, C, H, W]; weight, bias: [C]. Mean and biased variance per
// (sample, group of C/G channels), then a per-channel affine.
void group_norm_ref(float* out, const float* in, const float* weight, const float* bias, float eps, int64_t N,
                    int64_t C, int64_t H, int64_t W, int64_t G);
void group_norm(float* out, const float* in, const float* weight, const float* bias, float eps, int64_t N, int64_t C,
                int64_t H, int64_t W, int64_t G);

}  // namespace aigc
