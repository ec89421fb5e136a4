// Scaled dot-product attention: causal over a KV cache (LLMs, grouped-query
// heads allowed) and full, non-causal attention (image models).
//
// Legend: T = n_tokens (queries), H = n_head, H_kv = n_head_kv (H is a
// multiple of H_kv; query head h reads KV head h / (H / H_kv)), D = head_dim,
// n_ctx = KV cache rows, n_kv = keys/values of full attention.
//
// For each query token t and head h:
//   s_j = (q[t, h, :] . k[j, kv_head, :]) / sqrt(D)
//   out[t, h, :] = sum_j softmax(s)_j v[j, kv_head, :]
//
// <op>_ref is the scalar reference (double accumulation); <op> dispatches to
// the AVX2 or AVX-512 variant chosen by active_isa(), threaded over
// heads x tokens: each output row is computed by one thread in an order fixed
// by the shape, so results do not depend on the thread count. attention_full
// runs as two blocked GEMMs per six queries (attention_gemm.h);
// attention_cached walks the cache row by row (attention_isa.h).
#pragma once

#include <cstdint>

#include "core/dtype.h"

namespace aigc {

// out: [T, H, D]; q: [T, H, D]; k_cache, v_cache: [n_ctx, H_kv, D] of
// cache_type (F32 or F16); pos: [T]. Query t attends to cache rows
// 0..pos[t] (causal); pos[t] < n_ctx. The caller has already written the
// tokens' own keys and values into the cache.
void attention_cached_ref(float* out, const float* q, const void* k_cache, const void* v_cache, DType cache_type,
                          const int32_t* pos, int64_t n_tokens, int64_t n_head, int64_t n_head_kv, int64_t head_dim,
                          int64_t n_ctx);
void attention_cached(float* out, const float* q, const void* k_cache, const void* v_cache, DType cache_type,
                      const int32_t* pos, int64_t n_tokens, int64_t n_head, int64_t n_head_kv, int64_t head_dim,
                      int64_t n_ctx);

// out: [T, H, D]; q: [T, H, D]; k, v: [n_kv, H, D]. Every query attends to
// all n_kv keys (no mask).
void attention_full_ref(float* out, const float* q, const float* k, const float* v, int64_t n_tokens, int64_t n_kv,
                        int64_t n_head, int64_t head_dim);
void attention_full(float* out, const float* q, const float* k, const float* v, int64_t n_tokens, int64_t n_kv,
                    int64_t n_head, int64_t head_dim);

}  // namespace aigc
