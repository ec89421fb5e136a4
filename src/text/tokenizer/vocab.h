// Vocab: the immutable vocabulary of an LLM tokenizer (tokens, scores, token
// types, BPE merge ranks, special ids and flags), built from plain vectors or
// from a GGUF file's tokenizer.ggml.* metadata.
//
// Building checks everything the tokenizers rely on (sizes agree, token
// types known, merges name known tokens, special ids in range) and reports a
// problem as a Status naming the GGUF key. A Vocab is immutable after
// build(): safe to read from many threads at once.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"

namespace aigc {

class GgufFile;

// tokenizer.ggml.token_type values (llama.cpp's llama_token_type); persisted.
enum class TokenType : int32_t {
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

// tokenizer.ggml.model: "llama" is SentencePiece BPE with scores, "gpt2" is
// byte-level BPE with merges.
enum class TokenizerKind { kSpm, kBpe };

// Everything a tokenizer is made of, as plain values. Optional fields left
// empty take the defaults llama.cpp uses for the model kind and pre-tokenizer.
struct VocabSpec {
  std::string source = "<memory>";  // names the origin in error messages (a file path)
  TokenizerKind kind = TokenizerKind::kSpm;
  std::string pre = "default";         // tokenizer.ggml.pre (BPE only)
  std::vector<std::string> tokens;     // tokenizer.ggml.tokens
  std::vector<float> scores;           // tokenizer.ggml.scores; empty: all 0
  std::vector<int32_t> token_types;    // tokenizer.ggml.token_type; empty: all normal
  std::vector<std::string> merges;     // tokenizer.ggml.merges, "left right", by rank (BPE)
  std::optional<int32_t> bos_id, eos_id, unk_id, pad_id;
  std::optional<bool> add_bos, add_eos, add_space_prefix;
};

class Vocab {
 public:
  struct Merge {
    int32_t rank;    // position in tokenizer.ggml.merges: lower merges first
    int32_t result;  // id of the merged token
  };

  static Result<Vocab> build(const VocabSpec& spec);
  // Reads tokenizer.ggml.{model,pre,tokens,scores,token_type,merges,
  // bos_token_id,eos_token_id,unknown_token_id,padding_token_id,
  // add_bos_token,add_eos_token,add_space_prefix}.
  static Result<Vocab> from_gguf(const GgufFile& file);

  const std::string& source() const { return source_; }
  TokenizerKind kind() const { return kind_; }
  const std::string& pre() const { return pre_; }
  int32_t size() const { return int32_t(tokens_.size()); }
  bool contains(int32_t id) const { return id >= 0 && id < size(); }

  // Token data; `id` must satisfy contains(id).
  const std::string& text(int32_t id) const { return tokens_[size_t(id)].text; }
  float score(int32_t id) const { return tokens_[size_t(id)].score; }
  TokenType type(int32_t id) const { return tokens_[size_t(id)].type; }
  // The byte an SPM <0xAB> token stands for; `id` must be of type kByte.
  uint8_t byte_value(int32_t id) const { return tokens_[size_t(id)].byte; }

  int32_t find(std::string_view text) const;  // id of the token spelt `text`, or -1
  // SPM: id of the <0xAB> token for `b` (or of the one-byte token), or -1.
  int32_t byte_token(uint8_t b) const { return byte_tokens_[b]; }
  // BPE: the merge of tokens `left` and `right`, or nullptr.
  const Merge* find_merge(int32_t left, int32_t right) const;

  // Control, user-defined and unknown tokens, longest text first (ties by
  // id): the tokens matched in raw text before pre-tokenization.
  const std::vector<int32_t>& special_tokens() const { return special_tokens_; }
  // The distinct lengths of the special tokens whose text starts with byte
  // `b`, for finding them in text without trying every one.
  const std::vector<uint32_t>& special_lengths(uint8_t b) const { return special_lengths_[b]; }

  int32_t bos_id() const { return bos_id_; }  // -1 when the model has none
  int32_t eos_id() const { return eos_id_; }
  int32_t unk_id() const { return unk_id_; }
  int32_t pad_id() const { return pad_id_; }
  bool add_bos() const { return add_bos_; }
  bool add_eos() const { return add_eos_; }
  bool add_space_prefix() const { return add_space_prefix_; }

 private:
  struct Token {
    std::string text;
    float score = 0;
    TokenType type = TokenType::kNormal;
    uint8_t byte = 0;
  };
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  std::string source_;
  TokenizerKind kind_ = TokenizerKind::kSpm;
  std::string pre_;
  std::vector<Token> tokens_;
  std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> ids_;
  std::unordered_map<uint64_t, Merge> merges_;  // key: left << 32 | right
  std::array<int32_t, 256> byte_tokens_{};
  std::vector<int32_t> special_tokens_;
  std::array<std::vector<uint32_t>, 256> special_lengths_;
  int32_t bos_id_ = -1, eos_id_ = -1, unk_id_ = -1, pad_id_ = -1;
  bool add_bos_ = false, add_eos_ = false, add_space_prefix_ = false;
};

}  // namespace aigc
