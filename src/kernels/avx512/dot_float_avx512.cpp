// AVX-512 dots of F32 / F16 / BF16 weight rows with F32 activations: four
// 16-lane accumulators (64 elements a step, the weights prefetched ahead),
// then 16 at a time, then a masked tail.
#include "kernels/avx512/ops_math_avx512.h"
#include "kernels/vec_dot_isa.h"

namespace aigc {
namespace {

constexpr int64_t kLanes = kLanesAvx512;

inline __m512 load_f32(const float* p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); }
inline __m512 load_f16(const uint16_t* p, __mmask16 m) { return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p)); }
inline __m512 load_bf16(const uint16_t* p, __mmask16 m) {
  const __m512i w = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, p));
  return _mm512_castsi512_ps(_mm512_slli_epi32(w, 16));
}

// Dot of n elements of T (loaded 16 at a time under a mask by `load`) with n floats.
template <class T, class Load>
float dot_plain(int64_t n, const T* x, const float* y, Load load) {
  const __mmask16 all = 0xFFFF;
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 4 * kLanes <= n; i += 4 * kLanes) {
    const char* ahead = reinterpret_cast<const char*>(x + i) + kWeightPrefetchBytes;
#pragma GCC unroll 4
    for (size_t off = 0; off < 4 * kLanes * sizeof(T); off += 64) _mm_prefetch(ahead + off, _MM_HINT_T1);
    a0 = _mm512_fmadd_ps(load(x + i, all), _mm512_loadu_ps(y + i), a0);
    a1 = _mm512_fmadd_ps(load(x + i + kLanes, all), _mm512_loadu_ps(y + i + kLanes), a1);
    a2 = _mm512_fmadd_ps(load(x + i + 2 * kLanes, all), _mm512_loadu_ps(y + i + 2 * kLanes), a2);
    a3 = _mm512_fmadd_ps(load(x + i + 3 * kLanes, all), _mm512_loadu_ps(y + i + 3 * kLanes), a3);
  }
  for (; i + kLanes <= n; i += kLanes) a0 = _mm512_fmadd_ps(load(x + i, all), _mm512_loadu_ps(y + i), a0);
  if (i < n) {
    const __mmask16 m = tail_mask_avx512(n - i);
    a1 = _mm512_fmadd_ps(load(x + i, m), _mm512_maskz_loadu_ps(m, y + i), a1);
  }
  return hsum_avx512(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

}  // namespace

float vec_dot_f32_avx512(int64_t n, const void* x, const void* y) {
  return dot_plain(n, static_cast<const float*>(x), static_cast<const float*>(y), load_f32);
}
float vec_dot_f16_avx512(int64_t n, const void* x, const void* y) {
  return dot_plain(n, static_cast<const uint16_t*>(x), static_cast<const float*>(y), load_f16);
}
float vec_dot_bf16_avx512(int64_t n, const void* x, const void* y) {
  return dot_plain(n, static_cast<const uint16_t*>(x), static_cast<const float*>(y), load_bf16);
}

}  // namespace aigc
