// AVX-512 (VNNI) dots of the quantized weight types against Q8_0 / Q8_1 /
// Q8_K activations: the shared kernel bodies with VNNI integer primitives
// (vpdpbusd on 256-bit registers, which sums four u8 x s8 products into each
// int32 lane without the int16 step of AVX2; vpdpwssd applies the K types'
// int16 scales and accumulates in one instruction). Q4_0 has its own
// 512-bit kernel (dot_q4_0_avx512.cpp).
#include <immintrin.h>

#include <cstdint>

namespace aigc {
namespace {

inline __m256i dot_i32(__m256i u, __m256i s) { return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s); }
inline __m256i madd_acc(__m256i acc, __m256i p, __m256i scales) { return _mm256_dpwssd_epi32(acc, p, scales); }

}  // namespace
}  // namespace aigc

#include "kernels/vec_dot_isa.h"
#include "kernels/vec_dot_simd_body.h"

namespace aigc {

float vec_dot_q4_1_avx512(int64_t n, const void* x, const void* y) { return one_row<dot_q4_1_rows<1>>(n, x, y); }
void vec_dot_q4_1_rows4_avx512(int64_t n, const void* x, size_t stride, const void* y, float* out) {
  dot_q4_1_rows<4>(n, x, stride, y, out);
}
float vec_dot_q5_0_avx512(int64_t n, const void* x, const void* y) { return one_row<dot_q5_0_rows<1>>(n, x, y); }
void vec_dot_q5_0_rows4_avx512(int64_t n, const void* x, size_t stride, const void* y, float* out) {
  dot_q5_0_rows<4>(n, x, stride, y, out);
}
float vec_dot_q5_1_avx512(int64_t n, const void* x, const void* y) { return one_row<dot_q5_1_rows<1>>(n, x, y); }
void vec_dot_q5_1_rows4_avx512(int64_t n, const void* x, size_t stride, const void* y, float* out) {
  dot_q5_1_rows<4>(n, x, stride, y, out);
}
float vec_dot_q8_0_avx512(int64_t n, const void* x, const void* y) { return one_row<dot_q8_0_rows<1>>(n, x, y); }
void vec_dot_q8_0_rows4_avx512(int64_t n, const void* x, size_t stride, const void* y, float* out) {
  dot_q8_0_rows<4>(n, x, stride, y, out);
}
float vec_dot_q2_k_avx512(int64_t n, const void* x, const void* y) { return dot_q2_k_body(n, x, y); }
float vec_dot_q3_k_avx512(int64_t n, const void* x, const void* y) { return dot_q3_k_body(n, x, y); }
float vec_dot_q4_k_avx512(int64_t n, const void* x, const void* y) { return dot_q4_k_body(n, x, y); }
float vec_dot_q5_k_avx512(int64_t n, const void* x, const void* y) { return dot_q5_k_body(n, x, y); }
float vec_dot_q6_k_avx512(int64_t n, const void* x, const void* y) { return dot_q6_k_body(n, x, y); }

}  // namespace aigc
