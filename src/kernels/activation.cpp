// SiLU, GELU, quick GELU, SwiGLU, GEGLU: scalar references and dispatch.
#include "kernels/activation.h"

#include <cmath>

#include "core/cpu_features.h"
#include "kernels/activation_isa.h"
#include "kernels/parallel_chunks.h"

namespace aigc {

namespace {
constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kInvSqrt2 = 0.7071067811865476f;
constexpr float kQuickGeluScale = 1.702f;
}  // namespace

void silu_ref(float* out, const float* in, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = in[i] / (1.0f + std::exp(-in[i]));
}

void gelu_tanh_ref(float* out, const float* in, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float x = in[i];
    out[i] = 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * (x + 0.044715f * x * x * x)));
  }
}

void gelu_erf_ref(float* out, const float* in, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = 0.5f * in[i] * (1.0f + std::erf(in[i] * kInvSqrt2));
}

void quick_gelu_ref(float* out, const float* in, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = in[i] / (1.0f + std::exp(-kQuickGeluScale * in[i]));
}

void swiglu_ref(float* out, const float* a, const float* b, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = a[i] / (1.0f + std::exp(-a[i])) * b[i];
}

void geglu_ref(float* out, const float* a, const float* gate, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = a[i] * (0.5f * gate[i] * (1.0f + std::erf(gate[i] * kInvSqrt2)));
}

void silu(float* out, const float* in, int64_t n) {
  const Isa isa = active_isa();
  parallel_chunks(n, [&](int64_t begin, int64_t end) {
    switch (isa) {
      case Isa::kAvx512: silu_avx512(out + begin, in + begin, end - begin); break;
      case Isa::kAvx2: silu_avx2(out + begin, in + begin, end - begin); break;
      case Isa::kScalar: silu_ref(out + begin, in + begin, end - begin); break;
    }
  });
}

void gelu_tanh(float* out, const float* in, int64_t n) {
  const Isa isa = active_isa();
  parallel_chunks(n, [&](int64_t begin, int64_t end) {
    switch (isa) {
      case Isa::kAvx512: gelu_tanh_avx512(out + begin, in + begin, end - begin); break;
      case Isa::kAvx2: gelu_tanh_avx2(out + begin, in + begin, end - begin); break;
      case Isa::kScalar: gelu_tanh_ref(out + begin, in + begin, end - begin); break;
    }
  });
}

void gelu_erf(float* out, const float* in, int64_t n) {
  const Isa isa = active_isa();
  parallel_chunks(n, [&](int64_t begin, int64_t end) {
    switch (isa) {
      case Isa::kAvx512: gelu_erf_avx512(out + begin, in + begin, end - begin); break;
      case Isa::kAvx2: gelu_erf_avx2(out + begin, in + begin, end - begin); break;
      case Isa::kScalar: gelu_erf_ref(out + begin, in + begin, end - begin); break;
    }
  });
}

void quick_gelu(float* out, const float* in, int64_t n) {
  const Isa isa = active_isa();
  parallel_chunks(n, [&](int64_t begin, int64_t end) {
    switch (isa) {
      case Isa::kAvx512: quick_gelu_avx512(out + begin, in + begin, end - begin); break;
      case Isa::kAvx2: quick_gelu_avx2(out + begin, in + begin, end - begin); break;
      case Isa::kScalar: quick_gelu_ref(out + begin, in + begin, end - begin); break;
    }
  });
}

void swiglu(float* out, const float* a, const float* b, int64_t n) {
  const Isa isa = active_isa();
  parallel_chunks(n, [&](int64_t begin, int64_t end) {
    switch (isa) {
      case Isa::kAvx512: swiglu_avx512(out + begin, a + begin, b + begin, end - begin); break;
      case Isa::kAvx2: swiglu_avx2(out + begin, a + begin, b + begin, end - begin); break;
      case Isa::kScalar: swiglu_ref(out + begin, a + begin, b + begin, end - begin); break;
    }
  });
}

void geglu(float* out, const float* a, const float* gate, int64_t n) {
  const Isa isa = active_isa();
  parallel_chunks(n, [&](int64_t begin, int64_t end) {
    switch (isa) {
      case Isa::kAvx512: geglu_avx512(out + begin, a + begin, gate + begin, end - begin); break;
      case Isa::kAvx2: geglu_avx2(out + begin, a + begin, gate + begin, end - begin); break;
      case Isa::kScalar: geglu_ref(out + begin, a + begin, gate + begin, end - begin); break;
    }
  });
}

}  // namespace aigc
