// AVX-512 dot of Q4_0 weight rows with a Q8_0 activation row, 512 bits wide.
//
// Eight 18-byte blocks (144 bytes) at a time: three loads, then byte
// permutes (VBMI) gather the 16 nibble bytes of blocks 0-3 into one register
// and of blocks 4-7 into another, and the eight half-float scales into a
// third, so the blocks' odd 18-byte stride costs no scalar work. Low nibbles
// are elements 0..15 of each block and high nibbles 16..31; the activation
// quants are rearranged to match once per group for all the rows that meet
// them. vpdpbusd leaves each block's integer sum in four int32 lanes; they
// are scaled in float (the block's d_x * d_y on its four lanes) without any
// horizontal sum until the row's end. The offset of Q4_0 (x = d (q - 8))
// starts each group's integer lanes at -8 * (the matching activation quants).
//
// Integer sums are exact (at most 8 * 15 * 127 per lane); only the float
// summation order differs from the reference. In cache (4 rows of 5632, one
// thread, a Sapphire-Rapids-class Xeon) it reads 19.7-20.6 GB/s where the
// 256-bit kernel of vec_dot_simd_body.h reads 17.8-18.4; 2048 x 5632 matrix
// x vector from memory, 2 threads: 67-69% of the read ceiling against 62-66%.
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "core/quant_blocks.h"
#include "kernels/avx512/ops_math_avx512.h"
#include "kernels/vec_dot_isa.h"

namespace aigc {
namespace {

constexpr int64_t kGroup = 8;             // blocks per step
constexpr int64_t kGroupsPerPass = 32;    // activation groups prepared at a time
// How far ahead the weights are asked for (into L2): half of the other dot
// kernels' kWeightPrefetchBytes. TinyLlama-shaped Q4_0 decode, 2 threads,
// alternated: 29.0-31.3 tok/s against 27.7-28.6 at 6144 bytes, 26.4-26.5 at
// 1536, 28.6-29.2 at 4096, 29.4-29.7 at 2304; an L1 hint (T0) 24-25.
constexpr size_t kPrefetchBytes = 3072;

// Byte indices for _mm512_permutex2var_epi8 over 128 bytes (two registers).
struct GatherIndices {
  __m512i qs_lo4;  // nibble bytes of blocks 0-3 from bytes [0, 128) of the group
  __m512i qs_hi4;  // of blocks 4-7 from bytes [64, 192)
  __m512i d;       // the 8 scales (16 bytes) from bytes [0, 128)
};

GatherIndices make_indices() {
  alignas(64) uint8_t lo[64], hi[64], d[64] = {};
  for (int i = 0; i < 64; ++i) {
    const int block = i / 16, byte = i % 16;
    lo[i] = uint8_t(int(sizeof(BlockQ4_0)) * block + 2 + byte);
    hi[i] = uint8_t(int(sizeof(BlockQ4_0)) * (block + 4) + 2 + byte - 64);
  }
  for (int k = 0; k < 8; ++k) {
    d[2 * k] = uint8_t(int(sizeof(BlockQ4_0)) * k);
    d[2 * k + 1] = uint8_t(int(sizeof(BlockQ4_0)) * k + 1);
  }
  return {_mm512_load_si512(lo), _mm512_load_si512(hi), _mm512_load_si512(d)};
}

// The activation side of one group of 8 blocks.
struct ActGroup {
  __m512i lo[2], hi[2];   // quants 0..15 / 16..31 of blocks 4h..4h+3, 16 bytes each, for h = 0, 1
  __m512i neg_offset[2];  // -8 * the sum of the 4 quants each int32 lane meets
  __m256 d;               // d_y of the 8 blocks
};

inline __m128i load16(const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }

// Four 16-byte pieces (at p[k] + offset) side by side.
inline __m512i four16(const BlockQ8_0* b, int offset) {
  const __m512i v = _mm512_castsi128_si512(load16(b[0].qs + offset));
  const __m512i v1 = _mm512_inserti32x4(v, load16(b[1].qs + offset), 1);
  const __m512i v2 = _mm512_inserti32x4(v1, load16(b[2].qs + offset), 2);
  return _mm512_inserti32x4(v2, load16(b[3].qs + offset), 3);
}

ActGroup prepare_act(const BlockQ8_0* y) {
  ActGroup a;
  const __m512i eights = _mm512_set1_epi8(8);
  for (int h = 0; h < 2; ++h) {
    a.lo[h] = four16(y + 4 * h, 0);
    a.hi[h] = four16(y + 4 * h, 16);
    const __m512i offset = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), eights, a.lo[h]),
                                               eights, a.hi[h]);
    a.neg_offset[h] = _mm512_sub_epi32(_mm512_setzero_si512(), offset);
  }
  alignas(16) uint16_t d[8];
  for (int k = 0; k < 8; ++k) d[k] = y[k].d;
  a.d = _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(d)));
  return a;
}

