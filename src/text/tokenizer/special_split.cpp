// Splitting raw text at special tokens.
#include "text/tokenizer/special_split.h"

#include <algorithm>

namespace aigc {

namespace {

bool wanted(const Vocab& vocab, int32_t id, bool parse_special) {
  return parse_special || vocab.type(id) == TokenType::kUserDefined;
}

// The special tokens (that the caller wants) occurring anywhere in `text`,
// in the vocabulary's matching order: one probe per special-token length at
// each position whose byte starts some special token.
std::vector<int32_t> occurring_tokens(const Vocab& vocab, std::string_view text, bool parse_special) {
  std::vector<int32_t> found;
  for (size_t p = 0; p < text.size(); ++p) {
    for (uint32_t len : vocab.special_lengths(uint8_t(text[p]))) {
      if (len > text.size() - p) continue;
      const int32_t id = vocab.find(text.substr(p, len));
      if (id < 0) continue;
      const TokenType t = vocab.type(id);
      const bool special = t == TokenType::kControl || t == TokenType::kUserDefined || t == TokenType::kUnknown;
      if (special && wanted(vocab, id, parse_special)) found.push_back(id);
    }
  }
  std::sort(found.begin(), found.end());
  found.erase(std::unique(found.begin(), found.end()), found.end());
  std::vector<int32_t> ordered;
  for (int32_t id : vocab.special_tokens())
    if (std::binary_search(found.begin(), found.end(), id)) ordered.push_back(id);
  return ordered;
}

}  // namespace

void split_special_tokens(const Vocab& vocab, std::string_view text, bool parse_special,
                          std::vector<TextFragment>& out) {
  out.clear();
  if (text.empty()) return;
  out.push_back({-1, text});
  std::vector<TextFragment> next;
  // Longest token first over all raw fragments, as llama.cpp does: a token
  // inside the match of a longer one is never matched.
  for (int32_t id : occurring_tokens(vocab, text, parse_special)) {
    const std::string_view token = vocab.text(id);
    next.clear();
    for (const TextFragment& f : out) {
      if (f.id >= 0) {
        next.push_back(f);
        continue;
      }
      size_t pos = 0;
      for (size_t hit; (hit = f.text.find(token, pos)) != std::string_view::npos; pos = hit + token.size()) {
        if (hit > pos) next.push_back({-1, f.text.substr(pos, hit - pos)});
        next.push_back({id, f.text.substr(hit, token.size())});
      }
      if (pos < f.text.size()) next.push_back({-1, f.text.substr(pos)});
    }
    out.swap(next);
  }
}

}  // namespace aigc
