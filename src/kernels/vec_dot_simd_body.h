// The bodies of the quantized dot kernels, written once for the AVX2 and the
// AVX-512 (VNNI) variants so that both have the same structure and the one
// that runs in this project's tests vouches for the other.
//
// Included only by kernels/avx2/dot_quant_avx2.cpp and
// kernels/avx512/dot_quant_avx512.cpp, after each defines, in namespace
// aigc::{anonymous}, its integer primitives on 32 bytes (u unsigned, s signed):
//   __m256i dot_i32(__m256i u, __m256i s)
//       8 int32 lanes; lane k = sum of u[b] * s[b] over bytes b in 4k..4k+3
//   __m256i madd_acc(__m256i acc, __m256i p, __m256i scales)
//       acc + the int32 pair sums of int16 lanes p * scales (the K types' scaling)
// Everything here has internal linkage, so no ISA-specific code leaks into a
// symbol that other code shares (the ODR rule for ISA files).
//
// Integer sums are exact: activations are in -127..127 (vec_dot.h) and the
// unsigned weight quants at most 63, or 128 for Q8_0's |q| in the sign trick
// (2 * 128 * 127 = 32512), so no int16 pair sum saturates.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "core/quant_blocks.h"

namespace aigc {
namespace {

inline float hsum_f32x8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline float half_to_float(uint16_t h) { return _cvtsh_ss(h); }

inline __m256i load32(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// Prefetches kBytes of weights kWeightPrefetchBytes ahead of p (vec_dot_isa.h).
template <size_t kBytes>
inline void prefetch_ahead(const void* p) {
  const char* ahead = static_cast<const char*>(p) + kWeightPrefetchBytes;
#pragma GCC unroll 8
  for (size_t off = 0; off < kBytes; off += 64) _mm_prefetch(ahead + off, _MM_HINT_T1);
}

// Signed x signed bytes, through the unsigned x signed primitive: |x| * (y with x's sign).
inline __m256i dot_signed_i32(__m256i x, __m256i y) { return dot_i32(_mm256_abs_epi8(x), _mm256_sign_epi8(y, x)); }

// The 32 nibbles of a 4-bit block: low nibbles are elements 0..15, high nibbles 16..31
// (the 16 bytes in both halves, the upper half shifted right by 4).
inline __m256i nibbles32(const uint8_t* qs) {
  const __m256i b = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qs)));
  return _mm256_and_si256(_mm256_srlv_epi64(b, _mm256_set_epi64x(4, 4, 0, 0)), _mm256_set1_epi8(0x0F));
}

// acc + sum over bytes of u * s * scale, as 8 int32 lanes; scales as 16 int16
// lanes (lane k applies to bytes 2k and 2k+1). |u * s| pair sums stay within int16.
inline __m256i dot_scaled_acc(__m256i acc, __m256i u, __m256i s, __m256i scales) {
  return madd_acc(acc, _mm256_maddubs_epi16(u, s), scales);
}

// 16 int8 scales widened to int16, each group of 8 in both 128-bit halves.
struct Scales16 {
  __m256i lo;  // scales 0..7
  __m256i hi;  // scales 8..15
};

inline Scales16 widen_scales(__m128i sc8) {
  return {_mm256_broadcastsi128_si256(_mm_cvtepi8_epi16(sc8)),
          _mm256_broadcastsi128_si256(_mm_cvtepi8_epi16(_mm_srli_si128(sc8, 8)))};
}

// int16 scales for 32 bytes (g even): scale g for bytes 0..15, scale g + 1 for bytes 16..31.
inline __m256i scale_pair(const Scales16& s, int g) {
  const int k = (g % 8) / 2;
  const __m256i pick = _mm256_set_m128i(_mm_set1_epi16(int16_t(0x0302 + 0x0404 * k)),
                                        _mm_set1_epi16(int16_t(0x0100 + 0x0404 * k)));
  return _mm256_shuffle_epi8(g < 8 ? s.lo : s.hi, pick);
}

