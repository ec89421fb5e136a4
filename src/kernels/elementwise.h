// Element-wise arithmetic on F32 arrays: add, multiply, scale, add a bias row.
//
// Legend: n = elements (per row), n_rows = rows.
//
// <op>_ref is the scalar reference; <op> dispatches to the AVX2 or AVX-512
// variant chosen by active_isa(), threaded over fixed chunks (rows). Results
// are exact IEEE single-precision operations, identical for every variant and
// thread count. `out` may alias any input.
#pragma once

#include <cstdint>

namespace aigc {

// out = a + b
void elementwise_add_ref(float* out, const float* a, const float* b, int64_t n);
void elementwise_add(float* out, const float* a, const float* b, int64_t n);

// out = a * b
void elementwise_mul_ref(float* out, const float* a, const float* b, int64_t n);
void elementwise_mul(float* out, const float* a, const float* b, int64_t n);

// out = in * s
void elementwise_scale_ref(float* out, const float* in, float s, int64_t n);
void elementwise_scale(float* out, const float* in, float s, int64_t n);

// out[r, i] = in[r, i] + bias[i]; out, in: [n_rows, n], bias: [n].
void add_bias_ref(float* out, const float* in, const float* bias, int64_t n_rows, int64_t n);
void add_bias(float* out, const float* in, const float* bias, int64_t n_rows, int64_t n);

}  // namespace aigc
