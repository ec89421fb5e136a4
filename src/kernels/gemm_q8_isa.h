// The layouts and the ISA-specific micro-kernels behind gemm_q8.h
// (avx512/gemm_q8_avx512.cpp, amx/gemm_q8_amx.cpp, avx2/gemm_q8_avx2.cpp);
// only gemm_q8.cpp and its test use them.
//
// Blocks are of B elements: 32, or 16 for Q6_K, whose scales change every 16
// elements (the activations are then rounded per 16 too). A weight panel
// holds kGemmQ8Nr rows of B for a run of blocks, one GemmQ8PanelBlock<B> per
// block: the unsigned quants four elements at a time for all the panel's
// rows (u[g][j] = elements 4g..4g+3 of row j: one 64-byte register per g),
// then each row's scale s and offset o (w = s u - o).
// The quantized activations (GemmQ8A) are packed by tiles of kGemmQ8Mr
// rows, block by block: in a tile, block b of row i has its B quants at
// q + (b * kGemmQ8Mr + i) * B and its d and d * sum(q) at
// d / dsum + b * kGemmQ8Mr + i (so a tile reads its activations in order).
//
// The activations are quantized by gemm_q8_quantize_row_* (below).
// The micro-kernel computes one kGemmQ8Mr x kGemmQ8Nr tile of C over n_blk
// blocks: for each block, the exact integer sums isum[i][j] = sum u q, then
//   acc = fma(float(isum), s_j * d_i, acc);  acc = fma(-o_j, dsum_i, acc)
// (accumulating onto C where `accumulate`), blocks in order.
#pragma once

#include <cstdint>

#include "core/quant_blocks.h"

namespace aigc {

constexpr int64_t kGemmQ8Mr = 8;
constexpr int64_t kGemmQ8Nr = 16;

template <int B>
struct GemmQ8PanelBlock {
  uint8_t u[B / 4][kGemmQ8Nr][4];
  float s[kGemmQ8Nr];
  float o[kGemmQ8Nr];
};
static_assert(sizeof(GemmQ8PanelBlock<32>) % 64 == 0 && sizeof(GemmQ8PanelBlock<16>) % 64 == 0);

struct GemmQ8A {
  const int8_t* q;
  const float* d;
  const float* dsum;
};

// Blocks of 32 and of 16 elements.
void gemm_q8_tile_avx512(int64_t n_blk, const GemmQ8A& a, const uint8_t* panel, float* c, int64_t ldc,
                         int accumulate);
void gemm_q8_tile16_avx512(int64_t n_blk, const GemmQ8A& a, const uint8_t* panel, float* c, int64_t ldc,
                           int accumulate);

// AVX2 (avx2/gemm_q8_avx2.cpp), bit for bit as well; vpmaddubsw's 16-bit
// sums need a kernel per quant width: u4 for 4-bit quants (Q4_0, Q4_1,
// Q4_K), u5 for 5-bit (Q5_0, Q5_1, Q5_K), 16_u6 for Q6_K.
void gemm_q8_tile_u4_avx2(int64_t n_blk, const GemmQ8A& a, const uint8_t* panel, float* c, int64_t ldc,
                          int accumulate);
void gemm_q8_tile_u5_avx2(int64_t n_blk, const GemmQ8A& a, const uint8_t* panel, float* c, int64_t ldc,
                          int accumulate);
void gemm_q8_tile16_u6_avx2(int64_t n_blk, const GemmQ8A& a, const uint8_t* panel, float* c, int64_t ldc,
                            int accumulate);

// The same for blocks of 32 on the AMX tile unit (amx/gemm_q8_amx.cpp;
// only where amx_usable()), bit for bit: each thread configures its tiles
// once before its first tile call, and releases them after.
void gemm_q8_configure_tiles_amx();
void gemm_q8_release_tiles_amx();
void gemm_q8_tile_amx(int64_t n_blk, const GemmQ8A& a, const uint8_t* panel, float* c, int64_t ldc, int accumulate);

// One row of k activations (k a multiple of B) to quants, per B-element
// block d = amax / 127, q = x * (1 / d) rounded to nearest even, and
// dsum = d * sum(q), block b at q + b * kGemmQ8Mr * B, d + b * kGemmQ8Mr and
// dsum + b * kGemmQ8Mr (a row of the tile layout above): the same bytes and
// floats as the scalar quantizer in gemm_q8.cpp. B = 32 and 16.
void gemm_q8_quantize_row_avx512(const float* x, int64_t k, int8_t* q, float* d, float* dsum);
void gemm_q8_quantize_row16_avx512(const float* x, int64_t k, int8_t* q, float* d, float* dsum);
void gemm_q8_quantize_row_avx2(const float* x, int64_t k, int8_t* q, float* d, float* dsum);
void gemm_q8_quantize_row16_avx2(const float* x, int64_t k, int8_t* q, float* d, float* dsum);

}  // namespace aigc
