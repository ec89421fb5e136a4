// The layouts and the ISA-specific micro-kernel behind gemm_q8.h
// (avx512/gemm_q8_avx512.cpp); only gemm_q8.cpp and its test use them.
//
// A weight panel holds kGemmQ8Nr rows of B for a run of 32-element blocks,
// one GemmQ8PanelBlock per block: the unsigned quants four elements at a
// time for all the panel's rows (u[g][j] = elements 4g..4g+3 of row j: one
// 64-byte register per g), then each row's scale s and offset o (w = s u - o).
// The quantized activations (GemmQ8A) are row-major: row i's quants at
// q + i * ld_q, its per-block d and d * sum(q) at d / dsum + i * ld_d.
//
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

struct GemmQ8PanelBlock {
  uint8_t u[kQK / 4][kGemmQ8Nr][4];
  float s[kGemmQ8Nr];
  float o[kGemmQ8Nr];
};
constexpr int64_t kGemmQ8BlockBytes = sizeof(GemmQ8PanelBlock);
static_assert(kGemmQ8BlockBytes % 64 == 0);

struct GemmQ8A {
  const int8_t* q;
  int64_t ld_q;
  const float* d;
  const float* dsum;
  int64_t ld_d;
};

void gemm_q8_tile_avx512(int64_t n_blk, const GemmQ8A& a, const uint8_t* panel, float* c, int64_t ldc,
                         int accumulate);

}  // namespace aigc
