// Sampler: picks the next token from a row of logits.
//
// The chain, in order (as the common engines apply it):
//   logit bias -> repetition / presence / frequency penalties over the last
//   penalty_last_n accepted tokens -> (greedy if temperature <= 0) -> top-k
//   -> top-p -> min-p -> temperature -> softmax -> draw with the seeded RNG.
// The RNG is the project's own (SplitMix64), so the same seed and settings
// give the same tokens on every machine and thread count.
// One Sampler per sequence; not thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <utility>
#include <vector>

namespace aigc {

struct SamplingParams {
  float temperature = 0.8f;     // <= 0: greedy
  int top_k = 40;               // <= 0: off
  float top_p = 0.95f;          // >= 1: off
  float min_p = 0.05f;          // <= 0: off
  float repeat_penalty = 1.0f;  // 1: off (divides positive logits, multiplies negative ones)
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  int penalty_last_n = 64;      // tokens the penalties look back over
  std::vector<std::pair<int32_t, float>> logit_bias;  // token id, added to its logit
  uint64_t seed = 0;
};

class Sampler {
 public:
  Sampler(SamplingParams params, int n_vocab);

  // The next token from logits[0..n_vocab). Tokens with allowed[i] == false
  // (when `allowed` is given, e.g. by a grammar) are never picked; returns -1
  // if no token is allowed.
  int32_t sample(const float* logits, const std::vector<bool>* allowed = nullptr);
  // Records a token as generated (or as prompt context) for the penalties.
  void accept(int32_t token);
  void reset();  // forgets accepted tokens and restarts the RNG from the seed

  const SamplingParams& params() const { return params_; }

 private:
  double next_uniform();  // [0, 1)

  SamplingParams params_;
  int n_vocab_;
  uint64_t rng_state_;
  std::deque<int32_t> recent_;
  std::vector<std::pair<float, int32_t>> candidates_;  // scratch: (logit, id)
};

}  // namespace aigc
