// Rotary position embedding (RoPE), applied in place to queries or keys.
//
// Legend: T = n_tokens, H = n_head, D = head_dim (even; all D dims rotate).
// x: [T, H, D]; pos: [T], the position of each token.
//
// Dimension pair i (0 <= i < R/2, R = n_rot, all D dims by default) of a
// token at position p rotates by
//   theta_i = p * freq_scale * freq_base^(-2i/R) / freq_factors[i]
// (freq_scale < 1 is linear position interpolation). The pair is
//   kNormal: (x[2i], x[2i+1])    — GPT-J / LLaMA (llama.cpp mode 0)
//   kNeox:   (x[i], x[i + R/2])  — GPT-NeoX / Qwen2 (HF rotate_half)
// and becomes (a cos - b sin, a sin + b cos).
//
// rope_ref is the scalar reference (angles in double); rope dispatches to the
// AVX2 or AVX-512 variant chosen by active_isa(), threaded over tokens
// (results do not depend on the thread count).
#pragma once

#include <cstdint>

namespace aigc {

enum class RopeMode { kNormal, kNeox };

// Everything a model may set. Only the first n_rot dimensions of each head
// rotate (pairs within them as the mode says); the rest pass through.
// freq_factors (llama3-style scaling, GGUF rope_freqs.weight): pair i's
// angle is divided by freq_factors[i].
struct RopeParams {
  RopeMode mode = RopeMode::kNormal;
  float freq_base = 10000.0f;
  float freq_scale = 1.0f;
  int64_t n_rot = 0;                     // rotated dims per head (even); 0 = head_dim
  const float* freq_factors = nullptr;   // [n_rot / 2] or null
};

void rope_ref(float* x, const int32_t* pos, const RopeParams& p, int64_t n_tokens, int64_t n_head, int64_t head_dim);
void rope(float* x, const int32_t* pos, const RopeParams& p, int64_t n_tokens, int64_t n_head, int64_t head_dim);

// All dimensions rotate, no frequency factors.
void rope_ref(float* x, const int32_t* pos, RopeMode mode, float freq_base, float freq_scale, int64_t n_tokens,
              int64_t n_head, int64_t head_dim);
void rope(float* x, const int32_t* pos, RopeMode mode, float freq_base, float freq_scale, int64_t n_tokens,
          int64_t n_head, int64_t head_dim);

}  // namespace aigc
