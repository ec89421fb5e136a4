// The ISA-specific kernels behind elementwise.h (avx2/elementwise_avx2.cpp,
// avx512/elementwise_avx512.cpp); only elementwise.cpp calls them.
#pragma once

#include <cstdint>

namespace aigc {

void elementwise_add_avx2(float* out, const float* a, const float* b, int64_t n);
void elementwise_mul_avx2(float* out, const float* a, const float* b, int64_t n);
void elementwise_scale_avx2(float* out, const float* in, float s, int64_t n);

void elementwise_add_avx512(float* out, const float* a, const float* b, int64_t n);
void elementwise_mul_avx512(float* out, const float* a, const float* b, int64_t n);
void elementwise_scale_avx512(float* out, const float* in, float s, int64_t n);

}  // namespace aigc
