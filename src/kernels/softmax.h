// Softmax over rows, numerically stable, with an optional scale and additive
// mask (as used by attention scores).
//
// Legend: n_rows = rows, n = elements per row.
//
// softmax_ref is the scalar reference; softmax dispatches to the AVX2 or
// AVX-512 variant chosen by active_isa(), threaded over rows (one row per
// thread, fixed order: results do not depend on the thread count).
// `out` may alias `in`.
#pragma once

#include <cstdint>

namespace aigc {

// z = in[r, :] * scale + mask[r, :] (mask null: no mask);
// out[r, i] = exp(z_i - max(z)) / sum_j exp(z_j - max(z)).
// A row whose z are all -inf (fully masked) gives zeros.
void softmax_ref(float* out, const float* in, const float* mask, float scale, int64_t n_rows, int64_t n);
void softmax(float* out, const float* in, const float* mask, float scale, int64_t n_rows, int64_t n);

}  // namespace aigc
