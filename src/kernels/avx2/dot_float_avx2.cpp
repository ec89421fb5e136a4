// AVX2 dots of F32 / F16 / BF16 weight rows with F32 activations: four
// 8-lane accumulators (32 elements a step), then 8 at a time, then a
// zero-padded tail.
#include <immintrin.h>

#include <cstdint>

#include "kernels/vec_dot_isa.h"

namespace aigc {
namespace {

constexpr int64_t kLanes = 8;

inline float hsum_f32x8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline __m256 load_f32(const float* p) { return _mm256_loadu_ps(p); }
inline __m256 load_f16(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
inline __m256 load_bf16(const uint16_t* p) {
  const __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
}

// Dot of n elements of T (loaded 8 at a time by `load`) with n floats.
template <class T, class Load>
float dot_plain(int64_t n, const T* x, const float* y, Load load) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 4 * kLanes <= n; i += 4 * kLanes) {
    a0 = _mm256_fmadd_ps(load(x + i), _mm256_loadu_ps(y + i), a0);
    a1 = _mm256_fmadd_ps(load(x + i + kLanes), _mm256_loadu_ps(y + i + kLanes), a1);
    a2 = _mm256_fmadd_ps(load(x + i + 2 * kLanes), _mm256_loadu_ps(y + i + 2 * kLanes), a2);
    a3 = _mm256_fmadd_ps(load(x + i + 3 * kLanes), _mm256_loadu_ps(y + i + 3 * kLanes), a3);
  }
  for (; i + kLanes <= n; i += kLanes) a0 = _mm256_fmadd_ps(load(x + i), _mm256_loadu_ps(y + i), a0);
  if (i < n) {
    T xt[kLanes] = {};
    float yt[kLanes] = {};
    for (int64_t k = 0; k < n - i; ++k) {
      xt[k] = x[i + k];
      yt[k] = y[i + k];
    }
    a1 = _mm256_fmadd_ps(load(xt), _mm256_loadu_ps(yt), a1);
  }
  return hsum_f32x8(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
}

}  // namespace

float vec_dot_f32_avx2(int64_t n, const void* x, const void* y) {
  return dot_plain(n, static_cast<const float*>(x), static_cast<const float*>(y), load_f32);
}
float vec_dot_f16_avx2(int64_t n, const void* x, const void* y) {
  return dot_plain(n, static_cast<const uint16_t*>(x), static_cast<const float*>(y), load_f16);
}
float vec_dot_bf16_avx2(int64_t n, const void* x, const void* y) {
  return dot_plain(n, static_cast<const uint16_t*>(x), static_cast<const float*>(y), load_bf16);
}

}  // namespace aigc
