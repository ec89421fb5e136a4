// Full (non-causal) attention on AMX tiles, for the long sequences of image
// models (attention_full in attention.h calls it where amx_usable()):
// per head and block of 32 queries, S = Q K^T with Q and K in three bf16
// parts and the six products of gemm_amx's F32 path (as accurate as F32),
// softmax over each row of S, then O = P V with P and V in two parts and
// three products: |error of O| <= 2^-15 max |v| (the weights P sum to 1)
// plus float rounding. Each output element is computed in an order fixed by
// the shape alone, so results do not depend on the thread count.
#pragma once

#include <cstdint>

namespace aigc {

// Arguments as attention_full (attention.h).
void attention_full_amx(float* out, const float* q, const float* k, const float* v, int64_t n_tokens, int64_t n_kv,
                        int64_t n_head, int64_t head_dim);

}  // namespace aigc
