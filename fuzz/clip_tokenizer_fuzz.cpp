// libFuzzer target for the CLIP tokenizer and the prompt weight parser:
// arbitrary prompts are parsed for weights, tokenized into weighted 77-token
// windows by a small in-memory vocabulary, and arbitrary bytes are loaded as
// a merges file and as a diffusers vocab.json + merges.txt pair.
// Seeds: fuzz/seeds/clip_tokenizer/.
//
// Input: byte 0 picks what is fuzzed (0: prompt, 1: merges file, 2: vocab.json
// and merges.txt split at the first NUL byte); the rest is the data.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/assert.h"
#include "image/clip_text_clean.h"
#include "image/clip_tokenizer.h"
#include "image/prompt_weights.h"

namespace {

using aigc::ClipTokenizer;

// Merges over a few common English pairs: enough that BPE merges happen.
constexpr const char* kTinyMerges =
    "#version: fuzz\nt h\nth e</w>\na n\nan d</w>\ni n\nin g</w>\ne r</w>\nc a\nca t</w>\n( a\n";

const ClipTokenizer& tiny_tokenizer() {
  static const ClipTokenizer tok = [] {
    aigc::Result<ClipTokenizer> t = ClipTokenizer::from_merges_text(kTinyMerges, "tiny merges");
    AIGC_ASSERT(t.ok());
    return std::move(t).value();
  }();
  return tok;
}

void check_windows(const ClipTokenizer& tok, const std::vector<aigc::ClipWindow>& windows) {
  AIGC_ASSERT(!windows.empty());
  for (const aigc::ClipWindow& w : windows) {
    AIGC_ASSERT(w.ids.size() == aigc::kClipWindowLength && w.weights.size() == aigc::kClipWindowLength);
    AIGC_ASSERT(w.ids.front() == tok.start_id() && w.ids.back() == tok.end_id());
    for (int32_t id : w.ids) AIGC_ASSERT(id >= 0 && id < tok.vocab_size());
  }
}

void fuzz_prompt(std::string_view prompt) {
  const ClipTokenizer& tok = tiny_tokenizer();
  const bool valid = aigc::clip_validate_utf8(prompt, "prompt").ok();

  aigc::Result<std::vector<int32_t>> ids = tok.encode(prompt);
  AIGC_ASSERT(ids.ok() == valid);
  if (valid) check_windows(tok, tok.windows(*ids));

  aigc::Result<std::vector<aigc::PromptPiece>> pieces = aigc::parse_prompt_weights(prompt);
  AIGC_ASSERT(pieces.ok() == valid);
  if (!valid) return;
  AIGC_ASSERT(!pieces->empty());
  size_t breaks = 0;
  for (const aigc::PromptPiece& p : *pieces) breaks += p.is_break();
  aigc::Result<std::vector<aigc::WeightedIds>> parts = aigc::tokenize_weighted(tok, *pieces);
  AIGC_ASSERT(parts.ok() && parts->size() == breaks + 1);
  for (const aigc::WeightedIds& part : *parts) AIGC_ASSERT(part.ids.size() == part.weights.size());
  aigc::Result<std::vector<aigc::ClipWindow>> windows = aigc::weighted_prompt_windows(tok, prompt);
  AIGC_ASSERT(windows.ok());
  check_windows(tok, *windows);
}

void check_loaded(aigc::Result<ClipTokenizer> tok) {
  if (!tok.ok()) return;
  AIGC_ASSERT(tok->start_id() >= 0 && tok->end_id() >= 0);
  aigc::Result<std::vector<int32_t>> ids = tok->encode("the cat and a dog, <|endoftext|> 123");
  AIGC_ASSERT(ids.ok());
  for (int32_t id : *ids) AIGC_ASSERT(id >= 0 && id < tok->vocab_size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      fuzz_prompt(rest);
      break;
    case 1:
      check_loaded(ClipTokenizer::from_merges_text(rest, "merges.txt"));
      break;
    default: {
      size_t nul = rest.find('\0');
      std::string_view vocab = rest.substr(0, nul);
      std::string_view merges = nul == std::string_view::npos ? std::string_view() : rest.substr(nul + 1);
      check_loaded(ClipTokenizer::from_vocab_and_merges(vocab, "vocab.json", merges, "merges.txt"));
      break;
    }
  }
  return 0;
}
