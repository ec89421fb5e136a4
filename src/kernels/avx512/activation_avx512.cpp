// AVX-512 SiLU, GELU (tanh and erf forms), quick GELU, SwiGLU and GEGLU.
#include "kernels/activation_isa.h"
#include "kernels/avx512/ops_math_avx512.h"

namespace aigc {
namespace {

__m512 silu_v_avx512(__m512 x) {
  const __m512 one = _mm512_set1_ps(1.0f);
  return _mm512_div_ps(x, _mm512_add_ps(one, exp_avx512(_mm512_sub_ps(_mm512_setzero_ps(), x))));
}

// 0.5 x (1 + tanh(u)) with 1 + tanh(u) = 2 - 2 / (1 + e^{2u}).
__m512 gelu_tanh_v_avx512(__m512 x) {
  const __m512 one = _mm512_set1_ps(1.0f), two = _mm512_set1_ps(2.0f);
  const __m512 x3 = _mm512_mul_ps(_mm512_mul_ps(x, x), x);
  const __m512 u = _mm512_mul_ps(_mm512_set1_ps(0.7978845608028654f),
                                 _mm512_fmadd_ps(_mm512_set1_ps(0.044715f), x3, x));
  const __m512 e = exp_avx512(_mm512_mul_ps(two, u));
  const __m512 one_plus_tanh = _mm512_sub_ps(two, _mm512_div_ps(two, _mm512_add_ps(one, e)));
  return _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), x), one_plus_tanh);
}

__m512 gelu_erf_v_avx512(__m512 x) {
  const __m512 e = erf_avx512(_mm512_mul_ps(x, _mm512_set1_ps(0.7071067811865476f)));
  return _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), x), _mm512_add_ps(_mm512_set1_ps(1.0f), e));
}

// x / (1 + exp(-1.702 x))
__m512 quick_gelu_v_avx512(__m512 x) {
  const __m512 one = _mm512_set1_ps(1.0f);
  return _mm512_div_ps(x, _mm512_add_ps(one, exp_avx512(_mm512_mul_ps(_mm512_set1_ps(-1.702f), x))));
}

}  // namespace

void silu_avx512(float* out, const float* in, int64_t n) {
  for (int64_t i = 0; i < n; i += kLanesAvx512) {
    const int64_t r = n - i < kLanesAvx512 ? n - i : kLanesAvx512;
    store_tail_avx512(out + i, r, silu_v_avx512(load_tail_avx512(in + i, r)));
  }
}

void gelu_tanh_avx512(float* out, const float* in, int64_t n) {
  for (int64_t i = 0; i < n; i += kLanesAvx512) {
    const int64_t r = n - i < kLanesAvx512 ? n - i : kLanesAvx512;
    store_tail_avx512(out + i, r, gelu_tanh_v_avx512(load_tail_avx512(in + i, r)));
  }
}

void gelu_erf_avx512(float* out, const float* in, int64_t n) {
  for (int64_t i = 0; i < n; i += kLanesAvx512) {
    const int64_t r = n - i < kLanesAvx512 ? n - i : kLanesAvx512;
    store_tail_avx512(out + i, r, gelu_erf_v_avx512(load_tail_avx512(in + i, r)));
  }
}

void quick_gelu_avx512(float* out, const float* in, int64_t n) {
  for (int64_t i = 0; i < n; i += kLanesAvx512) {
    const int64_t r = n - i < kLanesAvx512 ? n - i : kLanesAvx512;
    store_tail_avx512(out + i, r, quick_gelu_v_avx512(load_tail_avx512(in + i, r)));
  }
}

void swiglu_avx512(float* out, const float* a, const float* b, int64_t n) {
  for (int64_t i = 0; i < n; i += kLanesAvx512) {
    const int64_t r = n - i < kLanesAvx512 ? n - i : kLanesAvx512;
    store_tail_avx512(out + i, r, _mm512_mul_ps(silu_v_avx512(load_tail_avx512(a + i, r)), load_tail_avx512(b + i, r)));
  }
}

void geglu_avx512(float* out, const float* a, const float* gate, int64_t n) {
  for (int64_t i = 0; i < n; i += kLanesAvx512) {
    const int64_t r = n - i < kLanesAvx512 ? n - i : kLanesAvx512;
    store_tail_avx512(out + i, r,
                      _mm512_mul_ps(load_tail_avx512(a + i, r), gelu_erf_v_avx512(load_tail_avx512(gate + i, r))));
  }
}

}  // namespace aigc
