// AMX micro-kernel of gemm_amx (TDPBF16PS on 16 x 16 F32 tiles) and the
// AVX-512 BF16 conversions that split floats into bf16 hi + lo pairs.
#include <immintrin.h>

#include "kernels/gemm_amx_isa.h"

namespace aigc {

namespace {

// Every tile 16 rows x 64 bytes. A constant in memory: GCC 12's
// _tile_loadconfig tells the compiler it reads only the first 8 bytes, so
// the stores filling a local config could be dropped as dead.
struct alignas(64) TileConfig {
  uint8_t palette;
  uint8_t start_row;
  uint8_t reserved[14];
  uint16_t bytes_per_row[16];
  uint8_t rows[16];
};
constexpr TileConfig kTileConfig = {1, 0, {}, {64, 64, 64, 64, 64, 64, 64, 64}, {16, 16, 16, 16, 16, 16, 16, 16}};

// hi = bf16(x), lo = bf16(x - hi) for 32 floats, as two vectors of 32 bf16
// (element i of each is x[i]'s part).
void split32(__m512 x0, __m512 x1, __m512i& hi, __m512i& lo) {
  hi = __m512i(_mm512_cvtne2ps_pbh(x1, x0));
  const __m512 h0 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm512_castsi512_si256(hi)), 16));
  const __m512 h1 =
      _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(hi, 1)), 16));
  lo = __m512i(_mm512_cvtne2ps_pbh(_mm512_sub_ps(x1, h1), _mm512_sub_ps(x0, h0)));
}

}  // namespace

void gemm_amx_configure_tiles() { _tile_loadconfig(&kTileConfig); }

void gemm_amx_release_tiles() { _tile_release(); }

// Tiles: 0-3 accumulate ct (rows 0-15 | 16-31) x (tokens 0-15 | 16-31);
// 4, 5 hold 16 weight rows each; 6, 7 one group of 16 tokens each.
void gemm_amx_tile_32x32(int64_t kc, const uint16_t* w_hi, const uint16_t* w_lo, int64_t ldw, const uint16_t* a_hi,
                         const uint16_t* a_lo, int64_t group_stride, float* ct, int64_t ldct, int accumulate) {
  const int64_t w_stride = ldw * 2, c_stride = ldct * 4;
  float* c1 = ct + 16 * ldct;
  if (accumulate) {
    _tile_loadd(0, ct, c_stride);
    _tile_loadd(1, ct + 16, c_stride);
    _tile_loadd(2, c1, c_stride);
    _tile_loadd(3, c1 + 16, c_stride);
  } else {
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
  }
  // Each load goes right before the first product that reads it, so that
  // it overlaps the products still running on the other tiles.
  for (int64_t p = 0; p < kc; p += 32) {
    const uint16_t* a0_hi = a_hi + p * 16;  // 16 tokens x 32 values of k per step
    const uint16_t* a0_lo = a_lo + p * 16;
    _tile_loadd(4, w_hi + p, w_stride);
    _tile_loadd(6, a0_hi, 64);
    _tile_dpbf16ps(0, 4, 6);
    _tile_loadd(7, a0_hi + group_stride, 64);
    _tile_dpbf16ps(1, 4, 7);
    _tile_loadd(5, w_hi + 16 * ldw + p, w_stride);
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
    _tile_loadd(6, a0_lo, 64);
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(2, 5, 6);
    _tile_loadd(7, a0_lo + group_stride, 64);
    _tile_dpbf16ps(1, 4, 7);
    _tile_dpbf16ps(3, 5, 7);
    if (w_lo != nullptr) {
      _tile_loadd(4, w_lo + p, w_stride);
      _tile_loadd(6, a0_hi, 64);
      _tile_dpbf16ps(0, 4, 6);
      _tile_loadd(7, a0_hi + group_stride, 64);
      _tile_dpbf16ps(1, 4, 7);
      _tile_loadd(5, w_lo + 16 * ldw + p, w_stride);
      _tile_dpbf16ps(2, 5, 6);
      _tile_dpbf16ps(3, 5, 7);
    }
  }
  _tile_stored(0, ct, c_stride);
  _tile_stored(1, ct + 16, c_stride);
  _tile_stored(2, c1, c_stride);
  _tile_stored(3, c1 + 16, c_stride);
}

void gemm_amx_split_row(const float* x, int64_t n, uint16_t* hi, uint16_t* lo) {
  for (int64_t i = 0; i < n; i += 32) {
    __m512i h, l;
    split32(_mm512_loadu_ps(x + i), _mm512_loadu_ps(x + i + 16), h, l);
    _mm512_storeu_si512(hi + i, h);
    _mm512_storeu_si512(lo + i, l);
  }
}

// Pair q of 32 values (k = i + 2q, i + 2q + 1) goes to pair row (i / 2 + q),
// column t: 32-bit element (i / 2 + q) * 16 + t.
void gemm_amx_split_token(const float* x, int64_t n, int64_t t, uint16_t* hi, uint16_t* lo) {
  const __m512i rows = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                          _mm512_set1_epi32(16));
  for (int64_t i = 0; i < n; i += 32) {
    __m512i h, l;
    split32(_mm512_loadu_ps(x + i), _mm512_loadu_ps(x + i + 16), h, l);
    const int64_t base = (i / 2) * 16 + t;
    _mm512_i32scatter_epi32(reinterpret_cast<int*>(hi) + base, rows, h, 4);
    _mm512_i32scatter_epi32(reinterpret_cast<int*>(lo) + base, rows, l, 4);
  }
}

}  // namespace aigc
