// Prompt weighting with the syntax of the AUTOMATIC1111 Stable Diffusion web
// UI (its parse_prompt_attention), and the per-token weights it gives.
//
//   (text)        weight x1.1       ((text))   x1.21
//   [text]        weight / 1.1      (text:1.3) weight x1.3
//   \( \) \[ \]   literal brackets  \\         a literal backslash
//   BREAK         (a whole word, upper case) ends the current 75-token window
//
// Brackets left open at the end still apply to everything after them; a
// closing bracket without an opener is kept as text; a lone backslash is
// dropped; "(x:w)" whose w is not a number (e.g. "1.2.3") is kept as text
// (the web UI raises an error there).
// Neighbouring pieces of equal weight are merged, as the web UI does.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "image/clip_tokenizer.h"

namespace aigc {

struct PromptPiece {
  std::string text;
  double weight = 1.0;
  // The web UI marks BREAK as text "BREAK" with weight -1 (a bracket around
  // it changes the weight, and then it is ordinary text again).
  bool is_break() const { return text == "BREAK" && weight == -1.0; }
};

// Never empty (an empty prompt gives one piece "" of weight 1). InvalidArgument
// naming the byte offset if `prompt` is not valid UTF-8.
Result<std::vector<PromptPiece>> parse_prompt_weights(std::string_view prompt);

// Ids of one BREAK-separated part of a prompt and the weight of each.
struct WeightedIds {
  std::vector<int32_t> ids;
  std::vector<float> weights;  // same length as ids
};

// Each piece tokenized on its own (as the web UI does); one WeightedIds per
// part between BREAKs.
Result<std::vector<WeightedIds>> tokenize_weighted(const ClipTokenizer& tokenizer,
                                                   const std::vector<PromptPiece>& pieces);

// The 77-token windows of a weighted prompt: each part in windows of 75; a
// BREAK pads the current window (an empty part still gives a padding window,
// except a trailing one).
Result<std::vector<ClipWindow>> weighted_prompt_windows(const ClipTokenizer& tokenizer, std::string_view prompt);

}  // namespace aigc
