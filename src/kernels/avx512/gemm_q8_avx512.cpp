// AVX-512 (VNNI) micro-kernels of gemm_q8, and its activation quantizers,
// for blocks of 32 and 16 elements. The micro-kernel: an 8 x 16 tile of C in
// 8 zmm float accumulators; per block, 8 zmm integer sums fed by vpdpbusd
// (one 64-byte load of the panel's quants per 4 elements, its 4 activation
// bytes broadcast from memory), then two float multiply-adds per row. Same
// operations, in the same order, as gemm_q8_tile_scalar.
#include "kernels/avx512/ops_math_avx512.h"
#include "kernels/gemm_q8_isa.h"

namespace aigc {

namespace {

template <int B>
void tile(int64_t n_blk, const GemmQ8A& a, const uint8_t* panel, float* c, int64_t ldc, int accumulate) {
  __m512 acc[kGemmQ8Mr];
#pragma GCC unroll 8
  for (int i = 0; i < kGemmQ8Mr; ++i) acc[i] = accumulate ? _mm512_loadu_ps(c + i * ldc) : _mm512_setzero_ps();
  for (int64_t blk = 0; blk < n_blk; ++blk) {
    const auto* pb = reinterpret_cast<const GemmQ8PanelBlock<B>*>(panel + blk * sizeof(GemmQ8PanelBlock<B>));
    __m512i isum[kGemmQ8Mr];
#pragma GCC unroll 8
    for (int i = 0; i < kGemmQ8Mr; ++i) isum[i] = _mm512_setzero_si512();
#pragma GCC unroll 8
    for (int g = 0; g < B / 4; ++g) {
      const __m512i u = _mm512_load_si512(pb->u[g]);
#pragma GCC unroll 8
      for (int i = 0; i < kGemmQ8Mr; ++i) {
        int32_t q4;
        __builtin_memcpy(&q4, a.q + (blk * kGemmQ8Mr + i) * B + 4 * g, 4);
        isum[i] = _mm512_dpbusd_epi32(isum[i], u, _mm512_set1_epi32(q4));
      }
    }
    const __m512 s = _mm512_load_ps(pb->s), neg_o = _mm512_xor_ps(_mm512_load_ps(pb->o), _mm512_set1_ps(-0.0f));
#pragma GCC unroll 8
    for (int i = 0; i < kGemmQ8Mr; ++i) {
      const __m512 scale = _mm512_mul_ps(s, _mm512_set1_ps(a.d[blk * kGemmQ8Mr + i]));
      acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[i]), scale, acc[i]);
      acc[i] = _mm512_fmadd_ps(neg_o, _mm512_set1_ps(a.dsum[blk * kGemmQ8Mr + i]), acc[i]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < kGemmQ8Mr; ++i) _mm512_storeu_ps(c + i * ldc, acc[i]);
}

template <int B>
void quantize_row(const float* x, int64_t k, int8_t* q, float* d, float* dsum) {
  const __m512 sign = _mm512_set1_ps(-0.0f);
  for (int64_t blk = 0; blk < k / B; ++blk) {
    const __m512 x0 = _mm512_loadu_ps(x + blk * B);
    const __m512 x1 = B == 32 ? _mm512_loadu_ps(x + blk * B + 16) : _mm512_setzero_ps();  // B = 16: zeros
    const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_andnot_ps(sign, x0), _mm512_andnot_ps(sign, x1)));
    const float db = amax / 127.0f;
    const __m512 id = _mm512_set1_ps(db != 0.0f ? 1.0f / db : 0.0f);
    const __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(x0, id)), q1 = _mm512_cvtps_epi32(_mm512_mul_ps(x1, id));
    int8_t* qb = q + blk * kGemmQ8Mr * B;
    _mm_storeu_si128(reinterpret_cast<__m128i*>(qb), _mm512_cvtepi32_epi8(q0));
    if (B == 32) _mm_storeu_si128(reinterpret_cast<__m128i*>(qb + 16), _mm512_cvtepi32_epi8(q1));
    d[blk * kGemmQ8Mr] = db;
    dsum[blk * kGemmQ8Mr] = db * float(_mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1)));
  }
}

}  // namespace

void gemm_q8_tile_avx512(int64_t n_blk, const GemmQ8A& a, const uint8_t* panel, float* c, int64_t ldc,
                         int accumulate) {
  tile<32>(n_blk, a, panel, c, ldc, accumulate);
}

void gemm_q8_tile16_avx512(int64_t n_blk, const GemmQ8A& a, const uint8_t* panel, float* c, int64_t ldc,
                           int accumulate) {
  tile<16>(n_blk, a, panel, c, ldc, accumulate);
}

void gemm_q8_quantize_row_avx512(const float* x, int64_t k, int8_t* q, float* d, float* dsum) {
  quantize_row<32>(x, k, q, d, dsum);
}

void gemm_q8_quantize_row16_avx512(const float* x, int64_t k, int8_t* q, float* d, float* dsum) {
  quantize_row<16>(x, k, q, d, dsum);
}

}  // namespace aigc
