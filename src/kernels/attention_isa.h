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

void attention_row_f32_avx512(float* out, const float* q, const float* k, const float* v, int64_t kv_stride,
                              int64_t n_kv, int64_t d, float scale, float* scores);
void attention_row_f16_avx512(float* out, const float* q, const uint16_t* k, const uint16_t* v, int64_t kv_stride,
                              int64_t n_kv, int64_t d, float scale, float* scores);

}  // namespace aigc
