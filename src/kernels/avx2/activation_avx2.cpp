// AVX2 SiLU, GELU (tanh and erf forms), quick GELU, SwiGLU and GEGLU.
#include "kernels/activation_isa.h"
#include "kernels/avx2/ops_math_avx2.h"

namespace aigc {
namespace {

__m256 silu_v_avx2(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  return _mm256_div_ps(x, _mm256_add_ps(one, exp_avx2(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}

// 0.5 x (1 + tanh(u)) with 1 + tanh(u) = 2 - 2 / (1 + e^{2u}).
__m256 gelu_tanh_v_avx2(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f), two = _mm256_set1_ps(2.0f);
  const __m256 x3 = _mm256_mul_ps(_mm256_mul_ps(x, x), x);
  const __m256 u = _mm256_mul_ps(_mm256_set1_ps(0.7978845608028654f),
                                 _mm256_fmadd_ps(_mm256_set1_ps(0.044715f), x3, x));
  const __m256 e = exp_avx2(_mm256_mul_ps(two, u));
  const __m256 one_plus_tanh = _mm256_sub_ps(two, _mm256_div_ps(two, _mm256_add_ps(one, e)));
  return _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), x), one_plus_tanh);
}

__m256 gelu_erf_v_avx2(__m256 x) {
  const __m256 e = erf_avx2(_mm256_mul_ps(x, _mm256_set1_ps(0.7071067811865476f)));
  return _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), x), _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}

// x / (1 + exp(-1.702 x))
__m256 quick_gelu_v_avx2(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  return _mm256_div_ps(x, _mm256_add_ps(one, exp_avx2(_mm256_mul_ps(_mm256_set1_ps(-1.702f), x))));
}

}  // namespace

void silu_avx2(float* out, const float* in, int64_t n) {
  for (int64_t i = 0; i < n; i += kLanesAvx2) {
    const int64_t r = n - i < kLanesAvx2 ? n - i : kLanesAvx2;
    store_tail_avx2(out + i, r, silu_v_avx2(load_tail_avx2(in + i, r)));
  }
}

void gelu_tanh_avx2(float* out, const float* in, int64_t n) {
  for (int64_t i = 0; i < n; i += kLanesAvx2) {
    const int64_t r = n - i < kLanesAvx2 ? n - i : kLanesAvx2;
    store_tail_avx2(out + i, r, gelu_tanh_v_avx2(load_tail_avx2(in + i, r)));
  }
}

void gelu_erf_avx2(float* out, const float* in, int64_t n) {
  for (int64_t i = 0; i < n; i += kLanesAvx2) {
    const int64_t r = n - i < kLanesAvx2 ? n - i : kLanesAvx2;
    store_tail_avx2(out + i, r, gelu_erf_v_avx2(load_tail_avx2(in + i, r)));
  }
}

void quick_gelu_avx2(float* out, const float* in, int64_t n) {
  for (int64_t i = 0; i < n; i += kLanesAvx2) {
    const int64_t r = n - i < kLanesAvx2 ? n - i : kLanesAvx2;
    store_tail_avx2(out + i, r, quick_gelu_v_avx2(load_tail_avx2(in + i, r)));
  }
}

void swiglu_avx2(float* out, const float* a, const float* b, int64_t n) {
  for (int64_t i = 0; i < n; i += kLanesAvx2) {
    const int64_t r = n - i < kLanesAvx2 ? n - i : kLanesAvx2;
    store_tail_avx2(out + i, r, _mm256_mul_ps(silu_v_avx2(load_tail_avx2(a + i, r)), load_tail_avx2(b + i, r)));
  }
}

void geglu_avx2(float* out, const float* a, const float* gate, int64_t n) {
  for (int64_t i = 0; i < n; i += kLanesAvx2) {
    const int64_t r = n - i < kLanesAvx2 ? n - i : kLanesAvx2;
    store_tail_avx2(out + i, r, _mm256_mul_ps(load_tail_avx2(a + i, r), gelu_erf_v_avx2(load_tail_avx2(gate + i, r))));
  }
}

}  // namespace aigc
