// Rotary position embedding (RoPE), applied in place to queries or keys.
//
// Legend: T = n_tokens, H = n_head, D = head_dim (even; all D dims rotate).
// x: [T, H, D]; pos: [T], the position of each token.
//
// Dimension pair i (0 <= i < D/2) of a token at position p rotates by
//   theta_i = p * freq_scale * freq_base^(-2i/D)
// (freq_scale < 1 is linear position interpolation). The pair is
//   kNormal: (x[2i], x[2i+1])    — GPT-J / LLaMA (llama.cpp mode 0)
//   kNeox:   (x[i], x[i + D/2])  — GPT-NeoX / Qwen2 (HF rotate_half)
// and becomes (a cos - b sin, a sin + b cos).
//
// rope_ref is the scalar reference (angles in double); rope dispatches to the
// AVX2 or AVX-512 variant chosen by active_isa(), threaded over tokens
// (results do not depend on the thread count).
#pragma once

#include <cstdint>

namespace aigc {

enum class RopeMode { kNormal, kNeox };

void rope_ref(float* x, const int32_t* pos, RopeMode mode, float freq_base, float freq_scale, int64_t n_tokens,
              int64_t n_head, int64_t head_dim);
void rope(float* x, const int32_t* pos, RopeMode mode, float freq_base, float freq_scale, int64_t n_tokens,
          int64_t n_head, int64_t head_dim);

}  // namespace aigc
