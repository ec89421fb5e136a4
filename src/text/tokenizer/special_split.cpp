// Splitting raw text at special tokens.
#include "text/tokenizer/special_split.h"

namespace aigc {

void split_special_tokens(const Vocab& vocab, std::string_view text, bool parse_special,
                          std::vector<TextFragment>& out) {
  out.clear();
  if (text.empty()) return;
  out.push_back({-1, text});
  std::vector<TextFragment> next;
  for (int32_t id : vocab.special_tokens()) {
    const TokenType type = vocab.type(id);
    if (!parse_special && type != TokenType::kUserDefined) continue;
    const std::string_view token = vocab.text(id);
    bool found = false;
    for (const TextFragment& f : out)
      if (f.id < 0 && f.text.find(token) != std::string_view::npos) found = true;
    if (!found) continue;
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
