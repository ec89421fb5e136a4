// Tokenizer facade: special-token splitting, then SPM or pre-tokenized
// byte-level BPE per raw fragment; decoding of ids back to bytes.
#include "text/tokenizer/tokenizer.h"

#include "text/tokenizer/bpe.h"
#include "text/tokenizer/byte_level.h"
#include "text/tokenizer/special_split.h"
#include "text/tokenizer/spm.h"
#include "text/tokenizer/utf8.h"

namespace aigc {

namespace {

constexpr std::string_view kSpmSpace = "\xE2\x96\x81";  // U+2581, SentencePiece's escaped space

// SentencePiece escaping: ' ' -> U+2581.
void spm_escape(std::string_view text, std::string& out) {
  for (char c : text) {
    if (c == ' ') {
      out += kSpmSpace;
    } else {
      out += c;
    }
  }
}

void spm_unescape(std::string_view text, std::string& out) {
  size_t pos = 0;
  for (size_t hit; (hit = text.find(kSpmSpace, pos)) != std::string_view::npos; pos = hit + kSpmSpace.size()) {
    out.append(text.substr(pos, hit - pos));
    out += ' ';
  }
  out.append(text.substr(pos));
}

// Tokens that the text between them restarts after (encode adds the SPM
// space prefix after them): everything but normal and byte tokens.
bool is_text_token(TokenType t) { return t == TokenType::kNormal || t == TokenType::kByte; }

}  // namespace

Result<Tokenizer> Tokenizer::create(const VocabSpec& spec) {
  AIGC_ASSIGN_OR_RETURN(Vocab vocab, Vocab::build(spec));
  return from_vocab(std::move(vocab));
}

Result<Tokenizer> Tokenizer::from_gguf(const GgufFile& file) {
  AIGC_ASSIGN_OR_RETURN(Vocab vocab, Vocab::from_gguf(file));
  return from_vocab(std::move(vocab));
}

Result<Tokenizer> Tokenizer::from_vocab(Vocab vocab) {
  Tokenizer t;
  t.vocab_ = std::move(vocab);
  if (t.vocab_.kind() == TokenizerKind::kBpe) {
    AIGC_ASSIGN_OR_RETURN(PreTokenizerType type, pre_tokenizer_type(t.vocab_.pre()));
    AIGC_ASSIGN_OR_RETURN(t.pre_, PreTokenizer::create(type));
    t.ignore_merges_ = type == PreTokenizerType::kLlama3;
  }
  return t;
}

Result<std::vector<int32_t>> Tokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
  AIGC_RETURN_IF_ERROR(utf8_validate(text, "tokenizer input text"));
  std::vector<TextFragment> fragments;
  split_special_tokens(vocab_, text, parse_special, fragments);

  std::vector<int32_t> ids;
  if (add_special && vocab_.add_bos()) ids.push_back(vocab_.bos_id());
  std::string buffer;
  if (vocab_.kind() == TokenizerKind::kSpm) {
    SpmSession session(vocab_);
    bool after_special = true;  // the text start counts as after a special token
    for (const TextFragment& f : fragments) {
      if (f.id >= 0) {
        ids.push_back(f.id);
        after_special = true;
        continue;
      }
      buffer.clear();
      if (vocab_.add_space_prefix() && after_special) buffer += kSpmSpace;
      spm_escape(f.text, buffer);
      session.encode(buffer, ids);
      after_special = false;
    }
  } else {
    BpeSession session(vocab_);
    std::vector<std::string_view> words;
    for (const TextFragment& f : fragments) {
      if (f.id >= 0) {
        ids.push_back(f.id);
        continue;
      }
      words.clear();
      pre_.split(f.text, words);
      for (std::string_view w : words) {
        buffer.clear();
        byte_level_encode(w, buffer);
        session.encode_word(buffer, ignore_merges_, ids);
      }
    }
  }
  if (add_special && vocab_.add_eos()) ids.push_back(vocab_.eos_id());
  return ids;
}

std::string Tokenizer::token_to_piece(int32_t id, bool render_special) const {
  std::string out;
  if (!vocab_.contains(id)) return out;
  const std::string& text = vocab_.text(id);
  switch (vocab_.type(id)) {
    case TokenType::kControl:
    case TokenType::kUnknown:
      if (render_special) out = text;
      break;
    case TokenType::kUserDefined:
      out = text;
      break;
    case TokenType::kByte:
      if (vocab_.kind() == TokenizerKind::kSpm) {
        out += char(vocab_.byte_value(id));
      } else {
        byte_level_decode(text, out);
      }
      break;
    case TokenType::kNormal:
      if (vocab_.kind() == TokenizerKind::kSpm) {
        spm_unescape(text, out);
      } else {
        byte_level_decode(text, out);
      }
      break;
    case TokenType::kUnused:
    case TokenType::kUndefined:
      break;  // suppressed, like llama.cpp
  }
  return out;
}

void Tokenizer::decode_append(int32_t id, bool render_special, DecodeState& state, std::string& out) const {
  std::string piece = token_to_piece(id, render_special);
  if (!is_text_token(vocab_.type(id))) {
    out += piece;
    state.at_text_start = true;
    return;
  }
  if (piece.empty()) return;
  size_t skip = 0;
  if (state.at_text_start && vocab_.kind() == TokenizerKind::kSpm && vocab_.add_space_prefix() && piece[0] == ' ')
    skip = 1;
  state.at_text_start = false;
  out.append(piece, skip);
}

Result<std::string> Tokenizer::decode(std::span<const int32_t> ids, bool render_special) const {
  std::string out;
  DecodeState state;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!vocab_.contains(ids[i]))
      return Status::invalid_argument("decode: token id " + std::to_string(ids[i]) + " at position " +
                                      std::to_string(i) + " is outside the " + std::to_string(vocab_.size()) +
                                      "-token vocabulary");
    decode_append(ids[i], render_special, state, out);
  }
  return out;
}

}  // namespace aigc
