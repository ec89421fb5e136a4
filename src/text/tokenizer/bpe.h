// Byte-level BPE (GPT-2 style): encodes one pre-tokenized word, spelt in
// the byte-level alphabet, by repeatedly merging the adjacent pair of
// symbols whose merge has the lowest rank (ties: the leftmost pair).
//
// A BpeSession holds scratch buffers reused across words; it reads the
// Vocab and never changes it. Use one session per thread.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "text/tokenizer/vocab.h"

namespace aigc {

class BpeSession {
 public:
  explicit BpeSession(const Vocab& vocab) : vocab_(vocab) {}

  // Appends the ids of `word` (valid UTF-8 in the byte-level alphabet) to
  // `out`. With `ignore_merges` (Llama 3), a word that is itself a token is
  // that token. A final symbol that is not a token is emitted byte by byte
  // as one-byte tokens, or the UNK token, and skipped when there is neither.
  void encode_word(std::string_view word, bool ignore_merges, std::vector<int32_t>& out);

 private:
  struct Symbol {
    uint32_t start, len;  // bytes of the word
    int32_t id;           // token spelt by the symbol, or -1
    int32_t prev, next;   // neighbours in the chain, -1 at the ends
  };
  struct Candidate {
    int32_t rank;
    int32_t left, right;        // symbol indices
    int32_t left_id, right_id;  // their ids when the candidate was made
  };

  void add_candidate(int32_t left, int32_t right);

  const Vocab& vocab_;
  std::vector<Symbol> symbols_;
  std::vector<Candidate> heap_;
};

}  // namespace aigc
