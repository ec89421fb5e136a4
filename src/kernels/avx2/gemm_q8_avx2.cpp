// AVX2 micro-kernels of gemm_q8 and its activation quantizer. AVX2 has no
// vpdpbusd: vpmaddubsw multiplies the unsigned weight quants by the signed
// activation bytes into 16-bit sums of pairs, which saturate past 32767, so
// a 16-bit sum may take as many four-element groups as the largest quant
// allows before vpmaddwd widens it to 32 bits: 8 groups (a whole 32-element
// block) for 4-bit quants (each group adds at most 2 x 15 x 127 to a lane),
// 4 for 5-bit, 2 for Q6_K's 6-bit quants. (Q8_0's quants u = w + 128 reach
// 255: gemm_q8 does not take Q8_0 on AVX2, see gemm_q8.h.) Every sum is
// exact, and the float epilogue is the scalar reference's, so the results
// are the same bits.
// The 16 ymm registers hold a 4-token x 8-row quarter of the 8 x 16 tile
// (4 float accumulators, 4 integer sums, 4 pair sums); the four quarters
// run in turn over the panel, which stays in L1.
#include <immintrin.h>

#include <cstring>

#include "kernels/gemm_q8_isa.h"

namespace aigc {

namespace {

constexpr int kTokens = 4;  // tokens of a quarter
constexpr int kRows = 8;    // weight rows of a quarter (one ymm of floats)

// Tokens t0..t0+3 x rows 8h..8h+7 of the tile; kChain groups per 16-bit sum.
template <int B, int kChain>
void quarter(int64_t n_blk, const GemmQ8A& a, const uint8_t* panel, float* c, int64_t ldc, int accumulate, int t0,
             int h) {
  static_assert((B / 4) % kChain == 0);
  const __m256i ones16 = _mm256_set1_epi16(1);
  __m256 acc[kTokens];
#pragma GCC unroll 8
  for (int i = 0; i < kTokens; ++i)
    acc[i] = accumulate ? _mm256_loadu_ps(c + (t0 + i) * ldc + kRows * h) : _mm256_setzero_ps();
  for (int64_t blk = 0; blk < n_blk; ++blk) {
    const auto* pb = reinterpret_cast<const GemmQ8PanelBlock<B>*>(panel + blk * int64_t(sizeof(GemmQ8PanelBlock<B>)));
    const int8_t* q_tile = a.q + blk * kGemmQ8Mr * B;
    __m256i isum[kTokens];
#pragma GCC unroll 8
    for (int i = 0; i < kTokens; ++i) isum[i] = _mm256_setzero_si256();
#pragma GCC unroll 1
    for (int g0 = 0; g0 < B / 4; g0 += kChain) {
      __m256i pairs[kTokens];
#pragma GCC unroll 8
      for (int i = 0; i < kTokens; ++i) pairs[i] = _mm256_setzero_si256();
#pragma GCC unroll 1
      for (int g = g0; g < g0 + kChain; ++g) {
        const __m256i u = _mm256_load_si256(reinterpret_cast<const __m256i*>(pb->u[g][kRows * h]));
#pragma GCC unroll 8
        for (int i = 0; i < kTokens; ++i) {
          int32_t q4;
          std::memcpy(&q4, q_tile + (t0 + i) * B + 4 * g, 4);
          pairs[i] = _mm256_add_epi16(pairs[i], _mm256_maddubs_epi16(u, _mm256_set1_epi32(q4)));
        }
      }
#pragma GCC unroll 8
      for (int i = 0; i < kTokens; ++i) isum[i] = _mm256_add_epi32(isum[i], _mm256_madd_epi16(pairs[i], ones16));
    }
    const __m256 s = _mm256_load_ps(pb->s + kRows * h);
    const __m256 neg_o = _mm256_xor_ps(_mm256_load_ps(pb->o + kRows * h), _mm256_set1_ps(-0.0f));
#pragma GCC unroll 8
    for (int i = 0; i < kTokens; ++i) {
      const __m256 scale = _mm256_mul_ps(s, _mm256_set1_ps(a.d[blk * kGemmQ8Mr + t0 + i]));
      acc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[i]), scale, acc[i]);
      acc[i] = _mm256_fmadd_ps(neg_o, _mm256_set1_ps(a.dsum[blk * kGemmQ8Mr + t0 + i]), acc[i]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < kTokens; ++i) _mm256_storeu_ps(c + (t0 + i) * ldc + kRows * h, acc[i]);
}

template <int B, int kChain>
void tile(int64_t n_blk, const GemmQ8A& a, const uint8_t* panel, float* c, int64_t ldc, int accumulate) {
  static_assert(kGemmQ8Mr == 2 * kTokens && kGemmQ8Nr == 2 * kRows);
#pragma GCC unroll 8
  for (int t0 = 0; t0 < kGemmQ8Mr; t0 += kTokens)
#pragma GCC unroll 8
    for (int h = 0; h < 2; ++h) quarter<B, kChain>(n_blk, a, panel, c, ldc, accumulate, t0, h);
}

template <int B>
void quantize_row(const float* x, int64_t k, int8_t* q, float* d, float* dsum) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  for (int64_t blk = 0; blk < k / B; ++blk) {
    __m256 v[B / 8];
    __m256 amax8 = _mm256_setzero_ps();
#pragma GCC unroll 8
    for (int r = 0; r < B / 8; ++r) {
      v[r] = _mm256_loadu_ps(x + blk * B + 8 * r);
      amax8 = _mm256_max_ps(amax8, _mm256_andnot_ps(sign, v[r]));
    }
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(amax8), _mm256_extractf128_ps(amax8, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    const float db = _mm_cvtss_f32(m4) / 127.0f;
    const __m256 id = _mm256_set1_ps(db != 0.0f ? 1.0f / db : 0.0f);
    int8_t* qb = q + blk * kGemmQ8Mr * B;
    __m256i sum = _mm256_setzero_si256();
#pragma GCC unroll 8
    for (int r = 0; r < B / 8; ++r) {
      const __m256i qi = _mm256_cvtps_epi32(_mm256_mul_ps(v[r], id));  // nearest, ties to even
      sum = _mm256_add_epi32(sum, qi);
      const __m128i q16 = _mm_packs_epi32(_mm256_castsi256_si128(qi), _mm256_extracti128_si256(qi, 1));
      const __m128i q8 = _mm_packs_epi16(q16, q16);
      _mm_storel_epi64(reinterpret_cast<__m128i*>(qb + 8 * r), q8);
    }
    __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(sum), _mm256_extracti128_si256(sum, 1));
    s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4E));
    s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xB1));
    d[blk * kGemmQ8Mr] = db;
    dsum[blk * kGemmQ8Mr] = db * float(_mm_cvtsi128_si32(s4));
  }
}

}  // namespace

void gemm_q8_tile_u4_avx2(int64_t n_blk, const GemmQ8A& a, const uint8_t* panel, float* c, int64_t ldc,
                          int accumulate) {
  tile<32, 8>(n_blk, a, panel, c, ldc, accumulate);
}

void gemm_q8_tile_u5_avx2(int64_t n_blk, const GemmQ8A& a, const uint8_t* panel, float* c, int64_t ldc,
                          int accumulate) {
  tile<32, 4>(n_blk, a, panel, c, ldc, accumulate);
}

void gemm_q8_tile16_u6_avx2(int64_t n_blk, const GemmQ8A& a, const uint8_t* panel, float* c, int64_t ldc,
                            int accumulate) {
  tile<16, 2>(n_blk, a, panel, c, ldc, accumulate);
}

void gemm_q8_quantize_row_avx2(const float* x, int64_t k, int8_t* q, float* d, float* dsum) {
  quantize_row<32>(x, k, q, d, dsum);
}

void gemm_q8_quantize_row16_avx2(const float* x, int64_t k, int8_t* q, float* d, float* dsum) {
  quantize_row<16>(x, k, q, d, dsum);
}

}  // namespace aigc
