// AMX micro-kernel of gemm_amx (TDPBF16PS on 16 x 16 F32 tiles) and the
// AVX-512 BF16 conversions that split floats into bf16 parts.
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

// The n_parts bf16 parts of 32 floats, each a vector of 32 bf16 (element i
// of part q is x[i]'s part q).
void split32(__m512 x0, __m512 x1, int n_parts, __m512i* parts) {
  for (int q = 0; q < n_parts; ++q) {
    parts[q] = __m512i(_mm512_cvtne2ps_pbh(x1, x0));
    const __m512i p = parts[q];
    x0 = _mm512_sub_ps(x0, _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm512_castsi512_si256(p)), 16)));
    x1 = _mm512_sub_ps(x1,
                       _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(p, 1)), 16)));
  }
}

}  // namespace

void gemm_amx_configure_tiles() { _tile_loadconfig(&kTileConfig); }

void gemm_amx_release_tiles() { _tile_release(); }

// Tiles: 0-3 accumulate ct (rows 0-15 | 16-31) x (tokens 0-15 | 16-31);
// 4, 5 hold 16 weight rows each; 6, 7 one group of 16 tokens each. Each
// load goes right before the first product that reads it, so that it
// overlaps the products still running on the other tiles.
void gemm_amx_tile_32x32(int64_t kc, const AmxPasses& passes, const uint16_t* const* w, int64_t ldw,
                         const uint16_t* const* a, int64_t group_stride, float* ct, int64_t ldct, int accumulate) {
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
  for (int64_t p = 0; p < kc; p += 32) {
    int w_loaded = -1, a_loaded = -1;
    for (int q = 0; q < passes.count; ++q) {
      const uint16_t* wq = w[passes.w[q]] + p;
      const uint16_t* aq = a[passes.a[q]] + p * 16;  // 16 tokens x 32 values of k per step
      const bool new_w = passes.w[q] != w_loaded, new_a = passes.a[q] != a_loaded;
      w_loaded = passes.w[q];
      a_loaded = passes.a[q];
      if (new_w && new_a) {
        _tile_loadd(4, wq, w_stride);
        _tile_loadd(6, aq, 64);
        _tile_dpbf16ps(0, 4, 6);
        _tile_loadd(7, aq + group_stride, 64);
        _tile_dpbf16ps(1, 4, 7);
        _tile_loadd(5, wq + 16 * ldw, w_stride);
        _tile_dpbf16ps(2, 5, 6);
        _tile_dpbf16ps(3, 5, 7);
      } else if (new_a) {
        _tile_loadd(6, aq, 64);
        _tile_dpbf16ps(0, 4, 6);
        _tile_dpbf16ps(2, 5, 6);
        _tile_loadd(7, aq + group_stride, 64);
        _tile_dpbf16ps(1, 4, 7);
        _tile_dpbf16ps(3, 5, 7);
      } else {
        _tile_loadd(4, wq, w_stride);
        _tile_dpbf16ps(0, 4, 6);
        _tile_dpbf16ps(1, 4, 7);
        _tile_loadd(5, wq + 16 * ldw, w_stride);
        _tile_dpbf16ps(2, 5, 6);
        _tile_dpbf16ps(3, 5, 7);
      }
    }
  }
  _tile_stored(0, ct, c_stride);
  _tile_stored(1, ct + 16, c_stride);
  _tile_stored(2, c1, c_stride);
  _tile_stored(3, c1 + 16, c_stride);
}

void gemm_amx_split_row(const float* x, int64_t n, int n_parts, uint16_t* const* parts) {
  __m512i v[kAmxMaxParts];
  for (int64_t i = 0; i < n; i += 32) {
    split32(_mm512_loadu_ps(x + i), _mm512_loadu_ps(x + i + 16), n_parts, v);
    for (int q = 0; q < n_parts; ++q) _mm512_storeu_si512(parts[q] + i, v[q]);
  }
}

// Pair r of 32 values (k = i + 2r, i + 2r + 1) goes to pair row (i / 2 + r),
// column t: 32-bit element (i / 2 + r) * 16 + t.
void gemm_amx_split_token(const float* x, int64_t n, int64_t t, int n_parts, uint16_t* const* parts) {
  const __m512i rows = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                          _mm512_set1_epi32(16));
  __m512i v[kAmxMaxParts];
  for (int64_t i = 0; i < n; i += 32) {
    split32(_mm512_loadu_ps(x + i), _mm512_loadu_ps(x + i + 16), n_parts, v);
    const int64_t base = (i / 2) * 16 + t;
    for (int q = 0; q < n_parts; ++q) _mm512_i32scatter_epi32(reinterpret_cast<int*>(parts[q]) + base, rows, v[q], 4);
  }
}

}  // namespace aigc
