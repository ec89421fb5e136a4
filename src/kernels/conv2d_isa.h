// The GEMM micro-kernels behind conv2d (avx2/conv2d_avx2.cpp,
// avx512/conv2d_avx512.cpp); only conv2d.cpp calls them.
//
// c[r * ldc + j] += sum_k a[k * kConvMr + r] * b[k * ldb + j] for r < kConvMr,
// j < nr, k < kc: a is a packed [kc][kConvMr] slice of weights, b a slice of
// nr im2col columns in a [kc][ldb] block, c a tile of the output.
#pragma once

#include <cstdint>

namespace aigc {

constexpr int64_t kConvMr = 6;           // output channels per micro-tile
constexpr int64_t kConvNrAvx2 = 16;      // pixels per micro-tile, AVX2
constexpr int64_t kConvNrAvx512 = 32;    // pixels per micro-tile, AVX-512

void conv_gemm_tile_avx2(int64_t kc, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc);
void conv_gemm_tile_avx512(int64_t kc, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc);

}  // namespace aigc
