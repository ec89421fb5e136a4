// The ISA-specific GEMM micro-kernels behind gemm_f32.h (avx2/gemm_f32_avx2.cpp,
// avx512/gemm_f32_avx512.cpp); only gemm_f32.cpp calls them.
//
// Each computes one tile of mr rows by nr columns from packed panels:
//   c[i * ldc + j] = (accumulate ? c[i * ldc + j] : 0) + sum_p a[p * mr + i] * b[p * nr + j]
// with one fused multiply-add per p, in order p = 0, 1, ..., kc - 1.
// mr x nr is 6 x 16 for AVX2 (12 of the 16 ymm registers accumulate) and
// 8 x 32 for AVX-512 (16 of 32 zmm: 6 x 32 measured 2-5% slower on a
// Sapphire-Rapids-class Xeon). The scalar variant in gemm_f32.cpp follows
// the same order with 6 x 16.
//
// gemm_pack_panel_*: nr rows (src[j], nr a multiple of 8), columns [0, kc),
// into one packed panel dst[p * nr + j] = src[j][p].
//
// gemm_{f16,bf16}_to_f32_*: exact conversion of n half / bfloat16 values
// (any n) to floats, for packing F16 and BF16 weights.
#pragma once

#include <cstdint>

namespace aigc {

void gemm_f32_tile_6x16_avx2(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int accumulate);
void gemm_f32_tile_8x32_avx512(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int accumulate);

void gemm_pack_panel_avx2(const float* const* src, int64_t nr, int64_t kc, float* dst);
void gemm_pack_panel_avx512(const float* const* src, int64_t nr, int64_t kc, float* dst);

void gemm_f16_to_f32_avx2(const void* src, float* dst, int64_t n);
void gemm_bf16_to_f32_avx2(const void* src, float* dst, int64_t n);
void gemm_f16_to_f32_avx512(const void* src, float* dst, int64_t n);
void gemm_bf16_to_f32_avx512(const void* src, float* dst, int64_t n);

}  // namespace aigc
