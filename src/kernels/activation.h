// Activations: SiLU, GELU (tanh approximation and exact erf form), CLIP's
// quick GELU and the gated helpers SwiGLU, silu(a) * b, and GEGLU, a * gelu(gate).
//
// Legend: n = number of elements.
//
// <op>_ref is the scalar reference; <op> dispatches to the AVX2 or AVX-512
// variant chosen by active_isa(), threaded over fixed chunks (results do not
// depend on the thread count). `out` may alias any input.
#pragma once

#include <cstdint>

namespace aigc {

// out = x * sigmoid(x) = x / (1 + exp(-x))
void silu_ref(float* out, const float* in, int64_t n);
void silu(float* out, const float* in, int64_t n);

// out = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))  (GPT-2, torch approximate="tanh")
void gelu_tanh_ref(float* out, const float* in, int64_t n);
void gelu_tanh(float* out, const float* in, int64_t n);

// out = 0.5 x (1 + erf(x / sqrt(2)))  (torch.nn.functional.gelu default)
void gelu_erf_ref(float* out, const float* in, int64_t n);
void gelu_erf(float* out, const float* in, int64_t n);

// out = x * sigmoid(1.702 x) = x / (1 + exp(-1.702 x))  (CLIP's "quick_gelu")
void quick_gelu_ref(float* out, const float* in, int64_t n);
void quick_gelu(float* out, const float* in, int64_t n);

// out = silu(a) * b  (LLaMA FFN: w2(silu(w1 x) * w3 x))
void swiglu_ref(float* out, const float* a, const float* b, int64_t n);
void swiglu(float* out, const float* a, const float* b, int64_t n);

// out = a * gelu_erf(gate)  (Stable Diffusion's GEGLU: x, gate = proj(h).chunk(2); x * gelu(gate))
void geglu_ref(float* out, const float* a, const float* gate, int64_t n);
void geglu(float* out, const float* a, const float* gate, int64_t n);

}  // namespace aigc
