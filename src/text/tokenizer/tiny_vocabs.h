// Small in-memory vocabularies for the tokenizer tests and the fuzzer: a
// SentencePiece one with byte fallback and a byte-level BPE one, each with
// control and user-defined tokens, spelling "hello world" in two tokens.
#pragma once

#include <cstdio>
#include <string>

#include "text/tokenizer/byte_level.h"
#include "text/tokenizer/vocab.h"

namespace aigc::tiny_vocabs {

// Ids: 0 <unk>, 1 <s>, 2 </s>, 3..258 <0x00>..<0xFF>, then the pieces below,
// then the user-defined <tool>.
inline VocabSpec spm() {
  VocabSpec s;
  s.source = "tiny-spm";
  s.kind = TokenizerKind::kSpm;
  auto add = [&s](std::string text, float score, TokenType type) {
    s.tokens.push_back(std::move(text));
    s.scores.push_back(score);
    s.token_types.push_back(int32_t(type));
  };
  add("<unk>", 0, TokenType::kUnknown);
  add("<s>", 0, TokenType::kControl);
  add("</s>", 0, TokenType::kControl);
  for (int b = 0; b < 256; ++b) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "<0x%02X>", b);
    add(hex, 0, TokenType::kByte);
  }
  const std::pair<const char*, float> pieces[] = {
      {"\xE2\x96\x81", -20}, {"h", -21}, {"e", -22}, {"l", -23}, {"o", -24}, {"w", -25}, {"r", -26}, {"d", -27},
      {"\xE2\x96\x81hello", -1}, {"hello", -2}, {"hell", -3}, {"hel", -4}, {"he", -5}, {"ll", -6},
      {"\xE2\x96\x81h", -7}, {"\xE2\x96\x81world", -8}, {"\xE2\x96\x81wor", -9}, {"or", -10},
      {"\xE2\x96\x81w", -11}, {"ld", -12}};
  for (const auto& [text, score] : pieces) add(text, score, TokenType::kNormal);
  add("<tool>", 0, TokenType::kUserDefined);
  return s;
}

// Ids: 0..255 the byte-level alphabet in byte order, then the merge results
// below, then "hel" (a token no merge makes), <|endoftext|> (control) and
// <tool> (user-defined).
inline VocabSpec bpe(std::string pre = "gpt-2") {
  VocabSpec s;
  s.source = "tiny-bpe";
  s.kind = TokenizerKind::kBpe;
  s.pre = std::move(pre);
  for (int b = 0; b < 256; ++b) {
    std::string t;
    const char c = char(b);
    byte_level_encode(std::string_view(&c, 1), t);
    s.tokens.push_back(t);
  }
  s.merges = {"h e", "l l", "he ll", "hell o", "Ġ w", "o r", "Ġw or", "l d", "Ġwor ld"};
  for (const std::string& m : s.merges) {
    const size_t space = m.find(' ');
    s.tokens.push_back(m.substr(0, space) + m.substr(space + 1));
  }
  s.tokens.push_back("hel");
  s.tokens.push_back("<|endoftext|>");
  s.tokens.push_back("<tool>");
  s.token_types.assign(s.tokens.size(), int32_t(TokenType::kNormal));
  s.token_types[s.tokens.size() - 2] = int32_t(TokenType::kControl);
  s.token_types[s.tokens.size() - 1] = int32_t(TokenType::kUserDefined);
  s.bos_id = s.eos_id = int32_t(s.tokens.size() - 2);
  return s;
}

}  // namespace aigc::tiny_vocabs
