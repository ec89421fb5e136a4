// The ISA-specific kernels behind rope.h (avx2/rope_avx2.cpp,
// avx512/rope_avx512.cpp); only rope.cpp calls them. Each rotates one head of
// d floats in place with tables rope.cpp builds per token:
//   normal: c[d] = (c0, c0, c1, c1, ...), s[d] = (-s0, s0, -s1, s1, ...);
//           x' = x * c + swap_adjacent(x) * s
//   neox:   c[d/2], s[d/2]; x'[i] = x[i] c_i - x[i + d/2] s_i,
//           x'[i + d/2] = x[i + d/2] c_i + x[i] s_i
#pragma once

#include <cstdint>

namespace aigc {

void rope_normal_head_avx2(float* x, const float* c, const float* s, int64_t d);
void rope_neox_head_avx2(float* x, const float* c, const float* s, int64_t d);

void rope_normal_head_avx512(float* x, const float* c, const float* s, int64_t d);
void rope_neox_head_avx512(float* x, const float* c, const float* s, int64_t d);

}  // namespace aigc
