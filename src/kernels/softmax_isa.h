// The ISA-specific row kernels behind softmax.h (avx2/softmax_avx2.cpp,
// avx512/softmax_avx512.cpp); only softmax.cpp calls them. One row each;
// mask is that row's mask or null.
#pragma once

#include <cstdint>

namespace aigc {

void softmax_row_avx2(float* out, const float* in, const float* mask, float scale, int64_t n);
void softmax_row_avx512(float* out, const float* in, const float* mask, float scale, int64_t n);

}  // namespace aigc
