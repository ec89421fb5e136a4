// BF16 AMX GEMM: C = A · B^T with A F32 activations and B's rows F32, F16
// or BF16, on the AMX tile unit (TDPBF16PS: 16 x 16 x 32 multiply-adds an
// instruction, about 13x the F32 FMA rate of AVX-512 on a
// Sapphire-Rapids-class core). The prompt-processing path of matmul for
// these weight types where amx_usable().
//
// Each value is split into bf16 (8-bit significand) parts, x = p0 + p1 (+ p2),
// each part the nearest bf16 (ties to even) to what the ones before leave.
// F16 weights (11 bits) are exactly two parts, BF16 one. Against F16 and
// BF16 weights the activations get two parts (16 significant bits), and
//   sum_k w0 a0 + w0 a1 + w1 a0
// is accumulated in F32 (w1 a1, below 2^-16 of |w a|, is left out):
//   |error| <= 2^-15 * sum_k |w_k a_k| + F32 accumulation rounding
// (rounding the activations to F16, as other engines do, leaves 2^-11).
// Against F32 weights both sides get three parts (24 bits) and the six
// products wi aj with i + j <= 2 are summed, leaving out terms below 2^-25
// of |w a|: as accurate as an F32 FMA GEMM, whose every product is rounded
// to 2^-24. Denormal bf16 parts count as zero (the hardware's rule), which
// matters only for values below about 2^-100.
// Legend as gemm_f32.h: m rows of A (tokens), n rows of B, k the reduced
// dimension (any size: it is padded with zeros to 32). Work is cut into
// fixed items (gemm_items.h), each element of C reduced by one thread in a
// fixed order, so results are bit-identical whatever the thread count.
#pragma once

#include <cstdint>

#include "core/dtype.h"

namespace aigc {

// Whether gemm_amx takes weights of this type (F32, F16, BF16).
bool gemm_amx_supports(DType b_type);

// Requires amx_usable() (core/cpu_features.h) and gemm_amx_supports(b_type).
void gemm_amx(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, DType b_type, const void* b,
              int64_t b_row_bytes, float* c, int64_t ldc);

}  // namespace aigc