// 0xFF in byte j where bit j of the little-endian 32-bit word at p is set.
inline __m256i bits_to_bytes(const uint8_t* p) {
  uint32_t bits;
  std::memcpy(&bits, p, 4);
  const __m256i spread = _mm256_shuffle_epi8(
      _mm256_set1_epi32(int(bits)),
      _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0));
  const __m256i bit = _mm256_set1_epi64x(int64_t(0x8040201008040201));
  return _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
}

// ---- 32-element blocks, 8 at a time: the 8 blocks' integer dots are summed
// horizontally into one vector of 8 block sums, converted and scaled by the
// 8 products d_x * d_y with one multiply-add (no per-block broadcast).

// One half-float field (`d`, `m`, `s`) of 8 consecutive blocks as 8 floats,
// converted with one instruction. The halves are gathered with integer
// shifts (the scalar ports are idle here), not lane inserts.
template <auto kField, class Block>
inline __m256 halves8(const Block* b) {
  const auto four = [b](int j) {
    return uint64_t(b[j].*kField) | uint64_t(b[j + 1].*kField) << 16 | uint64_t(b[j + 2].*kField) << 32 |
           uint64_t(b[j + 3].*kField) << 48;
  };
  return _mm256_cvtph_ps(_mm_set_epi64x(int64_t(four(4)), int64_t(four(0))));
}

// Lane k = the sum of the 8 int32 lanes of m[k].
inline __m256i block_sums8(const __m256i* m) {
  const __m256i h0 = _mm256_hadd_epi32(_mm256_hadd_epi32(m[0], m[1]), _mm256_hadd_epi32(m[2], m[3]));
  const __m256i h1 = _mm256_hadd_epi32(_mm256_hadd_epi32(m[4], m[5]), _mm256_hadd_epi32(m[6], m[7]));
  // h0 = per 128-bit half, the half-sums of m[0..3]; h1 those of m[4..7].
  return _mm256_add_epi32(_mm256_permute2x128_si256(h0, h1, 0x20), _mm256_permute2x128_si256(h0, h1, 0x31));
}

// The activation side of 8 blocks, computed once for all the rows it meets.
struct ActGroup {
  __m256 d;             // d_y of the 8 blocks
  __m256 s;             // s_y (Q8_1 only)
  __m256i offset_sums;  // kOffset * (sum of the block's quants), per block
};

