// AVX2 quantizers of F32 activations to Q8_0, Q8_1 and Q8_K, giving the same
// bytes as the scalar references in core/quants_ref (same scale arithmetic,
// same rounding: roundf's half-away-from-zero for Q8_0/Q8_1, nearest-even
// for Q8_K).
#include <immintrin.h>

#include <cstdint>

#include "core/quant_blocks.h"
#include "kernels/vec_dot_isa.h"

namespace aigc {
namespace {

inline __m256 abs_ps(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }

inline float hmax_f32x8(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

inline int hsum_i32x8(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  return _mm_cvtsi128_si32(s);
}

// roundf: to nearest, halves away from zero. Nearest-even except at exact
// halves (v == trunc(v) +- 0.5, an exact sum), which go one step further out.
// No product feeds an add here, so no FMA contraction can change the bits.
inline __m256i round_away_epi32(__m256 v) {
  const __m256 sign = _mm256_and_ps(v, _mm256_set1_ps(-0.0f));
  const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m256 even = _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m256 half = _mm256_or_ps(_mm256_set1_ps(0.5f), sign);
  const __m256 tie = _mm256_cmp_ps(v, _mm256_add_ps(t, half), _CMP_EQ_OQ);
  const __m256 away = _mm256_add_ps(t, _mm256_or_ps(_mm256_set1_ps(1.0f), sign));
  return _mm256_cvttps_epi32(_mm256_blendv_ps(even, away, tie));
}

// Four vectors of 8 int32 (each in int8 range) -> 32 int8 in element order.
inline __m256i pack_i8(__m256i a, __m256i b, __m256i c, __m256i d) {
  const __m256i ab = _mm256_packs_epi32(a, b), cd = _mm256_packs_epi32(c, d);
  return _mm256_permutevar8x32_epi32(_mm256_packs_epi16(ab, cd), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

inline uint16_t float_to_half(float f) { return uint16_t(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT)); }

// One 32-element block to Q8_0 quants (d = max|x| / 127, q = roundf(x / d)); returns d, adds sum(q) to *sum.
inline float quantize_block32(const float* x, int8_t* qs, int* sum) {
  __m256 v[4];
  __m256 amax = _mm256_setzero_ps();
  for (int k = 0; k < 4; ++k) {
    v[k] = _mm256_loadu_ps(x + 8 * k);
    amax = _mm256_max_ps(amax, abs_ps(v[k]));
  }
  const float d = hmax_f32x8(amax) / 127.0f;
  const __m256 id = _mm256_set1_ps(d != 0.0f ? 1.0f / d : 0.0f);
  __m256i q[4];
  for (int k = 0; k < 4; ++k) q[k] = round_away_epi32(_mm256_mul_ps(v[k], id));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(qs), pack_i8(q[0], q[1], q[2], q[3]));
  *sum += hsum_i32x8(_mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3])));
  return d;
}

}  // namespace

void quantize_row_q8_0_avx2(const float* x, void* vy, int64_t n) {
  BlockQ8_0* y = static_cast<BlockQ8_0*>(vy);
  for (int64_t i = 0; i < n / kQK; ++i) {
    int sum = 0;
    y[i].d = float_to_half(quantize_block32(x + i * kQK, y[i].qs, &sum));
  }
}

void quantize_row_q8_1_avx2(const float* x, void* vy, int64_t n) {
  BlockQ8_1* y = static_cast<BlockQ8_1*>(vy);
  for (int64_t i = 0; i < n / kQK; ++i) {
    int sum = 0;
    const float d = quantize_block32(x + i * kQK, y[i].qs, &sum);
    y[i].d = float_to_half(d);
    y[i].s = float_to_half(float(sum) * d);
  }
}

// Q8_K: `max` is the first element of largest magnitude (sign kept), iscale = -127 / max,
// q = min(127, nearest-even(iscale * x)), d = 1 / iscale; bsums per 16 quants.
void quantize_row_q8_k_avx2(const float* x, void* vy, int64_t n) {
  BlockQ8_K* y = static_cast<BlockQ8_K*>(vy);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float* xb = x + i * kQK_K;
    __m256 amax = _mm256_setzero_ps();
    for (int k = 0; k < kQK_K; k += 8) amax = _mm256_max_ps(amax, abs_ps(_mm256_loadu_ps(xb + k)));
    const float a = hmax_f32x8(amax);
    if (a == 0.0f) {
      y[i].d = 0.0f;
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[i].bsums), _mm256_setzero_si256());
      for (int k = 0; k < kQK_K; k += 32) _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[i].qs + k), _mm256_setzero_si256());
      continue;
    }
    const __m256 va = _mm256_set1_ps(a);
    int first = 0;
    for (int k = 0; k < kQK_K; k += 8) {
      const int hit = _mm256_movemask_ps(_mm256_cmp_ps(abs_ps(_mm256_loadu_ps(xb + k)), va, _CMP_EQ_OQ));
      if (hit != 0) {
        first = k + __builtin_ctz(unsigned(hit));
        break;
      }
    }
    const float iscale = -127.0f / xb[first];
    const __m256 vs = _mm256_set1_ps(iscale);
    const __m256i q_max = _mm256_set1_epi32(127), ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
    for (int k = 0; k < kQK_K; k += 32) {
      __m256i q[4];
      for (int j = 0; j < 4; ++j) {
        q[j] = _mm256_min_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(vs, _mm256_loadu_ps(xb + k + 8 * j))), q_max);
      }
      const __m256i q8 = pack_i8(q[0], q[1], q[2], q[3]);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[i].qs + k), q8);
      // Sums of 4 quants per int32 lane: lanes 0..3 are this chunk's first 16, lanes 4..7 the next 16.
      alignas(32) int32_t s4[8];
      _mm256_store_si256(reinterpret_cast<__m256i*>(s4), _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, q8), ones16));
      y[i].bsums[k / 16] = int16_t(s4[0] + s4[1] + s4[2] + s4[3]);
      y[i].bsums[k / 16 + 1] = int16_t(s4[4] + s4[5] + s4[6] + s4[7]);
    }
    y[i].d = 1.0f / iscale;
  }
}

}  // namespace aigc
