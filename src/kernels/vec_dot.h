// Dot products of one weight row with one activation row, for every weight
// type, and the quantizers that turn F32 activations into the blocks those
// dots pair with. The building block of matrix x vector (text decode).
//
// A weight row of type T pairs with an activation row of
// dtype_traits(T)->vec_dot_type: F32 for F32/F16/BF16 weights, Q8_0 for
// Q4_0/Q5_0/Q8_0, Q8_1 for Q4_1/Q5_1, Q8_K for the K types. n is the row
// length in elements and must be a multiple of T's block size.
//
// Each kernel has a scalar reference (core/quants_ref, through the dtype
// table) and AVX2 / AVX-512 variants; asking for an ISA gives the best
// variant at or below it (and at or below what this CPU runs), down to the
// reference. Callers normally pass active_isa(). Optimised dots differ from
// the reference only by float summation order (the integer parts are exact);
// optimised activation quantizers give the reference's bytes exactly.
//
// Activation limits: the integer dots assume activation quants in -127..127,
// which is what every activation quantizer here writes.
//
// BF16 weights pair with F32 activations on every ISA (widening BF16 is a
// shift); there is no BF16 x BF16 (vdpbf16ps) pairing, which would round
// the activations to 8 mantissa bits.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/cpu_features.h"
#include "core/dtype.h"

namespace aigc {

// The dot kernel for weights of `weight_type` on `isa` (or the best lower
// ISA that has one); null if the type has no dot product at all.
VecDotFn vec_dot_kernel(DType weight_type, Isa isa);

// The quantizer of F32 activations to `act_type` (Q8_0, Q8_1, Q8_K; F32 and
// the other types fall back to the dtype table's reference from_float) on
// `isa` or the best lower ISA; null if there is none.
FromFloatFn quantize_activation_kernel(DType act_type, Isa isa);

// out[r] = dot(weight row r, y) for r in [0, n_rows): weight row r starts at
// x + r * x_row_stride bytes; y is one activation row in the vec_dot_type.
// Same results, bit for bit, as n_rows calls of vec_dot_kernel(weight_type, isa),
// and faster where a multi-row kernel shares the activation work between
// rows (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0: four rows a call (16 for Q4_0 on
// AVX-512), one after the other,
// so that memory is read in order). The matrix x vector path.
void vec_dot_rows(DType weight_type, Isa isa, int64_t n, int64_t n_rows, const void* x, size_t x_row_stride,
                  const void* y, float* out);

}  // namespace aigc