// out[r] = dot of weight row r (at vx + r * stride bytes) with y, for r < kRows.
// sums(x block, y block) -> 8 int32 lanes adding up to the block's sum of
// q_x * q_y, with q_x unsigned for the offset types: x = d * (q - kOffset)
// (Q4_0, Q5_0: 8, 16; 0 otherwise), so sum(x y) = d_x d_y (sum(q q_y) -
// kOffset sum(q_y)). With kWithMin (Q4_1 / Q5_1 against Q8_1) each block also
// adds m_x * s_y. Rows are done one after the other over a group of up to
// kGroupsPerPass x 8 blocks (memory stays sequential); every row sees the
// same operations in the same order whatever kRows is, so the multi-row
// results equal the single-row ones bit for bit.
template <int kRows, int kOffset, bool kWithMin, class BlockX, class BlockY, class Sums>
void dot_rows32(int64_t n, const void* vx, size_t stride, const void* vy, float* out, Sums sums) {
  constexpr int64_t kGroupsPerPass = 32;
  const BlockY* y = static_cast<const BlockY*>(vy);
  const BlockX* x[kRows];
  __m256 acc[kRows], acc_m[kRows];
#pragma GCC unroll 4
  for (int r = 0; r < kRows; ++r) {
    x[r] = reinterpret_cast<const BlockX*>(static_cast<const char*>(vx) + size_t(r) * stride);
    acc[r] = _mm256_setzero_ps();
    acc_m[r] = _mm256_setzero_ps();
  }
  const __m256i ones8 = _mm256_set1_epi8(1);
  const int64_t nb = n / kQK;
  const int64_t n_groups = nb / 8;
  ActGroup act[kGroupsPerPass];
  for (int64_t g0 = 0; g0 < n_groups; g0 += kGroupsPerPass) {
    const int64_t gn = std::min(kGroupsPerPass, n_groups - g0);
    for (int64_t g = 0; g < gn; ++g) {
      const BlockY* yg = y + 8 * (g0 + g);
      act[g].d = halves8<&BlockY::d>(yg);
      if constexpr (kWithMin) act[g].s = halves8<&BlockY::s>(yg);
      if constexpr (kOffset != 0) {
        __m256i m[8];
#pragma GCC unroll 8
        for (int j = 0; j < 8; ++j) m[j] = dot_i32(ones8, load32(yg[j].qs));
        act[g].offset_sums = _mm256_mullo_epi32(block_sums8(m), _mm256_set1_epi32(kOffset));
      }
    }
#pragma GCC unroll 1
    for (int r = 0; r < kRows; ++r) {
      for (int64_t g = 0; g < gn; ++g) {
        const BlockX* xg = x[r] + 8 * (g0 + g);
        const BlockY* yg = y + 8 * (g0 + g);
        prefetch_ahead<8 * sizeof(BlockX)>(xg);
        __m256i m[8];
#pragma GCC unroll 8
        for (int j = 0; j < 8; ++j) m[j] = sums(xg[j], yg[j]);
        __m256i block_sums = block_sums8(m);
        if constexpr (kOffset != 0) block_sums = _mm256_sub_epi32(block_sums, act[g].offset_sums);
        const __m256 d = _mm256_mul_ps(halves8<&BlockX::d>(xg), act[g].d);
        acc[r] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(block_sums), acc[r]);
        if constexpr (kWithMin) acc_m[r] = _mm256_fmadd_ps(halves8<&BlockX::m>(xg), act[g].s, acc_m[r]);
      }
    }
  }
  // The last nb % 8 blocks one by one: the lanes of the block's dot, scaled.
  float sum_m[kRows] = {};
  for (int64_t i = 8 * n_groups; i < nb; ++i) {
    __m256i offset_lanes = _mm256_setzero_si256();
    if constexpr (kOffset != 0)
      offset_lanes = _mm256_mullo_epi32(dot_i32(ones8, load32(y[i].qs)), _mm256_set1_epi32(kOffset));
#pragma GCC unroll 4
    for (int r = 0; r < kRows; ++r) {
      const __m256i lanes = _mm256_sub_epi32(sums(x[r][i], y[i]), offset_lanes);
      const float d = half_to_float(x[r][i].d) * half_to_float(y[i].d);
      acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(lanes), acc[r]);
      if constexpr (kWithMin) sum_m[r] += half_to_float(x[r][i].m) * half_to_float(y[i].s);
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < kRows; ++r) {
    out[r] = hsum_f32x8(acc[r]);
    if constexpr (kWithMin) out[r] += hsum_f32x8(acc_m[r]) + sum_m[r];
  }
}

template <int kRows>
void dot_q8_0_rows(int64_t n, const void* x, size_t stride, const void* y, float* out) {
  dot_rows32<kRows, 0, false, BlockQ8_0, BlockQ8_0>(n, x, stride, y, out, [](const BlockQ8_0& bx, const BlockQ8_0& by) {
    return dot_signed_i32(load32(bx.qs), load32(by.qs));
  });
}

// Q4_0 / Q5_0: x = d * (q - off) with q unsigned.
template <int kRows>
void dot_q4_0_rows(int64_t n, const void* x, size_t stride, const void* y, float* out) {
  dot_rows32<kRows, 8, false, BlockQ4_0, BlockQ8_0>(n, x, stride, y, out, [](const BlockQ4_0& bx, const BlockQ8_0& by) {
    return dot_i32(nibbles32(bx.qs), load32(by.qs));
  });
}

template <int kRows>
void dot_q5_0_rows(int64_t n, const void* x, size_t stride, const void* y, float* out) {
  dot_rows32<kRows, 16, false, BlockQ5_0, BlockQ8_0>(n, x, stride, y, out, [](const BlockQ5_0& bx, const BlockQ8_0& by) {
    const __m256i hi = _mm256_and_si256(bits_to_bytes(bx.qh), _mm256_set1_epi8(0x10));
    return dot_i32(_mm256_or_si256(nibbles32(bx.qs), hi), load32(by.qs));
  });
}

