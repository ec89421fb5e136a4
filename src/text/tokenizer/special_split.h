// Splitting raw text at the special tokens it spells, before
// pre-tokenization: user-defined tokens are always matched, control and
// unknown tokens (<s>, <|endoftext|>, ...) only when the caller asks to
// parse special tokens. Longer tokens are matched first, as llama.cpp does.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "text/tokenizer/vocab.h"

namespace aigc {

// One piece of the input: a matched token (id >= 0) or raw text (id == -1).
struct TextFragment {
  int32_t id = -1;
  std::string_view text;  // view into the input; for a token, the text it matched
};

// Replaces `out` with the fragments of `text`, in order; raw fragments are
// never empty and all fragments concatenate to `text`.
void split_special_tokens(const Vocab& vocab, std::string_view text, bool parse_special,
                          std::vector<TextFragment>& out);

}  // namespace aigc
