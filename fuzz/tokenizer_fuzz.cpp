// libFuzzer target for the LLM tokenizers: arbitrary bytes are tokenized by
// small in-memory vocabularies (SentencePiece and byte-level BPE under every
// pre-tokenizer), checked to decode back to the input, and arbitrary id
// sequences are detokenized, in one go and streaming (whose output must
// always be valid UTF-8). Seeds: fuzz/seeds/tokenizer/.
//
// Input: byte 0 picks the vocabulary and flags, the rest is the text; the
// same rest is read as little-endian 16-bit token ids.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/assert.h"
#include "text/tokenizer/streaming_decoder.h"
#include "text/tokenizer/tiny_vocabs.h"
#include "text/tokenizer/tokenizer.h"
#include "text/tokenizer/utf8.h"

namespace {

using aigc::Tokenizer;

const std::vector<std::unique_ptr<Tokenizer>>& tokenizers() {
  static const std::vector<std::unique_ptr<Tokenizer>> all = [] {
    std::vector<std::unique_ptr<Tokenizer>> t;
    std::vector<aigc::VocabSpec> specs = {aigc::tiny_vocabs::spm()};
    for (const char* pre : {"gpt-2", "llama-bpe", "qwen2", "deepseek-llm", "starcoder", "default"})
      specs.push_back(aigc::tiny_vocabs::bpe(pre));
    for (const aigc::VocabSpec& spec : specs) {
      aigc::Result<Tokenizer> tok = Tokenizer::create(spec);
      AIGC_ASSERT(tok.ok());
      t.push_back(std::make_unique<Tokenizer>(std::move(tok).value()));
    }
    return t;
  }();
  return all;
}

void check_encode(const Tokenizer& tok, std::string_view text, bool add_special, bool parse_special) {
  aigc::Result<std::vector<int32_t>> ids = tok.encode(text, add_special, parse_special);
  const bool valid = aigc::utf8_validate(text, "text").ok();
  AIGC_ASSERT(ids.ok() == valid);
  if (!valid) return;
  for (int32_t id : *ids) AIGC_ASSERT(tok.vocab().contains(id));

  // Lossless: every byte has a token, special tokens render as their text.
  // SentencePiece cannot tell U+2581 in the input from an escaped space.
  const bool spm = tok.vocab().kind() == aigc::TokenizerKind::kSpm;
  const bool lossless = !add_special && !(spm && text.find("\xE2\x96\x81") != std::string_view::npos);
  aigc::Result<std::string> decoded = tok.decode(*ids, true);
  AIGC_ASSERT(decoded.ok());
  if (lossless) AIGC_ASSERT(*decoded == text);

  aigc::StreamingDecoder stream(tok, true);
  std::string streamed;
  for (int32_t id : *ids) {
    aigc::Result<std::string> piece = stream.push(id);
    AIGC_ASSERT(piece.ok());
    streamed += *piece;
  }
  AIGC_ASSERT(stream.pending_bytes() == 0);
  streamed += stream.finish();
  AIGC_ASSERT(streamed == *decoded);
}

void check_decode_ids(const Tokenizer& tok, const uint8_t* data, size_t size, bool render_special) {
  std::vector<int32_t> ids;
  bool all_valid = true;
  for (size_t i = 0; i + 1 < size; i += 2) {
    // A few ids on either side of the vocabulary, to exercise the checks.
    const int32_t id = int32_t(data[i] | data[i + 1] << 8) % (tok.n_vocab() + 8) - 4;
    all_valid &= tok.vocab().contains(id);
    ids.push_back(id);
  }
  aigc::Result<std::string> decoded = tok.decode(ids, render_special);
  AIGC_ASSERT(decoded.ok() == all_valid);

  aigc::StreamingDecoder stream(tok, render_special);
  std::string streamed;
  for (int32_t id : ids) {
    aigc::Result<std::string> piece = stream.push(id);
    AIGC_ASSERT(piece.ok() == tok.vocab().contains(id));
    if (piece.ok()) streamed += *piece;
  }
  streamed += stream.finish();
  AIGC_ASSERT(aigc::utf8_validate(streamed, "streamed").ok());
  if (all_valid && aigc::utf8_validate(*decoded, "decoded").ok()) AIGC_ASSERT(streamed == *decoded);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto& all = tokenizers();
  const Tokenizer& tok = *all[data[0] % all.size()];
  const bool add_special = data[0] & 0x10;
  const bool parse_special = data[0] & 0x20;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  check_encode(tok, text, add_special, parse_special);
  check_decode_ids(tok, data + 1, size - 1, data[0] & 0x40);
  return 0;
}
