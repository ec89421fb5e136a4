// Integer GEMM for quantized weights: C = A · B^T with A F32 activations
// quantized to 8 bits on the fly (one float scale per 32 elements of a row,
// per 16 for Q6_K) and B's rows in a quantized type whose every such block
// is w = s * u - o with unsigned quants u (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K,
// Q5_K, Q6_K). Each block's products are exact 8-bit integer dot products
// (vpdpbusd: 64 multiply-adds an instruction where an F32 FMA does 16), then
//   c[i][j] += (s_j * d_i) * sum(u q_i) - o_j * (d_i * sum(q_i))
// in float. The prompt-processing path of matmul for these types on AVX2
// (vpmaddubsw, 32 a 256-bit instruction, with 16-bit partial sums kept below
// saturation; not Q8_0), AVX-512 (VNNI) and AMX; the scalar reference is for tests.
//
// Legend as gemm_f32.h: m rows of A (tokens), n rows of B (output features),
// k the reduced dimension, a multiple of b_type's block size.
// The activations' rounding (to the nearest of 255 levels per block, as the
// dot path of decode does per 32 or 256) is the only difference from an
// exact product: |error| <= sum_k |w_k| * amax(block of a_k) / 254 plus
// float rounding. Threads take fixed tiles of C, each reduced by one thread in a
// fixed order, so results are bit-identical whatever the thread count, and
// the same on the scalar reference and every micro-kernel.
#pragma once

#include <cstdint>

#include "core/cpu_features.h"
#include "core/dtype.h"

namespace aigc {

// The micro-kernel gemm_q8 runs for `isa`: the best the CPU has up to it
// (AVX-512, then AVX2), the scalar reference for kScalar (tests).
Isa gemm_q8_kernel_isa(Isa isa);

// Whether gemm_q8 takes weights of this type at `isa`: Q8_0, Q4_0, Q4_1,
// Q5_0, Q5_1, Q4_K, Q5_K, Q6_K, except Q8_0 where the kernel is AVX2's:
// its quants reach 255, past what vpmaddubsw's 16-bit pair sums hold, and a
// signed variant (|w| times the activation with w's sign) lost to gemm_f32
// on dequantized weights (5632 x 2048, 2 threads, 512 tokens: 85 against 66 ms).
bool gemm_q8_supports(DType b_type, Isa isa);

// `isa` picks the micro-kernel (gemm_q8_kernel_isa; on AVX-512, AMX tiles
// where amx_usable()). Requires gemm_q8_supports(b_type, isa).
void gemm_q8(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, DType b_type, const void* b,
             int64_t b_row_bytes, float* c, int64_t ldc, Isa isa);

}  // namespace aigc
