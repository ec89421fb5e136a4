// AVX-512 loops for the machine ceilings: a streaming read and a
// register-only FMA loop. Structurally identical to
// avx2/machine_ceiling_avx2.cpp.
#include <immintrin.h>

#include "kernels/ceilings_isa.h"

namespace aigc {

uint64_t read_sum_avx512(const void* p, int64_t n_bytes) {
  const __m512i* v = static_cast<const __m512i*>(p);
  __m512i s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0;
  for (int64_t i = 0; i < n_bytes / 64; i += 4) {
    s0 = _mm512_add_epi64(s0, _mm512_load_si512(v + i));
    s1 = _mm512_add_epi64(s1, _mm512_load_si512(v + i + 1));
    s2 = _mm512_add_epi64(s2, _mm512_load_si512(v + i + 2));
    s3 = _mm512_add_epi64(s3, _mm512_load_si512(v + i + 3));
  }
  const __m512i s = _mm512_add_epi64(_mm512_add_epi64(s0, s1), _mm512_add_epi64(s2, s3));
  alignas(64) int64_t lanes[8];  // not _mm512_reduce_add_epi64: GCC 12's header warns (-Wuninitialized)
  _mm512_store_si512(lanes, s);
  int64_t total = 0;
  for (int64_t lane : lanes) total += lane;
  return uint64_t(total);
}

float fma_loop_avx512(int64_t iters) {
  __m512 acc[kFmaChains];
#pragma GCC unroll 12
  for (int i = 0; i < kFmaChains; ++i) acc[i] = _mm512_set1_ps(float(i));
  const __m512 mul = _mm512_set1_ps(0.999999f);
  const __m512 add = _mm512_set1_ps(1e-6f);
  for (int64_t it = 0; it < iters; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < kFmaChains; ++i) acc[i] = _mm512_fmadd_ps(acc[i], mul, add);
  }
  __m512 s = acc[0];
#pragma GCC unroll 12
  for (int i = 1; i < kFmaChains; ++i) s = _mm512_add_ps(s, acc[i]);
  return _mm512_cvtss_f32(s);
}

}  // namespace aigc
