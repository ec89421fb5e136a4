// AMX micro-kernel of gemm_amx (TDPBF16PS on 16 x 16 F32 tiles) and the
// AVX-512 BF16 conversions that split floats into bf16 parts.
#include <immintrin.h>

#include "kernels/amx/amx_tile_config.h"
#include "kernels/gemm_amx_isa.h"

namespace aigc {

namespace {

// Every tile 16 rows x 64 bytes.
constexpr AmxTileConfig kTileConfig = {1, 0, {}, {64, 64, 64, 64, 64, 64, 64, 64}, {16, 16, 16, 16, 16, 16, 16, 16}};

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

// r[0..15] (16 x 16 dwords) transposed in registers: r[c] becomes column c.
void transpose16(__m512i* r) {
  __m512i t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
  }
  // u[4i + k], 128-bit lane L: column 4L + k of rows 4i .. 4i + 3.
  __m512i u[16];
  for (int i = 0; i < 16; i += 4) {
    u[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
    u[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
    u[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
    u[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
  }
  for (int k = 0; k < 4; ++k) {
    const __m512i a = _mm512_shuffle_i32x4(u[k], u[4 + k], 0x44), b = _mm512_shuffle_i32x4(u[k], u[4 + k], 0xEE);
    const __m512i c = _mm512_shuffle_i32x4(u[8 + k], u[12 + k], 0x44), d = _mm512_shuffle_i32x4(u[8 + k], u[12 + k], 0xEE);
    r[k] = _mm512_shuffle_i32x4(a, c, 0x88);
    r[4 + k] = _mm512_shuffle_i32x4(a, c, 0xDD);
    r[8 + k] = _mm512_shuffle_i32x4(b, d, 0x88);
    r[12 + k] = _mm512_shuffle_i32x4(b, d, 0xDD);
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

// Per 32 values: each token's parts (16 dwords: its pairs) into a stack
// block, then per part a 16 x 16 transpose gives the 16 pair rows of the
// group's layout, stored as one contiguous kilobyte.
void gemm_amx_split_group(const float* const* x, int64_t n, int64_t n_valid, int n_parts, uint16_t* const* parts) {
  alignas(64) __m512i block[kAmxMaxParts][16];
  for (int64_t i = 0; i < n; i += 32) {
    const int64_t left = n_valid - i;
    const __mmask16 m0 = left >= 16 ? 0xFFFF : left <= 0 ? 0 : __mmask16((1u << left) - 1);
    const __mmask16 m1 = left >= 32 ? 0xFFFF : left <= 16 ? 0 : __mmask16((1u << (left - 16)) - 1);
    for (int t = 0; t < 16; ++t) {
      __m512i v[kAmxMaxParts];
      const __m512 x0 = x[t] != nullptr ? _mm512_maskz_loadu_ps(m0, x[t] + i) : _mm512_setzero_ps();
      const __m512 x1 = x[t] != nullptr ? _mm512_maskz_loadu_ps(m1, x[t] + i + 16) : _mm512_setzero_ps();
      split32(x0, x1, n_parts, v);
      for (int q = 0; q < n_parts; ++q) block[q][t] = v[q];
    }
    for (int q = 0; q < n_parts; ++q) {
      transpose16(block[q]);
      __m512i* dst = reinterpret_cast<__m512i*>(parts[q] + i * 16);
      for (int r = 0; r < 16; ++r) _mm512_storeu_si512(dst + r, block[q][r]);
    }
  }
}

// Per two values of k: both rows' 16 tokens split into parts, each part's
// 32 bf16 interleaved into the (k, k + 1) pairs of the 16 tokens.
void gemm_amx_split_pairs(const float* x, int64_t ldx, int64_t n_tokens, int64_t n, int64_t n_valid, int n_parts,
                          uint16_t* const* parts) {
  const __mmask16 tokens = n_tokens >= 16 ? 0xFFFF : __mmask16((1u << n_tokens) - 1);
  alignas(64) static constexpr uint16_t kInterleave[32] = {0, 16, 1, 17, 2,  18, 3,  19, 4,  20, 5,  21, 6,  22, 7,  23,
                                                            8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30,
                                                            15, 31};
  const __m512i pairs = _mm512_load_si512(kInterleave);
  for (int64_t p = 0; p < n; p += 2) {
    const __m512 x0 = p < n_valid ? _mm512_maskz_loadu_ps(tokens, x + p * ldx) : _mm512_setzero_ps();
    const __m512 x1 = p + 1 < n_valid ? _mm512_maskz_loadu_ps(tokens, x + (p + 1) * ldx) : _mm512_setzero_ps();
    __m512i v[kAmxMaxParts];
    split32(x0, x1, n_parts, v);
    for (int q = 0; q < n_parts; ++q) _mm512_storeu_si512(parts[q] + p * 16, _mm512_permutexvar_epi16(pairs, v[q]));
  }
}

void gemm_amx_store_transposed(const float* ct, int64_t ldct, int64_t rows, int64_t cols, float* c, int64_t ldc) {
  __m512i r[16];
  for (int j = 0; j < 16; ++j) r[j] = _mm512_loadu_si512(ct + j * ldct);
  transpose16(r);
  const __mmask16 mask = cols >= 16 ? 0xFFFF : __mmask16((1u << cols) - 1);
  for (int64_t i = 0; i < rows; ++i) _mm512_mask_storeu_ps(c + i * ldc, mask, _mm512_castsi512_ps(r[i]));
}

}  // namespace aigc
