// Scalar reference quantization for the GGUF block types: the truth that
// every optimised kernel is tested against.
//
// For each block type (layouts in quant_blocks.h):
//   dequantize_row_<t>(x, y, n)      blocks -> n floats          (dtype to_float)
//   quantize_row_<t>_ref(x, y, n)    n floats -> blocks          (dtype from_float)
//   vec_dot_<t>_<a>_ref(n, x, y)     dot of n elements: weights x in <t>,
//                                    activations y in <a>        (dtype vec_dot_ref)
// n is the number of elements and must be a multiple of the block size
// (32 for Q4_0..Q8_1, 256 for the K types); x and y are arrays of blocks.
//
// Bit-exactness: the quantizers reproduce llama.cpp/ggml's reference
// quantizers (ggml-quants.c, quantize_row_*_ref) operation for operation in
// float, so they write the bytes llama.cpp writes, and the dequantizers give
// the floats ggml gives. Rounding follows ggml: Q8_0/Q8_1 use roundf (half
// away from zero); Q4_0..Q5_1 truncate x*id + 8.5 etc.; the K types use
// nearest_int, round half to even through the 1.5*2^23 magic number. The K
// quantizers are ggml's searches without importance weights: make_qkx2_quants
// (Q2_K, Q4_K, Q5_K), make_q3_quants (Q3_K), make_qx_quants (Q6_K).
//
// Dot products follow ggml's generic code: integer sums inside a block,
// scaled by the block scales in float. Pairings: Q4_0, Q5_0, Q8_0 with Q8_0;
// Q4_1, Q5_1 with Q8_1; Q2_K..Q6_K with Q8_K. Q8_1 and Q8_K are activation
// types: they have no dot of their own.
//
// Inputs to the quantizers must be finite: NaN or infinity gives unspecified
// quants (as in ggml). All functions are pure and thread-safe.
#pragma once

#include <cstdint>

namespace aigc {

// ---- 32-element blocks -------------------------------------------------------

void dequantize_row_q4_0(const void* x, float* y, int64_t n);
void dequantize_row_q4_1(const void* x, float* y, int64_t n);
void dequantize_row_q5_0(const void* x, float* y, int64_t n);
void dequantize_row_q5_1(const void* x, float* y, int64_t n);
void dequantize_row_q8_0(const void* x, float* y, int64_t n);
void dequantize_row_q8_1(const void* x, float* y, int64_t n);

void quantize_row_q4_0_ref(const float* x, void* y, int64_t n);  // d = max / -8, signed max by |x|
void quantize_row_q4_1_ref(const float* x, void* y, int64_t n);  // d = (max - min) / 15, m = min
void quantize_row_q5_0_ref(const float* x, void* y, int64_t n);  // d = max / -16
void quantize_row_q5_1_ref(const float* x, void* y, int64_t n);  // d = (max - min) / 31, m = min
void quantize_row_q8_0_ref(const float* x, void* y, int64_t n);  // d = amax / 127, q = roundf(x / d)
void quantize_row_q8_1_ref(const float* x, void* y, int64_t n);  // as Q8_0, plus s = d * sum(q)

float vec_dot_q4_0_q8_0_ref(int64_t n, const void* x, const void* y);
float vec_dot_q4_1_q8_1_ref(int64_t n, const void* x, const void* y);
float vec_dot_q5_0_q8_0_ref(int64_t n, const void* x, const void* y);
float vec_dot_q5_1_q8_1_ref(int64_t n, const void* x, const void* y);
float vec_dot_q8_0_q8_0_ref(int64_t n, const void* x, const void* y);

// ---- 256-element super-blocks (K types) --------------------------------------

void dequantize_row_q2_k(const void* x, float* y, int64_t n);
void dequantize_row_q3_k(const void* x, float* y, int64_t n);
void dequantize_row_q4_k(const void* x, float* y, int64_t n);
void dequantize_row_q5_k(const void* x, float* y, int64_t n);
void dequantize_row_q6_k(const void* x, float* y, int64_t n);
void dequantize_row_q8_k(const void* x, float* y, int64_t n);

void quantize_row_q2_k_ref(const float* x, void* y, int64_t n);
void quantize_row_q3_k_ref(const float* x, void* y, int64_t n);
void quantize_row_q4_k_ref(const float* x, void* y, int64_t n);
void quantize_row_q5_k_ref(const float* x, void* y, int64_t n);
void quantize_row_q6_k_ref(const float* x, void* y, int64_t n);
// d = max / -127 (max: the element of largest |x|), q = min(127, nearest_int(x / d)),
// bsums = sums of 16 quants. An all-zero block gets d = 0 and zero quants and sums.
void quantize_row_q8_k_ref(const float* x, void* y, int64_t n);

float vec_dot_q2_k_q8_k_ref(int64_t n, const void* x, const void* y);
float vec_dot_q3_k_q8_k_ref(int64_t n, const void* x, const void* y);
float vec_dot_q4_k_q8_k_ref(int64_t n, const void* x, const void* y);
float vec_dot_q5_k_q8_k_ref(int64_t n, const void* x, const void* y);
float vec_dot_q6_k_q8_k_ref(int64_t n, const void* x, const void* y);

// ---- helpers shared with the optimised kernels -------------------------------

// ggml's nearest_int: round to nearest, ties to even, for |v| <= 4194303.
int quant_nearest_int(float v);

// Scale and min j (0..7) of a Q4_K / Q5_K super-block, unpacked from the 12
// packed bytes of 6-bit values.
void k4_scale_min(int j, const uint8_t* scales, uint8_t* scale, uint8_t* min);

// The 16 signed 6-bit scales of a Q3_K super-block (each -32..31), unpacked.
void q3_k_scales(const uint8_t* packed, int8_t* scales);

}  // namespace aigc
