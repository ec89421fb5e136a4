// F32 matrix multiply C = A · B^T, where B's rows may be of any dtype with a
// to_float (F32, F16, BF16, the quantized types): the project's own packed
// GEMM. It dequantizes weights while packing (no F32 copy of a quantized
// matrix) and is bit-identical for any thread count by construction. On the
// 2-core AVX2 development machine (one thread, CPU time, bench/gemm_bench,
// 512 x 2048 x 2048) it reaches 70-80% of the FMA loop's rate, the same as
// oneDNN 2.6's dnnl_sgemm within the noise of that shared machine, whether
// called per fixed tile (the thread-count-independent way to use it) or once
// on the whole matrix; so the project does not link oneDNN.
//
// Legend: m = rows of A and C (tokens), n = rows of B and columns of C
// (output features), k = the reduced dimension (input features).
//   A: [m, k] F32, row i at a + i * lda
//   B: [n, k] of b_type, row j at (const char*)b + j * b_row_bytes
//   C: [m, n] F32, row i at c + i * ldc
//
// B is dequantized to F32 tile by tile (kGemmKc elements of a row at a time)
// into a per-thread buffer, so a quantized B costs no extra memory. k must be
// a multiple of b_type's block size. Threads (OpenMP) take fixed tiles of C;
// every element of C is reduced by one thread in a fixed order, so results are
// bit-identical whatever the thread count. Scratch buffers are per thread and
// grow once; later calls of the same or smaller size do not allocate.
#pragma once

#include <cstdint>

#include "core/dtype.h"

namespace aigc {

constexpr int64_t kGemmKc = 256;  // elements of k per packed block (a multiple of every block size)

void gemm_f32(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, DType b_type, const void* b,
              int64_t b_row_bytes, float* c, int64_t ldc);

// The all-F32 case: B is [n, k] F32 with row j at b + j * ldb.
void gemm_f32(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
              int64_t ldc);

}  // namespace aigc