// Q4_1 / Q5_1: sum((d_x q + m) d_y y) = d_x d_y sum(q y) + m * s_y, s_y = d_y sum(y) from the Q8_1 block.
template <int kRows>
void dot_q4_1_rows(int64_t n, const void* x, size_t stride, const void* y, float* out) {
  dot_rows32<kRows, 0, true, BlockQ4_1, BlockQ8_1>(n, x, stride, y, out, [](const BlockQ4_1& bx, const BlockQ8_1& by) {
    return dot_i32(nibbles32(bx.qs), load32(by.qs));
  });
}

template <int kRows>
void dot_q5_1_rows(int64_t n, const void* x, size_t stride, const void* y, float* out) {
  dot_rows32<kRows, 0, true, BlockQ5_1, BlockQ8_1>(n, x, stride, y, out, [](const BlockQ5_1& bx, const BlockQ8_1& by) {
    const __m256i hi = _mm256_and_si256(bits_to_bytes(bx.qh), _mm256_set1_epi8(0x10));
    return dot_i32(_mm256_or_si256(nibbles32(bx.qs), hi), load32(by.qs));
  });
}

template <void (*kRowsFn)(int64_t, const void*, size_t, const void*, float*)>
float one_row(int64_t n, const void* x, const void* y) {
  float out;
  kRowsFn(n, x, 0, y, &out);
  return out;
}

// ---- 256-element super-blocks against Q8_K.

inline __m256 fma_block(float d, __m256i sums, __m256 acc) {
  return _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sums), acc);
}

// The 6-bit scales and mins of Q4_K / Q5_K: 8 scale bytes and 8 min bytes.
inline void unpack_k4_scales(const uint8_t* q, uint64_t* sc, uint64_t* mn) {
  uint32_t a, b, c;
  std::memcpy(&a, q, 4);
  std::memcpy(&b, q + 4, 4);
  std::memcpy(&c, q + 8, 4);
  const uint32_t sc_hi = (c & 0x0F0F0F0F) | (((a >> 6) & 0x03030303) << 4);
  const uint32_t mn_hi = ((c >> 4) & 0x0F0F0F0F) | (((b >> 6) & 0x03030303) << 4);
  *sc = uint64_t(a & 0x3F3F3F3F) | uint64_t(sc_hi) << 32;
  *mn = uint64_t(b & 0x3F3F3F3F) | uint64_t(mn_hi) << 32;
}

// sum_j mins[j] * (bsums[2j] + bsums[2j+1]) as 8 int32 lanes (one per 32-element sub-block).
inline __m256i mins_times_bsums(uint64_t mn, const int16_t* bsums) {
  const __m128i m8 = _mm_cvtsi64_si128(int64_t(mn));
  const __m256i m16 = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(m8, m8));
  return _mm256_madd_epi16(load32(bsums), m16);
}

// Q4_K and Q5_K: x = d * sc * q - dmin * m per 32-element sub-block; high_bits adds Q5_K's 5th bit.
template <class BlockX, bool kFiveBit>
float dot_q45_k_body(int64_t n, const void* vx, const void* vy) {
  const BlockX* x = static_cast<const BlockX*>(vx);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(vy);
  const int64_t nb = n / kQK_K;
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  __m256 acc = _mm256_setzero_ps(), acc_m = _mm256_setzero_ps();
  for (int64_t i = 0; i < nb; ++i) {
    prefetch_ahead<sizeof(x[i])>(x + i);
    uint64_t sc, mn;
    unpack_k4_scales(x[i].scales, &sc, &mn);
    // Each scale as int16 in both 128-bit halves; sub-block k broadcasts int16 lane k.
    const __m256i sc16 = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(_mm_cvtsi64_si128(int64_t(sc))));
    acc_m = _mm256_fmadd_ps(_mm256_set1_ps(y[i].d * half_to_float(x[i].dmin)),
                            _mm256_cvtepi32_ps(mins_times_bsums(mn, y[i].bsums)), acc_m);
    __m256i hv = _mm256_setzero_si256();
    if constexpr (kFiveBit) hv = load32(x[i].qh);
    __m256i sumi = _mm256_setzero_si256();
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) {
      const __m256i q = load32(x[i].qs + 32 * j);
      __m256i lo = _mm256_and_si256(q, m4);
      __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
      if constexpr (kFiveBit) {
        const __m256i one = _mm256_set1_epi8(1);
        lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(hv, one), 4));
        hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hv, 1), one), 4));
        hv = _mm256_srli_epi16(hv, 2);
      }
      const int8_t* q8 = y[i].qs + 64 * j;
      const __m256i s_lo = _mm256_shuffle_epi8(sc16, _mm256_set1_epi16(int16_t(0x0100 + 0x0404 * j)));
      const __m256i s_hi = _mm256_shuffle_epi8(sc16, _mm256_set1_epi16(int16_t(0x0302 + 0x0404 * j)));
      sumi = dot_scaled_acc(sumi, lo, load32(q8), s_lo);
      sumi = dot_scaled_acc(sumi, hi, load32(q8 + 32), s_hi);
    }
    acc = fma_block(y[i].d * half_to_float(x[i].d), sumi, acc);
  }
  return hsum_f32x8(acc) - hsum_f32x8(acc_m);
}

