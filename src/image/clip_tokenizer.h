// ClipTokenizer: the byte-level BPE tokenizer of CLIP's text encoder, as
// OpenAI's simple_tokenizer.py and HuggingFace's CLIPTokenizer build it, and
// the 77-token windows that Stable Diffusion 1.x feeds its text encoder.
//
// Vocabulary (49,408 ids for the original merges file): the 256 byte symbols
// (GPT-2 byte-to-unicode order), the same with "</w>" (end of word), one id
// per merge ("a b" -> "ab"), then <|startoftext|> and <|endoftext|>.
// encode(): clip_clean_text(), split by the CLIP pattern (special tokens,
// 's 't 're 've 'm 'll 'd, letter runs, single digits, runs of other
// non-space characters), BPE on each piece with "</w>" on its last symbol.
//
// Immutable after loading: encode() may be called from many threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"

namespace aigc {

// Stable Diffusion 1.x text windows: start, 75 ids, end.
inline constexpr int kClipWindowLength = 77;
inline constexpr int kClipWindowTokens = kClipWindowLength - 2;

// One 77-token window and the prompt weight of each position (1.0 for the
// start, end and padding positions).
struct ClipWindow {
  std::vector<int32_t> ids;    // (77)
  std::vector<float> weights;  // (77)
};

class ClipTokenizer {
 public:
  // The original merges file, plain or gzip (`bpe_simple_vocab_16e6.txt[.gz]`):
  // a header line, then one merge "a b" a line; the first 48,894 are used.
  static Result<ClipTokenizer> from_merges_file(const std::string& path);
  // A diffusers/HuggingFace folder: `dir`/tokenizer/vocab.json (token -> id)
  // and `dir`/tokenizer/merges.txt ("#version" header, one merge a line).
  // Ids must be below the number of vocab.json entries.
  static Result<ClipTokenizer> from_diffusers_folder(const std::string& dir);
  // From the contents of those files (`merges_name`, `vocab_name` name them in messages).
  static Result<ClipTokenizer> from_merges_text(std::string_view merges, const std::string& merges_name);
  static Result<ClipTokenizer> from_vocab_and_merges(std::string_view vocab_json, const std::string& vocab_name,
                                                     std::string_view merges, const std::string& merges_name);

  // The ids of `text` without start/end. InvalidArgument naming the byte
  // offset if `text` is not valid UTF-8.
  Result<std::vector<int32_t>> encode(std::string_view text) const;

  // Splits `ids` (with `weights`, same length, or empty for all 1.0) into
  // windows of 75, each wrapped in start/end and padded with the end id to 77.
  // An empty prompt gives one window.
  std::vector<ClipWindow> windows(const std::vector<int32_t>& ids, const std::vector<float>& weights = {}) const;

  int32_t start_id() const { return start_id_; }
  int32_t end_id() const { return end_id_; }
  int32_t vocab_size() const { return static_cast<int32_t>(id_to_token_.size()); }
  // The token string of `id` in byte-unicode symbols ("cat</w>"); "" if out of range.
  const std::string& token(int32_t id) const;

 private:
  struct Regex;
  ClipTokenizer() = default;
  void init_regex_and_bytes();
  void bpe(std::string_view piece, std::vector<int32_t>& out) const;

  std::vector<std::string> id_to_token_;
  std::unordered_map<std::string, int32_t> token_to_id_;
  std::unordered_map<std::string, int32_t> merge_rank_;  // "a b" -> rank
  std::string byte_symbol_[256];                         // byte -> UTF-8 of its symbol
  int32_t start_id_ = -1;
  int32_t end_id_ = -1;
  std::shared_ptr<const Regex> regex_;
};

}  // namespace aigc
