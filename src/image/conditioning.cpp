// Prompt conditioning (conditioning.h): windows of both prompts, encoded,
// weighted with the web UI's mean restoration, padded to the same length.
#include "image/conditioning.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "image/prompt_weights.h"

namespace aigc {

Status encode_weighted_window(const ClipTextEncoder& enc, const ClipWindow& window, int clip_skip, float* out) {
  const int64_t T = enc.config().n_positions, d = enc.config().dim;
  if (static_cast<int64_t>(window.ids.size()) != T || window.weights.size() != window.ids.size()) {
    return Status::invalid_argument("prompt conditioning: a window has " + std::to_string(window.ids.size()) +
                                    " ids and " + std::to_string(window.weights.size()) +
                                    " weights; the text encoder takes " + std::to_string(T));
  }
  AIGC_RETURN_IF_ERROR(enc.encode(window.ids.data(), clip_skip, out));

  double original_sum = 0, weighted_sum = 0;
  for (int64_t t = 0; t < T; ++t) {
    float* row = out + t * d;
    for (int64_t i = 0; i < d; ++i) {
      original_sum += row[i];
      row[i] *= window.weights[t];
      weighted_sum += row[i];
    }
  }
  // mean(z) / mean(z'): the sums share the count. A zero weighted mean (a
  // degenerate weighting) is left unscaled rather than made infinite.
  if (weighted_sum != 0) {
    const float scale = static_cast<float>(original_sum / weighted_sum);
    for (int64_t i = 0; i < T * d; ++i) out[i] *= scale;
  }
  return Status::ok_status();
}

Result<PromptConditioning> encode_prompt_windows(const ClipTextEncoder& enc, const std::vector<ClipWindow>& cond,
                                                 const std::vector<ClipWindow>& uncond, const ClipWindow& empty,
                                                 int clip_skip) {
  if (cond.empty() || uncond.empty()) {
    return Status::invalid_argument("prompt conditioning: the " + std::string(cond.empty() ? "prompt" : "negative") +
                                    " has no windows");
  }
  const int64_t T = enc.config().n_positions, d = enc.config().dim;
  const size_t n_windows = std::max(cond.size(), uncond.size());
  PromptConditioning out;
  out.n_tokens = static_cast<int64_t>(n_windows) * T;
  out.dim = d;
  out.cond.resize(static_cast<size_t>(out.n_tokens * d));
  out.uncond.resize(out.cond.size());

  std::vector<float> empty_hidden;  // encoded once, if either side needs padding
  if (cond.size() != uncond.size()) {
    empty_hidden.resize(static_cast<size_t>(T * d));
    AIGC_RETURN_IF_ERROR(encode_weighted_window(enc, empty, clip_skip, empty_hidden.data()));
  }
  for (auto [windows, hidden] : {std::pair{&cond, &out.cond}, std::pair{&uncond, &out.uncond}}) {
    for (size_t i = 0; i < n_windows; ++i) {
      float* dst = hidden->data() + i * T * d;
      if (i < windows->size()) {
        AIGC_RETURN_IF_ERROR(encode_weighted_window(enc, (*windows)[i], clip_skip, dst));
      } else {
        std::copy(empty_hidden.begin(), empty_hidden.end(), dst);
      }
    }
  }
  return out;
}

Result<PromptConditioning> encode_prompts(const ClipTokenizer& tok, const ClipTextEncoder& enc,
                                          std::string_view prompt, std::string_view negative, int clip_skip,
                                          int comma_backtrack) {
  AIGC_ASSIGN_OR_RETURN(std::vector<ClipWindow> cond, weighted_prompt_windows(tok, prompt, comma_backtrack));
  AIGC_ASSIGN_OR_RETURN(std::vector<ClipWindow> uncond, weighted_prompt_windows(tok, negative, comma_backtrack));
  return encode_prompt_windows(enc, cond, uncond, tok.windows({}).front(), clip_skip);
}

}  // namespace aigc
