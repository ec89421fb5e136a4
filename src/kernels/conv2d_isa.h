// The GEMM micro-kernels behind conv2d (avx2/conv2d_avx2.cpp,
// avx512/conv2d_avx512.cpp); conv2d.cpp, winograd_conv3x3.cpp and
// attention_gemm.cpp call them.
//
// c[r * ldc + j] += sum_k a[r][k] * b[k * ldb + j] for r < kConvMr, j < nr,
// k < kc, one fused multiply-add per k in order: a holds kConvMr row pointers
// (weights of kConvMr output channels, kc taps each), b a slice of nr im2col
// columns in a [kc][ldb] block, c a tile of the output.
#pragma once

#include <cstdint>

namespace aigc {

constexpr int64_t kConvMr = 6;           // output channels per micro-tile
constexpr int64_t kConvNrAvx2 = 16;      // pixels per micro-tile, AVX2
constexpr int64_t kConvNrAvx512 = 32;    // pixels per micro-tile, AVX-512

// conv2d.cpp's portable variant (nr = kConvNrAvx2).
void conv_gemm_tile_scalar(int64_t kc, const float* const* a, const float* b, int64_t ldb, float* c, int64_t ldc);
void conv_gemm_tile_avx2(int64_t kc, const float* const* a, const float* b, int64_t ldb, float* c, int64_t ldc);
void conv_gemm_tile_avx512(int64_t kc, const float* const* a, const float* b, int64_t ldb, float* c, int64_t ldc);

}  // namespace aigc
