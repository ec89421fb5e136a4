// matmul: Y = X · W^T for weights of any dtype (F32, F16, BF16, the GGUF
// quantized types), the operation behind every linear layer.
//
// Legend: n_tokens = rows of X and Y, n_in = input features, n_out = output
// features.
//   w: [n_out, n_in] in its stored dtype, row-major rows as GGUF stores them
//      (rows may be strided, e.g. a slice of a larger tensor)
//   x: [n_tokens, n_in] F32 (or [n_in] for one token), innermost contiguous
//   y: [n_tokens, n_out] F32 (or [n_out]), innermost contiguous
//
// Two paths, chosen by n_tokens:
// - n_tokens < matmul_gemm_min_tokens(w.dtype) (decode, batched decode; bound by memory
//   bandwidth): each row of x is quantized once to the weight type's
//   vec_dot_type (Q8_0, Q8_1, Q8_K; F32 for plain types) and each output is
//   one vec_dot of a weight row with it. Threads take fixed chunks of weight
//   rows, each dotted with every token while in cache. A token's result does
//   not depend on the other tokens in the batch.
// - from that many tokens on (prompt; bound by compute): for the types
//   gemm_q8 takes (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K; on AVX2
//   all but Q8_0), integer products against activations quantized to 8 bits
//   per 32 elements (16 for Q6_K), on AVX2, AVX-512 VNNI or AMX tiles, the
//   same bits on each; where the CPU has AMX (amx_usable()), for F32, F16 and BF16
//   weights, gemm_amx's BF16 tiles with activations kept to 16 bits against
//   F16/BF16 (two bf16 parts) and to 24 against F32 (three: F32-grade);
//   otherwise gemm_f32 with F32 activations, weights dequantized to F32
//   tile by tile.
// Every output element is computed by one thread in a fixed order, so the
// result is bit-identical whatever the thread count. Scratch memory (the
// quantized activation, packing buffers) is per thread and grows once; calls
// of an already-seen size do not allocate.
//
// y must not overlap x or w. Shapes and types are the caller's contract (checked with AIGC_ASSERT):
// model loaders validate tensor shapes and types before they get here.
#pragma once

#include "core/dtype.h"
#include "core/tensor.h"

namespace aigc {

// The fewest tokens for which matmul uses the GEMM for weights of w_type;
// below it, dot products against quantized activations. The GEMM has a fixed
// cost (dequantizing and packing every weight) that enough tokens must share;
// measured on the development machines: from about 8 tokens for F32
// weights; for F16, BF16 and the quantized types, whose dots cost less per
// token and whose dequantization costs more, from about 32 and 64 (Q8_0 on
// AVX2: 32); where gemm_q8 runs (AVX-512; AVX2 but for Q8_0), from 16; where
// gemm_amx runs (F16, BF16), from 8.
int64_t matmul_gemm_min_tokens(DType w_type);

// Whether matmul supports weights of this type (it can dequantize them and
// has a dot product for them).
bool matmul_supports(DType w_type);

// Whether matmul rounds the activations to 8 bits (per 32 elements or per
// block of the weights' vec_dot_type) for this many tokens against weights
// of w_type on the active ISA, rather than using them as F32.
bool matmul_quantizes_activations(DType w_type, int64_t n_tokens);

// Whether matmul keeps 16 significant bits of the activations for this many
// tokens against weights of w_type (gemm_amx on F16/BF16: |error| <= 2^-15
// sum |w x| plus F32 rounding), rather than using them as F32 (or, for F32
// weights on gemm_amx, 24 bits: within F32 rounding).
bool matmul_splits_activations(DType w_type, int64_t n_tokens);

void matmul(Tensor y, const Tensor& w, const Tensor& x);

// The dot-product path in two steps, for a forward pass that runs as one
// OpenMP parallel region (LLM decode: a few barriers per layer instead of a
// parallel region per matrix), and that converts an activation once for all
// the weights that read it (Q, K and V; gate and up).
//
// Bytes of one row of n_in activations in the form the dots of w_type read
// (its vec_dot_type: quantized, or F32 for plain types).
int64_t matmul_act_row_bytes(DType w_type, int64_t n_in);

// Converts one row of n_in F32 activations x to that form, into act.
void matmul_convert_act(DType w_type, const float* x, int64_t n_in, void* act);

// y[t * y_ld + r] = dot(row r of w, activation row t) for every row r of w
// and t < n_tokens; activation row t (converted by matmul_convert_act) is at
// act + t * act_stride bytes. Inside a parallel region every thread of the
// team must call it: the rows are shared among them in fixed chunks (an
// orphaned `omp for nowait`), and there is no barrier at the end, so the
// caller puts one before reading y. Outside a parallel region the calling
// thread does all of it. Same results, bit for bit, as matmul's dot path.
void matmul_dots_shared(float* y, int64_t y_ld, const Tensor& w, const void* act, int64_t act_stride,
                        int64_t n_tokens);

// Scalar reference: the exact math on the stored weights, y = sum_i
// to_float(w)[o, i] * x[t, i] accumulated in double, with F32 activations.
// (matmul's dot-product path differs from it by the rounding of the
// activations to vec_dot_type.)
void matmul_ref(Tensor y, const Tensor& w, const Tensor& x);

}  // namespace aigc
