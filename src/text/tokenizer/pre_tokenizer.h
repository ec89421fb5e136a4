// PreTokenizer: splits text into the pieces that byte-level BPE encodes one
// at a time, with the regular expressions of the pre-tokenizer named by
// tokenizer.ggml.pre (gpt-2, llama3, qwen2, deepseek-llm, starcoder, default).
//
// Each type is a sequence of Unicode regexes (PCRE2, UTF + UCP, JIT),
// compiled once in create(). Every regex splits every current piece into its
// matches and the text between them (HuggingFace's Split "Isolated"), so the
// pieces always concatenate back to the input. A PreTokenizer is immutable:
// split() may run on many threads at once.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace aigc {

enum class PreTokenizerType { kDefault, kGpt2, kLlama3, kQwen2, kDeepseekLlm, kStarcoder };

// The type for a tokenizer.ggml.pre value, using llama.cpp's names ("" and
// "default" are kDefault); Unsupported naming the value otherwise.
Result<PreTokenizerType> pre_tokenizer_type(std::string_view name);
const char* pre_tokenizer_name(PreTokenizerType type);

class PreTokenizer {
 public:
  static Result<PreTokenizer> create(PreTokenizerType type);

  // Appends the pieces of `text` (valid UTF-8) to `pieces`; they are views
  // into `text` and concatenate to it. Empty text gives no pieces.
  void split(std::string_view text, std::vector<std::string_view>& pieces) const;

 private:
  struct Regex;

  std::vector<std::shared_ptr<const Regex>> regexes_;  // applied in order
};

}  // namespace aigc
