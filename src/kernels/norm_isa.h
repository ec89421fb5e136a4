// The ISA-specific row kernels behind norm.h (defined in avx2/norm_avx2.cpp
// and avx512/norm_avx512.cpp). Only norm.cpp calls them, after checking
// active_isa(). Arguments as in norm.h, for one row or one group.
#pragma once

#include <cstdint>

namespace aigc {

void rms_norm_row_avx2(float* out, const float* in, const float* weight, float eps, int64_t n);
void layer_norm_row_avx2(float* out, const float* in, const float* weight, const float* bias, float eps, int64_t n);
// One group: `channels` maps of `hw` elements, weight/bias point at the group's first channel.
void group_norm_group_avx2(float* out, const float* in, const float* weight, const float* bias, float eps,
                           int64_t channels, int64_t hw);

void rms_norm_row_avx512(float* out, const float* in, const float* weight, float eps, int64_t n);
void layer_norm_row_avx512(float* out, const float* in, const float* weight, const float* bias, float eps, int64_t n);
void group_norm_group_avx512(float* out, const float* in, const float* weight, const float* bias, float eps,
                             int64_t channels, int64_t hw);

}  // namespace aigc
