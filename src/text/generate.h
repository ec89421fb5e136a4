// generate: the text generation loop. Prompt tokens go through the model in
// batches, then tokens are sampled one at a time until the token budget, an
// end-of-generation token, a stop string, the end of the grammar, or the
// caller says stop. Text is handed out as it is generated, always as whole
// UTF-8 characters, holding back only what might be the start of a stop
// string.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "text/grammar/grammar.h"
#include "text/llm/llm.h"
#include "text/sampler.h"
#include "text/tokenizer/tokenizer.h"

namespace aigc {

struct GenerateOptions {
  int n_predict = 256;              // most new tokens; < 0: until the context is full
  SamplingParams sampling;
  std::vector<std::string> stop;    // stop strings; the text ends before the first one
  const Grammar* grammar = nullptr; // if set, the output is a sentence of this grammar
  bool truncate = false;            // drop the oldest prompt tokens if the prompt is too long
  int seq = 0;                      // sequence slot of the context to use
  // Tokens already in the slot's KV cache from an earlier call (chat turns):
  // the common prefix with the prompt is reused, and on return this holds
  // what the cache holds. Null: the slot starts empty.
  std::vector<int32_t>* cached_tokens = nullptr;
};

struct GenerateResult {
  std::string text;         // the generated text (without the stop string), valid UTF-8
  std::vector<int32_t> tokens;  // the generated token ids
  int n_prompt = 0;         // prompt tokens, after truncation
  int n_prompt_evaluated = 0;  // prompt tokens that went through the model (the rest were cached)
  int n_generated = 0;
  std::string stop_reason;  // "length", "eos", "stop", "grammar", "context", "cancelled"
  double prompt_seconds = 0;
  double generate_seconds = 0;
};

// on_text receives each new piece of text; returning false stops generation
// ("cancelled"). May be empty.
using OnText = std::function<bool(std::string_view)>;

Result<GenerateResult> generate(LlmContext& ctx, const Tokenizer& tokenizer, std::vector<int32_t> prompt,
                                const GenerateOptions& options, const OnText& on_text);

// Whether `id` ends generation: EOS, or a control token that chat models use
// to end a turn (<|eot_id|>, <|im_end|>, <|end|>, <|endoftext|>, <end_of_turn>, ...).
bool is_end_of_generation(const Tokenizer& tokenizer, int32_t id);

}  // namespace aigc
