// The ISA-specific dot kernels and activation quantizers behind vec_dot.h
// (defined in avx2/dot_*_avx2.cpp and avx512/dot_*_avx512.cpp). Only
// vec_dot.cpp refers to them, and hands them out only for an ISA the caller
// asked for; arguments as VecDotFn / FromFloatFn in core/dtype.h.
#pragma once

#include <cstddef>
#include <cstdint>

namespace aigc {

// Weights stream from memory once per token: the dot kernels prefetch them
// this far ahead into L2 (_MM_HINT_T1), which the hardware prefetchers alone
// do not do early enough. Measured with 2 threads on 2048 x 5632 weights
// (aigc bench kernels): on a Sapphire-Rapids-class Xeon, T1 instead of T0
// (L1) took Q8_0 from 66% to 80-87% of the read ceiling, Q4_0 60 -> 64-70,
// Q4_K 61 -> 68-73 (T0 prefetches hold L1 fill buffers for the whole memory
// latency), and the float dots (no prefetch before) F16 75 -> 90-96; 4-6
// KiB ahead beat 1, 2, 8 and 12 KiB. On a Zen 3 EPYC (one thread), 4 KiB
// ahead took Q4_0 from 8 to 10.4 GB/s. Past the end of a row this fetches
// the next rows, which matmul reads next.
constexpr size_t kWeightPrefetchBytes = 6144;

// Several weight rows (at x + r * x_row_stride bytes) against one activation
// row: out[r] equals the single-row kernel's result for row r, bit for bit.
// Four rows a call, or 16 for the AVX-512 Q4_0 kernel, whose activation
// rearrangement costs as much as a row's own work (2048 x 5632 matrix x
// vector, 2 threads: 69-71% -> 73-76% of the read ceiling with 16; the
// shared-body kernels lose with 16: Q8_0 84-89% -> 79-80%).
constexpr int64_t kDotRowsPerCall = 4;
constexpr int64_t kDotRowsPerCallQ4_0Avx512 = 16;
using VecDotRowsFn = void (*)(int64_t n, const void* x, size_t x_row_stride, const void* y, float* out);

float vec_dot_f32_avx2(int64_t n, const void* x, const void* y);
float vec_dot_f16_avx2(int64_t n, const void* x, const void* y);
float vec_dot_bf16_avx2(int64_t n, const void* x, const void* y);
float vec_dot_q4_0_avx2(int64_t n, const void* x, const void* y);
float vec_dot_q4_1_avx2(int64_t n, const void* x, const void* y);
float vec_dot_q5_0_avx2(int64_t n, const void* x, const void* y);
float vec_dot_q5_1_avx2(int64_t n, const void* x, const void* y);
float vec_dot_q8_0_avx2(int64_t n, const void* x, const void* y);
void vec_dot_q4_0_rows4_avx2(int64_t n, const void* x, size_t x_row_stride, const void* y, float* out);
void vec_dot_q4_1_rows4_avx2(int64_t n, const void* x, size_t x_row_stride, const void* y, float* out);
void vec_dot_q5_0_rows4_avx2(int64_t n, const void* x, size_t x_row_stride, const void* y, float* out);
void vec_dot_q5_1_rows4_avx2(int64_t n, const void* x, size_t x_row_stride, const void* y, float* out);
void vec_dot_q8_0_rows4_avx2(int64_t n, const void* x, size_t x_row_stride, const void* y, float* out);
float vec_dot_q2_k_avx2(int64_t n, const void* x, const void* y);
float vec_dot_q3_k_avx2(int64_t n, const void* x, const void* y);
float vec_dot_q4_k_avx2(int64_t n, const void* x, const void* y);
float vec_dot_q5_k_avx2(int64_t n, const void* x, const void* y);
float vec_dot_q6_k_avx2(int64_t n, const void* x, const void* y);
void quantize_row_q8_0_avx2(const float* x, void* y, int64_t n);
void quantize_row_q8_1_avx2(const float* x, void* y, int64_t n);
void quantize_row_q8_k_avx2(const float* x, void* y, int64_t n);

float vec_dot_f32_avx512(int64_t n, const void* x, const void* y);
float vec_dot_f16_avx512(int64_t n, const void* x, const void* y);
float vec_dot_bf16_avx512(int64_t n, const void* x, const void* y);
float vec_dot_q4_0_avx512(int64_t n, const void* x, const void* y);
float vec_dot_q4_1_avx512(int64_t n, const void* x, const void* y);
float vec_dot_q5_0_avx512(int64_t n, const void* x, const void* y);
float vec_dot_q5_1_avx512(int64_t n, const void* x, const void* y);
float vec_dot_q8_0_avx512(int64_t n, const void* x, const void* y);
void vec_dot_q4_0_rows16_avx512(int64_t n, const void* x, size_t x_row_stride, const void* y, float* out);
void vec_dot_q4_1_rows4_avx512(int64_t n, const void* x, size_t x_row_stride, const void* y, float* out);
void vec_dot_q5_0_rows4_avx512(int64_t n, const void* x, size_t x_row_stride, const void* y, float* out);
void vec_dot_q5_1_rows4_avx512(int64_t n, const void* x, size_t x_row_stride, const void* y, float* out);
void vec_dot_q8_0_rows4_avx512(int64_t n, const void* x, size_t x_row_stride, const void* y, float* out);
float vec_dot_q2_k_avx512(int64_t n, const void* x, const void* y);
float vec_dot_q3_k_avx512(int64_t n, const void* x, const void* y);
float vec_dot_q4_k_avx512(int64_t n, const void* x, const void* y);
float vec_dot_q5_k_avx512(int64_t n, const void* x, const void* y);
float vec_dot_q6_k_avx512(int64_t n, const void* x, const void* y);
void quantize_row_q8_0_avx512(const float* x, void* y, int64_t n);
void quantize_row_q8_1_avx512(const float* x, void* y, int64_t n);
void quantize_row_q8_k_avx512(const float* x, void* y, int64_t n);

}  // namespace aigc
