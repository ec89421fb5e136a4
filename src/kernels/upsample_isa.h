// The ISA-specific kernels behind upsample.h (avx2/upsample_avx2.cpp,
// avx512/upsample_avx512.cpp); only upsample.cpp calls them. Each widens one
// input row of w floats into two identical output rows of 2w floats.
#pragma once

#include <cstdint>

namespace aigc {

void upsample_nearest2x_row_avx2(float* out0, float* out1, const float* in, int64_t w);
void upsample_nearest2x_row_avx512(float* out0, float* out1, const float* in, int64_t w);

}  // namespace aigc