inline float dot_q4_k_body(int64_t n, const void* x, const void* y) {
  return dot_q45_k_body<BlockQ4_K, false>(n, x, y);
}
inline float dot_q5_k_body(int64_t n, const void* x, const void* y) {
  return dot_q45_k_body<BlockQ5_K, true>(n, x, y);
}

// Q6_K: x = d * sc[g] * (q - 32), q in 0..63, 16 scales per 16 elements (in element order).
inline float dot_q6_k_body(int64_t n, const void* vx, const void* vy) {
  const BlockQ6_K* x = static_cast<const BlockQ6_K*>(vx);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(vy);
  const int64_t nb = n / kQK_K;
  const __m256i m4 = _mm256_set1_epi8(0x0F), m3 = _mm256_set1_epi8(3);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < nb; ++i) {
    prefetch_ahead<sizeof(x[i])>(x + i);
    const __m128i sc8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[i].scales));
    const Scales16 scales = widen_scales(sc8);
    // 32 * sum_g sc[g] * bsums[g]: the "- 32" of every quant.
    const __m256i sc16 = _mm256_cvtepi8_epi16(sc8);
    const __m256i bias = _mm256_slli_epi32(_mm256_madd_epi16(load32(y[i].bsums), sc16), 5);
    __m256i sumi = _mm256_setzero_si256();
#pragma GCC unroll 4
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = x[i].ql + 64 * h;
      const __m256i qh = load32(x[i].qh + 32 * h);
      const __m256i l0 = load32(ql), l1 = load32(ql + 32);
      const __m256i q[4] = {
          _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m3), 4)),
          _mm256_or_si256(_mm256_and_si256(l1, m4),
                          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m3), 4)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m3), 4)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m3), 4)),
      };
#pragma GCC unroll 4
      for (int k = 0; k < 4; ++k) {
        sumi = dot_scaled_acc(sumi, q[k], load32(y[i].qs + 128 * h + 32 * k), scale_pair(scales, 8 * h + 2 * k));
      }
    }
    acc = fma_block(y[i].d * half_to_float(x[i].d), _mm256_sub_epi32(sumi, bias), acc);
  }
  return hsum_f32x8(acc);
}

// Q3_K's 16 signed 6-bit scales (stored + 32), packed in 12 bytes: scale j
// has low bits from nibble j of bytes 0..7 (low nibbles first) and high bits
// from bits 2 * (j / 4) of byte 8 + j % 4. Built in integer registers, so
// the vector load does not wait on byte stores.
inline __m128i unpack_q3_k_scales(const uint8_t* p) {
  uint32_t a, b, c;
  std::memcpy(&a, p, 4);
  std::memcpy(&b, p + 4, 4);
  std::memcpy(&c, p + 8, 4);
  const uint32_t m4 = 0x0F0F0F0F, m2 = 0x03030303;
  const __m128i v = _mm_setr_epi32(int((a & m4) | ((c & m2) << 4)), int((b & m4) | (((c >> 2) & m2) << 4)),
                                   int(((a >> 4) & m4) | (((c >> 4) & m2) << 4)),
                                   int(((b >> 4) & m4) | (((c >> 6) & m2) << 4)));
  return _mm_sub_epi8(v, _mm_set1_epi8(32));
}

