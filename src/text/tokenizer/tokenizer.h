// Tokenizer: the LLM tokenizer facade. Text -> token ids (SentencePiece BPE
// or byte-level BPE with the model's pre-tokenizer, special tokens, BOS/EOS)
// and token ids -> text, as llama.cpp and the models' reference tokenizers
// do it, built from a GGUF file's tokenizer.ggml.* metadata or from plain
// vectors (VocabSpec).
//
//   AIGC_ASSIGN_OR_RETURN(Tokenizer tok, Tokenizer::from_gguf(gguf));
//   AIGC_ASSIGN_OR_RETURN(std::vector<int32_t> ids, tok.encode(prompt, /*add_special=*/true,
//                                                              /*parse_special=*/false));
//   std::string text = tok.token_to_piece(ids[0]);
//
// A Tokenizer is immutable after creation (regexes compiled once): encode,
// decode and token_to_piece may run on many threads at once.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "text/tokenizer/pre_tokenizer.h"
#include "text/tokenizer/vocab.h"

namespace aigc {

class GgufFile;

class Tokenizer {
 public:
  // Where decoding stands between tokens (see decode_append).
  struct DecodeState {
    bool at_text_start = true;  // SPM: the next text piece had a space prefix added
  };

  static Result<Tokenizer> create(const VocabSpec& spec);
  static Result<Tokenizer> from_gguf(const GgufFile& file);
  static Result<Tokenizer> from_vocab(Vocab vocab);

  // Token ids of `text` (valid UTF-8; InvalidArgument naming the byte offset
  // otherwise). add_special: add BOS/EOS as the model asks (add_bos/add_eos).
  // parse_special: text spelling a control token ("<|im_end|>") becomes that
  // token; otherwise it is tokenized as plain text. User-defined tokens are
  // always matched.
  Result<std::vector<int32_t>> encode(std::string_view text, bool add_special, bool parse_special) const;

  // The bytes token `id` stands for: byte tokens give their byte, SPM's
  // U+2581 becomes a space, byte-level BPE characters become their bytes.
  // Control and unknown tokens give "" unless render_special, then their
  // text. An id outside the vocabulary gives "".
  std::string token_to_piece(int32_t id, bool render_special = false) const;

  // The text of `ids`: the pieces concatenated, without the space that SPM
  // encoding added at the start of the text (and after special tokens), so
  // that decode(encode(x)) == x for text the vocabulary covers.
  // InvalidArgument naming the position of an id outside the vocabulary.
  // The bytes may be invalid UTF-8 when the ids are (use StreamingDecoder
  // for text that is always valid).
  Result<std::string> decode(std::span<const int32_t> ids, bool render_special = false) const;

  // Appends the bytes of token `id` (contains(id)) to `out`, carrying the
  // state from token to token: decode() is this over all ids.
  void decode_append(int32_t id, bool render_special, DecodeState& state, std::string& out) const;

  const Vocab& vocab() const { return vocab_; }
  int32_t n_vocab() const { return vocab_.size(); }
  int32_t bos_id() const { return vocab_.bos_id(); }
  int32_t eos_id() const { return vocab_.eos_id(); }
  int32_t unk_id() const { return vocab_.unk_id(); }
  int32_t pad_id() const { return vocab_.pad_id(); }
  bool is_control(int32_t id) const { return vocab_.contains(id) && vocab_.type(id) == TokenType::kControl; }

 private:
  Vocab vocab_;
  PreTokenizer pre_;             // BPE only
  bool ignore_merges_ = false;   // Llama 3: a word that is a token is not merged
};

}  // namespace aigc
