// BF16 AMX GEMM for F16 and BF16 weights: C = A · B^T with A F32 activations
// and B's rows F16 or BF16, on the AMX tile unit (TDPBF16PS: 16 x 16 x 32
// multiply-adds an instruction, about 13x the F32 FMA rate of AVX-512 on a
// Sapphire-Rapids-class core). The prompt-processing path of matmul for
// these weight types where amx_usable().
//
// Each value is split into two bf16 (8-bit significand) parts, x = hi + lo
// with hi = bf16(x) and lo = bf16(x - hi), both rounded to nearest even. A
// weight of F16 (11 bits) or BF16 is exactly hi + lo (lo = 0 for BF16); an
// activation keeps 16 significant bits. The product is
//   sum_k w_hi a_hi + w_hi a_lo + w_lo a_hi
// accumulated in F32 (w_lo a_lo, below 2^-16 of |w a|, is left out), so
//   |error| <= 2^-15 * sum_k |w_k a_k| + F32 accumulation rounding
// (for comparison, rounding the activations to F16 as other engines do
// leaves 2^-11). Denormal bf16 parts count as zero (the hardware's rule).
// Legend as gemm_f32.h: m rows of A (tokens), n rows of B, k the reduced
// dimension (any size: it is padded with zeros to 32). Work is cut into
// fixed items (gemm_items.h), each element of C reduced by one thread in a
// fixed order, so results are bit-identical whatever the thread count.
#pragma once

#include <cstdint>

#include "core/dtype.h"

namespace aigc {

// Whether gemm_amx takes weights of this type (F16, BF16).
bool gemm_amx_supports(DType b_type);

// Requires amx_usable() (core/cpu_features.h) and gemm_amx_supports(b_type).
void gemm_amx(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, DType b_type, const void* b,
              int64_t b_row_bytes, float* c, int64_t ldc);

}  // namespace aigc
