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

// The web UI's "comma padding backtrack" (its default: 20 tokens). Ids are put
// in a window one by one; when an id that is not a comma would go into a full
// window (75 ids) and that window's last comma is among its final `backtrack`
// ids (75 - comma index <= backtrack), the ids after that comma are moved to
// the next window, so the comma ends the window and the words after it stay
// together; otherwise the full window is closed as it is. A comma that meets a
// full window starts the next one. 0 turns this off (plain windows of 75).
inline constexpr int kDefaultCommaBacktrack = 20;

// The ids of one BREAK-separated part in chunks of at most 75 ids by the rule
// above (`comma_id`: the id of ","); an empty part gives one empty chunk.
std::vector<WeightedIds> comma_backtrack_chunks(const WeightedIds& part, int32_t comma_id, int backtrack);

// The 77-token windows of a weighted prompt: each part in windows of at most
// 75 ids (comma_backtrack_chunks); a BREAK pads the current window (an empty
// part still gives a padding window, except a trailing one).
Result<std::vector<ClipWindow>> weighted_prompt_windows(const ClipTokenizer& tokenizer, std::string_view prompt,
                                                        int comma_backtrack = kDefaultCommaBacktrack);

}  // namespace aigc
