// AVX-512 GEMM micro-kernel: an 8 x 32 tile of C in 16 zmm accumulators
// (8 rows x 2 vectors of 16), one broadcast of A and two loads of B per step;
// the 8 x 8 transposes that pack weight rows into panels; and F16 / BF16
// row conversion for packing weights.
// Structurally identical to avx2/gemm_f32_avx2.cpp (which has 6 rows).
#include <immintrin.h>

#include "kernels/gemm_f32_isa.h"

namespace aigc {

void gemm_f32_tile_8x32_avx512(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int accumulate) {
  __m512 acc[8][2];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) {
    acc[i][0] = accumulate ? _mm512_loadu_ps(c + i * ldc) : _mm512_setzero_ps();
    acc[i][1] = accumulate ? _mm512_loadu_ps(c + i * ldc + 16) : _mm512_setzero_ps();
  }
#pragma GCC unroll 4
  for (int64_t p = 0; p < kc; ++p) {
    const __m512 b0 = _mm512_loadu_ps(b);
    const __m512 b1 = _mm512_loadu_ps(b + 16);
#pragma GCC unroll 8
    for (int i = 0; i < 8; ++i) {
      const __m512 ai = _mm512_set1_ps(a[i]);
      acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
    }
    a += 8;
    b += 32;
  }
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) {
    _mm512_storeu_ps(c + i * ldc, acc[i][0]);
    _mm512_storeu_ps(c + i * ldc + 16, acc[i][1]);
  }
}

// Columns [0, kc) of nr rows (src[j], nr a multiple of 8) into one packed
// panel [kc][nr]: 8 x 8 blocks transposed in registers, the last kc % 8
// columns one by one.
void gemm_pack_panel_avx512(const float* const* src, int64_t nr, int64_t kc, float* dst) {
  int64_t p = 0;
  for (; p + 8 <= kc; p += 8) {
    for (int64_t j = 0; j < nr; j += 8) {
      __m256 r[8], t[8];
#pragma GCC unroll 8
      for (int q = 0; q < 8; ++q) r[q] = _mm256_loadu_ps(src[j + q] + p);
#pragma GCC unroll 4
      for (int q = 0; q < 8; q += 2) {
        t[q] = _mm256_unpacklo_ps(r[q], r[q + 1]);
        t[q + 1] = _mm256_unpackhi_ps(r[q], r[q + 1]);
      }
      // t[0] = r0[0] r1[0] r0[1] r1[1] | r0[4] ..., t[2] = r2[0] r3[0] ...: now pairs of pairs.
#pragma GCC unroll 2
      for (int q = 0; q < 8; q += 4) {
        r[q] = _mm256_shuffle_ps(t[q], t[q + 2], 0x44);
        r[q + 1] = _mm256_shuffle_ps(t[q], t[q + 2], 0xEE);
        r[q + 2] = _mm256_shuffle_ps(t[q + 1], t[q + 3], 0x44);
        r[q + 3] = _mm256_shuffle_ps(t[q + 1], t[q + 3], 0xEE);
      }
      // r[0..3]: columns 0..3 (low half) and 4..7 (high half) of rows 0..3; r[4..7] the same for rows 4..7.
#pragma GCC unroll 4
      for (int q = 0; q < 4; ++q) {
        _mm256_storeu_ps(dst + (p + q) * nr + j, _mm256_permute2f128_ps(r[q], r[q + 4], 0x20));
        _mm256_storeu_ps(dst + (p + q + 4) * nr + j, _mm256_permute2f128_ps(r[q], r[q + 4], 0x31));
      }
    }
  }
  for (; p < kc; ++p)
    for (int64_t j = 0; j < nr; ++j) dst[p * nr + j] = src[j][p];
}

void gemm_f16_to_f32_avx512(const void* src, float* dst, int64_t n) {
  const uint16_t* s = static_cast<const uint16_t*>(src);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(dst + i, _mm512_maskz_cvtph_ps(0xffff, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + i))));
  for (; i < n; ++i) dst[i] = _cvtsh_ss(s[i]);
}

void gemm_bf16_to_f32_avx512(const void* src, float* dst, int64_t n) {
  const uint16_t* s = static_cast<const uint16_t*>(src);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512i h = _mm512_maskz_cvtepu16_epi32(0xffff, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + i)));
    _mm512_storeu_ps(dst + i, _mm512_castsi512_ps(_mm512_maskz_slli_epi32(0xffff, h, 16)));
  }
  for (; i < n; ++i) {
    const __m128i h = _mm_cvtsi32_si128(int(uint32_t(s[i]) << 16));
    dst[i] = _mm_cvtss_f32(_mm_castsi128_ps(h));
  }
}

}  // namespace aigc