// Q3_K: x = d * sc[g] * (q2 - (hmask bit ? 0 : 4)), 16 scales per 16 elements (in element order).
inline float dot_q3_k_body(int64_t n, const void* vx, const void* vy) {
  const BlockQ3_K* x = static_cast<const BlockQ3_K*>(vx);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(vy);
  const int64_t nb = n / kQK_K;
  const __m256i m3 = _mm256_set1_epi8(3), four = _mm256_set1_epi8(4), zero = _mm256_setzero_si256();
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < nb; ++i) {
    prefetch_ahead<sizeof(x[i])>(x + i);
    const Scales16 scales = widen_scales(unpack_q3_k_scales(x[i].scales));
    const __m256i hm = load32(x[i].hmask);
    __m256i sumi = _mm256_setzero_si256();
#pragma GCC unroll 4
    for (int h = 0; h < 2; ++h) {
      const __m256i qv = load32(x[i].qs + 32 * h);
#pragma GCC unroll 4
      for (int j = 0; j < 4; ++j) {
        const __m256i q2 = _mm256_and_si256(_mm256_srl_epi16(qv, _mm_cvtsi32_si128(2 * j)), m3);
        const __m256i bit = _mm256_set1_epi8(int8_t(1 << (4 * h + j)));
        const __m256i minus4 = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(hm, bit), zero), four);
        const __m256i q8 = load32(y[i].qs + 128 * h + 32 * j);
        // (q2 - minus4) * q8 as int16 pair sums: at most 2 * 4 * 128 in magnitude.
        const __m256i p = _mm256_sub_epi16(_mm256_maddubs_epi16(q2, q8), _mm256_maddubs_epi16(minus4, q8));
        sumi = madd_acc(sumi, p, scale_pair(scales, 8 * h + 2 * j));
      }
    }
    acc = fma_block(y[i].d * half_to_float(x[i].d), sumi, acc);
  }
  return hsum_f32x8(acc);
}

// Q2_K: x = d * (sc & 15) * q2 - dmin * (sc >> 4), q2 in 0..3, per 16 elements (in element order).
inline float dot_q2_k_body(int64_t n, const void* vx, const void* vy) {
  const BlockQ2_K* x = static_cast<const BlockQ2_K*>(vx);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(vy);
  const int64_t nb = n / kQK_K;
  const __m256i m3 = _mm256_set1_epi8(3);
  __m256 acc = _mm256_setzero_ps(), acc_m = _mm256_setzero_ps();
  for (int64_t i = 0; i < nb; ++i) {
    prefetch_ahead<sizeof(x[i])>(x + i);
    const __m128i sc_mn = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[i].scales));
    const Scales16 scales = widen_scales(_mm_and_si128(sc_mn, _mm_set1_epi8(0x0F)));
    const __m256i mins16 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sc_mn, 4), _mm_set1_epi8(0x0F)));
    acc_m = _mm256_fmadd_ps(_mm256_set1_ps(y[i].d * half_to_float(x[i].dmin)),
                            _mm256_cvtepi32_ps(_mm256_madd_epi16(load32(y[i].bsums), mins16)), acc_m);
    __m256i sumi = _mm256_setzero_si256();
#pragma GCC unroll 4
    for (int h = 0; h < 2; ++h) {
      const __m256i qv = load32(x[i].qs + 32 * h);
#pragma GCC unroll 4
      for (int j = 0; j < 4; ++j) {
        const __m256i q2 = _mm256_and_si256(_mm256_srl_epi16(qv, _mm_cvtsi32_si128(2 * j)), m3);
        sumi = dot_scaled_acc(sumi, q2, load32(y[i].qs + 128 * h + 32 * j), scale_pair(scales, 8 * h + 2 * j));
      }
    }
    acc = fma_block(y[i].d * half_to_float(x[i].d), sumi, acc);
  }
  return hsum_f32x8(acc) - hsum_f32x8(acc_m);
}

}  // namespace
}  // namespace aigc
