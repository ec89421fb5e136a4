// Full (non-causal) attention as two small GEMMs per block of queries, for
// the long sequences of image models: S = Q K^T, softmax over each row of S,
// O = P V, on the conv2d micro-kernels (conv2d_isa.h). Only attention.cpp
// calls it, for attention_full on AVX2 / AVX-512; arguments as attention.h.
// Each output element is computed in an order fixed by the shape alone, so
// results do not depend on the thread count.
#pragma once

#include <cstdint>

#include "core/cpu_features.h"

namespace aigc {

// isa: kAvx2 or kAvx512.
void attention_full_gemm(float* out, const float* q, const float* k, const float* v, int64_t n_tokens, int64_t n_kv,
                         int64_t n_head, int64_t head_dim, Isa isa);

}  // namespace aigc
