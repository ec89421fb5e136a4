// The ISA-specific kernels behind activation.h (avx2/activation_avx2.cpp,
// avx512/activation_avx512.cpp); only activation.cpp calls them.
#pragma once

#include <cstdint>

namespace aigc {

void silu_avx2(float* out, const float* in, int64_t n);
void gelu_tanh_avx2(float* out, const float* in, int64_t n);
void gelu_erf_avx2(float* out, const float* in, int64_t n);
void quick_gelu_avx2(float* out, const float* in, int64_t n);
void swiglu_avx2(float* out, const float* a, const float* b, int64_t n);
void geglu_avx2(float* out, const float* a, const float* gate, int64_t n);

void silu_avx512(float* out, const float* in, int64_t n);
void gelu_tanh_avx512(float* out, const float* in, int64_t n);
void gelu_erf_avx512(float* out, const float* in, int64_t n);
void quick_gelu_avx512(float* out, const float* in, int64_t n);
void swiglu_avx512(float* out, const float* a, const float* b, int64_t n);
void geglu_avx512(float* out, const float* a, const float* gate, int64_t n);

}  // namespace aigc
