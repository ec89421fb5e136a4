// The ISA-specific kernels behind attention.h (avx2/attention_avx2.cpp,
// avx512/attention_avx512.cpp); only attention.cpp calls them.
//
// Each computes one output row: out[d] = sum_j softmax(scale * q.k_j)_j v_j
// over j < n_kv, where k_j = k + j * kv_stride (elements; F32 or F16 as the
// name says), likewise v_j. scores: scratch for n_kv floats.
#pragma once

#include <cstdint>

namespace aigc {

void attention_row_f32_avx2(float* out, const float* q, const float* k, const float* v, int64_t kv_stride,
                            int64_t n_kv, int64_t d, float scale, float* scores);
void attention_row_f16_avx2(float* out, const float* q, const uint16_t* k, const uint16_t* v, int64_t kv_stride,
                            int64_t n_kv, int64_t d, float scale, float* scores);

// The n_heads query heads that share one KV head (grouped-query attention),
// q and out [n_heads, d] (heads d apart), over F32 or F16 keys and values:
// the same results per head as attention_row_*_avx512, with each key and
// value read (and converted) once for all the heads. scores: scratch for
// n_heads * n_kv floats. Only where attention_heads_avx512_takes(n_heads, d).
constexpr int64_t kAttentionMaxHeads = 64;
constexpr bool attention_heads_avx512_takes(int64_t n_heads, int64_t d) {
  return n_heads <= kAttentionMaxHeads && (d == 64 || d == 128);
}
void attention_heads_f32_avx512(float* out, const float* q, int64_t n_heads, const float* k, const float* v,
                                int64_t kv_stride, int64_t n_kv, int64_t d, float scale, float* scores);
void attention_heads_f16_avx512(float* out, const float* q, int64_t n_heads, const uint16_t* k, const uint16_t* v,
                                int64_t kv_stride, int64_t n_kv, int64_t d, float scale, float* scores);

void attention_row_f32_avx512(float* out, const float* q, const float* k, const float* v, int64_t kv_stride,
                              int64_t n_kv, int64_t d, float scale, float* scores);
void attention_row_f16_avx512(float* out, const float* q, const uint16_t* k, const uint16_t* v, int64_t kv_stride,
                              int64_t n_kv, int64_t d, float scale, float* scores);

}  // namespace aigc
