// SentencePiece BPE (the "llama" tokenizer model): encodes text whose spaces
// are already escaped as U+2581 by repeatedly merging the adjacent pair of
// symbols that spells the token with the highest score (ties: the leftmost
// pair), starting from single characters. Characters that end up in no
// token become their <0xAB> byte tokens (byte fallback), or UNK.
//
// An SpmSession holds scratch buffers; it reads the Vocab and never changes
// it. Use one session per thread.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "text/tokenizer/vocab.h"

namespace aigc {

class SpmSession {
 public:
  explicit SpmSession(const Vocab& vocab) : vocab_(vocab) {}

  // Appends the ids of `text` (valid UTF-8, spaces escaped) to `out`.
  void encode(std::string_view text, std::vector<int32_t>& out);

 private:
  struct Symbol {
    uint32_t start, len;
    int32_t prev, next;
  };
  struct Candidate {
    float score;
    int32_t left, right;
    uint32_t len;  // bytes of the merged text
  };

  void add_candidate(std::string_view text, int32_t left, int32_t right);

  const Vocab& vocab_;
  std::vector<Symbol> symbols_;
  std::vector<Candidate> heap_;
};

}  // namespace aigc
