// AVX2 loops for the machine ceilings: a streaming read and a register-only
// FMA loop.
#include <immintrin.h>

#include "kernels/ceilings_isa.h"

namespace aigc {

uint64_t read_sum_avx2(const void* p, int64_t n_bytes) {
  const __m256i* v = static_cast<const __m256i*>(p);
  __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
  for (int64_t i = 0; i < n_bytes / 32; i += 8) {
    s0 = _mm256_add_epi64(s0, _mm256_load_si256(v + i));
    s1 = _mm256_add_epi64(s1, _mm256_load_si256(v + i + 1));
    s2 = _mm256_add_epi64(s2, _mm256_load_si256(v + i + 2));
    s3 = _mm256_add_epi64(s3, _mm256_load_si256(v + i + 3));
    s0 = _mm256_add_epi64(s0, _mm256_load_si256(v + i + 4));
    s1 = _mm256_add_epi64(s1, _mm256_load_si256(v + i + 5));
    s2 = _mm256_add_epi64(s2, _mm256_load_si256(v + i + 6));
    s3 = _mm256_add_epi64(s3, _mm256_load_si256(v + i + 7));
  }
  const __m256i s = _mm256_add_epi64(_mm256_add_epi64(s0, s1), _mm256_add_epi64(s2, s3));
  return uint64_t(_mm256_extract_epi64(s, 0) + _mm256_extract_epi64(s, 1) + _mm256_extract_epi64(s, 2) +
                  _mm256_extract_epi64(s, 3));
}

float fma_loop_avx2(int64_t iters) {
  __m256 acc[kFmaChains];
#pragma GCC unroll 12
  for (int i = 0; i < kFmaChains; ++i) acc[i] = _mm256_set1_ps(float(i));
  const __m256 mul = _mm256_set1_ps(0.999999f);
  const __m256 add = _mm256_set1_ps(1e-6f);
  for (int64_t it = 0; it < iters; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < kFmaChains; ++i) acc[i] = _mm256_fmadd_ps(acc[i], mul, add);
  }
  __m256 s = acc[0];
#pragma GCC unroll 12
  for (int i = 1; i < kFmaChains; ++i) s = _mm256_add_ps(s, acc[i]);
  return _mm256_cvtss_f32(s);
}

}  // namespace aigc
