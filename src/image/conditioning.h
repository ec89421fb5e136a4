// Prompt conditioning for Stable Diffusion 1.x: the prompt and the negative
// prompt (AUTOMATIC1111 web UI syntax, prompt_weights.h) turned into the
// cross-attention contexts of the guided UNet, as the web UI does it:
//   - each prompt is split into 77-token windows (up to 75 ids between start
//     and end, cut after a late comma by the web UI's comma padding backtrack,
//     prompt_weights.h; BREAK starts a new window);
//   - each window is encoded on its own (ClipTextEncoder::encode), then each
//     position's hidden state is multiplied by its weight and the window is
//     rescaled so its mean is the unweighted mean:
//         z' = z * weight[t];   z'' = z' * (mean(z) / mean(z'))
//     (the web UI's "Original" emphasis; means over the whole [77, dim] window);
//   - the windows are concatenated along the tokens;
//   - when one prompt has fewer windows, it is padded with the encoding of the
//     empty prompt's window, so both contexts have the same length.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "image/clip_text_encoder.h"
#include "image/clip_tokenizer.h"
#include "image/prompt_weights.h"

namespace aigc {

struct PromptConditioning {
  std::vector<float> cond, uncond;  // [n_tokens, dim] each
  int64_t n_tokens = 0, dim = 0;
};

Result<PromptConditioning> encode_prompts(const ClipTokenizer& tok, const ClipTextEncoder& enc,
                                          std::string_view prompt, std::string_view negative, int clip_skip,
                                          int comma_backtrack = kDefaultCommaBacktrack);

// The same from windows already made: `cond` and `uncond` non-empty, each
// window of the encoder's n_positions ids and weights; `empty` is the empty
// prompt's window (the padding). encode_prompts() is this after
// weighted_prompt_windows().
Result<PromptConditioning> encode_prompt_windows(const ClipTextEncoder& enc, const std::vector<ClipWindow>& cond,
                                                 const std::vector<ClipWindow>& uncond, const ClipWindow& empty,
                                                 int clip_skip);

// One window with its weights -> out [n_positions, dim], weighted and mean-restored.
Status encode_weighted_window(const ClipTextEncoder& enc, const ClipWindow& window, int clip_skip, float* out);

}  // namespace aigc
