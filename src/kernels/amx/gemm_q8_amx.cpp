// AMX (INT8) micro-kernel of gemm_q8 for 32-element blocks: per block, one
// TDPBSUD gives the 8 x 16 exact integer sums (signed activation quants x
// unsigned weight quants) that the AVX-512 kernel builds with 64 vpdpbusd;
// then the same two float multiply-adds per row, in the same order, so results are
// the same bits as gemm_q8_tile_scalar's. The panel block's quants
// (u[g][j][4]) are already the tile unit's layout for its second operand,
// and a tile's activations (8 rows of 32 bytes per block) for its first.
#include <immintrin.h>

#include "kernels/amx/amx_tile_config.h"
#include "kernels/gemm_q8_isa.h"

namespace aigc {

namespace {

// Tile 0: 8 rows x 16 int32 sums; tile 1: 8 rows x 32 activation bytes;
// tile 2: 8 rows x 64 weight bytes (4 elements of 16 rows each).
constexpr AmxTileConfig kConfig = {1, 0, {}, {64, 32, 64}, {kGemmQ8Mr, kGemmQ8Mr, 32 / 4}};

void tile(int64_t n_blk, const GemmQ8A& a, const uint8_t* panel, float* c, int64_t ldc, int accumulate) {
  alignas(64) int32_t sums[kGemmQ8Mr][kGemmQ8Nr];
  __m512 acc[kGemmQ8Mr];
#pragma GCC unroll 8
  for (int i = 0; i < kGemmQ8Mr; ++i) acc[i] = accumulate ? _mm512_loadu_ps(c + i * ldc) : _mm512_setzero_ps();
  for (int64_t blk = 0; blk < n_blk; ++blk) {
    const auto* pb = reinterpret_cast<const GemmQ8PanelBlock<32>*>(panel + blk * sizeof(GemmQ8PanelBlock<32>));
    _tile_zero(0);
    _tile_loadd(1, a.q + blk * kGemmQ8Mr * 32, 32);
    _tile_loadd(2, pb->u, 64);
    _tile_dpbsud(0, 1, 2);
    _tile_stored(0, sums, 64);
    const __m512 s = _mm512_load_ps(pb->s), neg_o = _mm512_xor_ps(_mm512_load_ps(pb->o), _mm512_set1_ps(-0.0f));
#pragma GCC unroll 8
    for (int i = 0; i < kGemmQ8Mr; ++i) {
      const __m512 scale = _mm512_mul_ps(s, _mm512_set1_ps(a.d[blk * kGemmQ8Mr + i]));
      acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(sums[i])), scale, acc[i]);
      acc[i] = _mm512_fmadd_ps(neg_o, _mm512_set1_ps(a.dsum[blk * kGemmQ8Mr + i]), acc[i]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < kGemmQ8Mr; ++i) _mm512_storeu_ps(c + i * ldc, acc[i]);
}

}  // namespace

void gemm_q8_configure_tiles_amx() { _tile_loadconfig(&kConfig); }

void gemm_q8_release_tiles_amx() { _tile_release(); }

void gemm_q8_tile_amx(int64_t n_blk, const GemmQ8A& a, const uint8_t* panel, float* c, int64_t ldc, int accumulate) {
  tile(n_blk, a, panel, c, ldc, accumulate);
}

}  // namespace aigc