// sum over the group of d_x d_y (q_x - 8) q_y, added lane-wise into acc.
inline __m512 group_dot(const uint8_t* xg, const ActGroup& a, const GatherIndices& idx, __m512 acc) {
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  const __m512i b0 = _mm512_loadu_si512(xg);
  const __m512i b1 = _mm512_loadu_si512(xg + 64);
  const __m512i b2 = _mm512_maskz_loadu_epi8(0xFFFF, xg + 128);  // the last 16 bytes of the group
  const __m512i q[2] = {_mm512_permutex2var_epi8(b0, idx.qs_lo4, b1), _mm512_permutex2var_epi8(b1, idx.qs_hi4, b2)};
  const __m256 dx = _mm256_cvtph_ps(_mm512_castsi512_si128(_mm512_permutex2var_epi8(b0, idx.d, b1)));
  const __m512 d = _mm512_castps256_ps512(_mm256_mul_ps(dx, a.d));
  const __m512i spread[2] = {_mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3),
                             _mm512_setr_epi32(4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7)};
#pragma GCC unroll 2
  for (int h = 0; h < 2; ++h) {
    const __m512i lo = _mm512_and_si512(q[h], m4);
    const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(q[h], 4), m4);
    const __m512i sums = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(a.neg_offset[h], lo, a.lo[h]), hi, a.hi[h]);
    acc = _mm512_fmadd_ps(_mm512_permutexvar_ps(spread[h], d), _mm512_cvtepi32_ps(sums), acc);
  }
  return acc;
}

// One block's exact integer dot, for the last nb % 8 blocks of a row.
inline int32_t block_dot(const BlockQ4_0& x, const BlockQ8_0& y) {
  int32_t s = 0;
  for (int j = 0; j < kQK / 2; ++j) {
    s += (int32_t(x.qs[j] & 0x0F) - 8) * y.qs[j];
    s += (int32_t(x.qs[j] >> 4) - 8) * y.qs[j + kQK / 2];
  }
  return s;
}

// out[r] = dot of row r (at vx + r * stride) with y for r < kRows; rows one
// after the other over each pass of groups, with the same operations in the
// same order whatever kRows is (so the 4-row results equal the 1-row ones).
template <int kRows>
void dot_q4_0_rows(int64_t n, const void* vx, size_t stride, const void* vy, float* out) {
  static const GatherIndices idx = make_indices();
  const BlockQ8_0* y = static_cast<const BlockQ8_0*>(vy);
  const int64_t nb = n / kQK, n_groups = nb / kGroup;
  __m512 acc[kRows];
  for (int r = 0; r < kRows; ++r) acc[r] = _mm512_setzero_ps();
  ActGroup act[kGroupsPerPass];
  for (int64_t g0 = 0; g0 < n_groups; g0 += kGroupsPerPass) {
    const int64_t gn = std::min(kGroupsPerPass, n_groups - g0);
    for (int64_t g = 0; g < gn; ++g) act[g] = prepare_act(y + kGroup * (g0 + g));
#pragma GCC unroll 1
    for (int r = 0; r < kRows; ++r) {
      const uint8_t* xr = static_cast<const uint8_t*>(vx) + size_t(r) * stride;
      __m512 sum = acc[r];  // in a register across the groups (acc[r] is in memory)
      for (int64_t g = 0; g < gn; ++g) {
        const uint8_t* xg = xr + size_t(kGroup * (g0 + g)) * sizeof(BlockQ4_0);
        for (size_t off = 0; off < kGroup * sizeof(BlockQ4_0); off += 64)
          _mm_prefetch(reinterpret_cast<const char*>(xg) + kPrefetchBytes + off, _MM_HINT_T1);
        sum = group_dot(xg, act[g], idx, sum);
      }
      acc[r] = sum;
    }
  }
  for (int r = 0; r < kRows; ++r) {
    const BlockQ4_0* x = reinterpret_cast<const BlockQ4_0*>(static_cast<const char*>(vx) + size_t(r) * stride);
    float tail = 0.0f;
    for (int64_t i = kGroup * n_groups; i < nb; ++i)
      tail += _cvtsh_ss(x[i].d) * _cvtsh_ss(y[i].d) * float(block_dot(x[i], y[i]));
    out[r] = hsum_avx512(acc[r]) + tail;
  }
}

}  // namespace

float vec_dot_q4_0_avx512(int64_t n, const void* x, const void* y) {
  float out;
  dot_q4_0_rows<1>(n, x, 0, y, &out);
  return out;
}

void vec_dot_q4_0_rows16_avx512(int64_t n, const void* x, size_t stride, const void* y, float* out) {
  dot_q4_0_rows<kDotRowsPerCallQ4_0Avx512>(n, x, stride, y, out);
}

}  // namespace aigc
