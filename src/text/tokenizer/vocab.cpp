// Vocab: building and checking the immutable vocabulary.
#include "text/tokenizer/vocab.h"

#include <algorithm>
#include <cstdio>

#include "formats/gguf.h"
#include "text/tokenizer/pre_tokenizer.h"

namespace aigc {

namespace {

std::string quoted(std::string_view s) {
  constexpr size_t kMax = 40;
  std::string q = "'";
  q += s.substr(0, kMax);
  if (s.size() > kMax) q += "...";
  return q + "'";
}

// "<0xAB>" -> 0xAB; -1 if `text` is not of that form.
int parse_byte_token(std::string_view text) {
  if (text.size() != 6 || text.substr(0, 3) != "<0x" || text[5] != '>') return -1;
  int value = 0;
  for (char c : text.substr(3, 2)) {
    int digit = -1;
    if (c >= '0' && c <= '9') digit = c - '0';
    if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
    if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

}  // namespace

int32_t Vocab::find(std::string_view text) const {
  auto it = ids_.find(text);
  return it == ids_.end() ? -1 : it->second;
}

const Vocab::Merge* Vocab::find_merge(int32_t left, int32_t right) const {
  auto it = merges_.find(uint64_t(uint32_t(left)) << 32 | uint32_t(right));
  return it == merges_.end() ? nullptr : &it->second;
}

Result<Vocab> Vocab::build(const VocabSpec& spec) {
  const std::string where = spec.source + ": ";
  Vocab v;
  v.source_ = spec.source;
  v.kind_ = spec.kind;
  v.pre_ = spec.pre;

  const size_t n = spec.tokens.size();
  if (n == 0) return Status::corruption(where + "tokenizer.ggml.tokens: the vocabulary is empty");
  if (n > size_t(INT32_MAX))
    return Status::out_of_range(where + "tokenizer.ggml.tokens: " + std::to_string(n) + " tokens is too many");
  if (!spec.scores.empty() && spec.scores.size() != n)
    return Status::corruption(where + "tokenizer.ggml.scores: " + std::to_string(spec.scores.size()) +
                              " scores for " + std::to_string(n) + " tokens");
  if (!spec.token_types.empty() && spec.token_types.size() != n)
    return Status::corruption(where + "tokenizer.ggml.token_type: " + std::to_string(spec.token_types.size()) +
                              " types for " + std::to_string(n) + " tokens");

  v.tokens_.resize(n);
  v.ids_.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    Token& t = v.tokens_[i];
    // llama.cpp's rule for empty entries: a placeholder that no text spells.
    t.text = spec.tokens[i].empty() ? "[EMPTY_" + std::to_string(i) + "]" : spec.tokens[i];
    t.score = spec.scores.empty() ? 0.0f : spec.scores[i];
    if (!spec.token_types.empty()) {
      const int32_t type = spec.token_types[i];
      if (type < 0 || type > int32_t(TokenType::kByte))
        return Status::corruption(where + "tokenizer.ggml.token_type[" + std::to_string(i) +
                                  "]: unknown token type " + std::to_string(type));
      t.type = TokenType(type);
    }
    if (t.type == TokenType::kByte && v.kind_ == TokenizerKind::kSpm) {
      const int b = parse_byte_token(t.text);
      if (b < 0)
        return Status::corruption(where + "tokenizer.ggml.tokens[" + std::to_string(i) + "] = " + quoted(t.text) +
                                  ": a BYTE token must be spelt <0xAB>");
      t.byte = uint8_t(b);
    }
    if (!v.ids_.emplace(t.text, int32_t(i)).second)
      return Status::corruption(where + "tokenizer.ggml.tokens[" + std::to_string(i) + "] = " + quoted(t.text) +
                                ": duplicate of token " + std::to_string(v.ids_.at(t.text)));
  }

  if (v.kind_ == TokenizerKind::kBpe) {
    if (spec.merges.empty()) return Status::corruption(where + "tokenizer.ggml.merges: missing or empty");
    v.merges_.reserve(spec.merges.size());
    std::string joined;
    for (size_t r = 0; r < spec.merges.size(); ++r) {
      const std::string& m = spec.merges[r];
      auto bad = [&](const std::string& problem) {
        return Status::corruption(where + "tokenizer.ggml.merges[" + std::to_string(r) + "] = " + quoted(m) + ": " +
                                  problem);
      };
      const size_t space = m.find(' ', 1);
      if (space == std::string::npos || space + 1 >= m.size()) return bad("not two tokens separated by a space");
      const std::string_view left = std::string_view(m).substr(0, space);
      const std::string_view right = std::string_view(m).substr(space + 1);
      joined.assign(left);
      joined.append(right);
      const int32_t l = v.find(left), rt = v.find(right), result = v.find(joined);
      if (l < 0 || rt < 0 || result < 0)
        return bad("names a token that is not in the vocabulary (" + quoted(l < 0 ? left : rt < 0 ? right : joined) +
                   ")");
      v.merges_.emplace(uint64_t(uint32_t(l)) << 32 | uint32_t(rt), Merge{int32_t(r), result});
    }
  }

  for (int b = 0; b < 256; ++b) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "<0x%02X>", b);
    int32_t id = v.kind_ == TokenizerKind::kSpm ? v.find(hex) : -1;
    if (id < 0) id = v.find(std::string(1, char(b)));
    v.byte_tokens_[size_t(b)] = id;
  }

  for (int32_t id = 0; id < int32_t(n); ++id) {
    const TokenType t = v.tokens_[size_t(id)].type;
    if (t != TokenType::kControl && t != TokenType::kUserDefined && t != TokenType::kUnknown) continue;
    v.special_tokens_.push_back(id);
    const std::string& text = v.tokens_[size_t(id)].text;
    std::vector<uint32_t>& lengths = v.special_lengths_[uint8_t(text[0])];
    if (std::find(lengths.begin(), lengths.end(), uint32_t(text.size())) == lengths.end())
      lengths.push_back(uint32_t(text.size()));
  }
  std::stable_sort(v.special_tokens_.begin(), v.special_tokens_.end(), [&v](int32_t a, int32_t b) {
    return v.tokens_[size_t(a)].text.size() > v.tokens_[size_t(b)].text.size();
  });

  // Defaults by model kind and pre-tokenizer, as llama.cpp sets them.
  const bool spm = v.kind_ == TokenizerKind::kSpm;
  bool add_bos = spm;
  if (!spm) {
    Result<PreTokenizerType> pre = pre_tokenizer_type(spec.pre);
    if (!pre.ok()) return Status(pre.status().code(), where + pre.status().message());
    add_bos = *pre == PreTokenizerType::kLlama3;
  }
  v.add_bos_ = spec.add_bos.value_or(add_bos);
  v.add_eos_ = spec.add_eos.value_or(false);
  v.add_space_prefix_ = spec.add_space_prefix.value_or(spm);

  struct SpecialId {
    const char* key;
    std::optional<int32_t> given;
    int32_t fallback;
    int32_t* out;
  };
  const SpecialId ids[] = {
      {"tokenizer.ggml.bos_token_id", spec.bos_id, spm ? 1 : 11, &v.bos_id_},
      {"tokenizer.ggml.eos_token_id", spec.eos_id, spm ? 2 : 11, &v.eos_id_},
      {"tokenizer.ggml.unknown_token_id", spec.unk_id, spm ? 0 : -1, &v.unk_id_},
      {"tokenizer.ggml.padding_token_id", spec.pad_id, -1, &v.pad_id_},
  };
  for (const SpecialId& s : ids) {
    if (s.given) {
      if (*s.given < -1 || *s.given >= int32_t(n))
        return Status::corruption(where + s.key + ": id " + std::to_string(*s.given) + " is outside the " +
                                  std::to_string(n) + "-token vocabulary");
      *s.out = *s.given;
    } else {
      *s.out = s.fallback < int32_t(n) ? s.fallback : -1;
    }
  }
  if (v.add_bos_ && v.bos_id_ < 0)
    return Status::corruption(where + "tokenizer.ggml.add_bos_token is true, but the model has no BOS token");
  if (v.add_eos_ && v.eos_id_ < 0)
    return Status::corruption(where + "tokenizer.ggml.add_eos_token is true, but the model has no EOS token");
  return v;
}

namespace {

// Reads an optional key: absent leaves `out` empty; present with the wrong
// type is an error (the reader's Status names the key).
template <class T, class Get>
Status read_optional(const GgufFile& f, std::string_view key, Get get, std::optional<T>& out) {
  if (f.find(key) == nullptr) return Status::ok_status();
  auto r = get(key);
  if (!r.ok()) return r.status();
  out = T(*r);
  return Status::ok_status();
}

}  // namespace

Result<Vocab> Vocab::from_gguf(const GgufFile& f) {
  VocabSpec spec;
  spec.source = f.path();
  const std::string where = f.path() + ": ";

  AIGC_ASSIGN_OR_RETURN(std::string model, f.get_string("tokenizer.ggml.model"));
  if (model == "llama") {
    spec.kind = TokenizerKind::kSpm;
  } else if (model == "gpt2") {
    spec.kind = TokenizerKind::kBpe;
  } else {
    return Status::unsupported(where + "tokenizer.ggml.model: unknown tokenizer model " + quoted(model) +
                               " (this build reads 'llama' and 'gpt2')");
  }
  if (f.find("tokenizer.ggml.pre") != nullptr) {
    AIGC_ASSIGN_OR_RETURN(spec.pre, f.get_string("tokenizer.ggml.pre"));
  } else {
    spec.pre = "default";
  }
  AIGC_ASSIGN_OR_RETURN(spec.tokens, f.get_string_array("tokenizer.ggml.tokens"));
  if (f.find("tokenizer.ggml.scores") != nullptr) {
    AIGC_ASSIGN_OR_RETURN(spec.scores, f.get_float_array("tokenizer.ggml.scores"));
  }
  if (f.find("tokenizer.ggml.token_type") != nullptr) {
    AIGC_ASSIGN_OR_RETURN(std::vector<int64_t> types, f.get_int_array("tokenizer.ggml.token_type"));
    spec.token_types.reserve(types.size());
    for (size_t i = 0; i < types.size(); ++i) {
      if (types[i] < INT32_MIN || types[i] > INT32_MAX)
        return Status::corruption(where + "tokenizer.ggml.token_type[" + std::to_string(i) + "]: unknown token type " +
                                  std::to_string(types[i]));
      spec.token_types.push_back(int32_t(types[i]));
    }
  }
  if (spec.kind == TokenizerKind::kBpe) {
    if (f.find("tokenizer.ggml.merges") == nullptr)
      return Status::not_found(where + "tokenizer.ggml.merges: missing (required by tokenizer.ggml.model 'gpt2')");
    AIGC_ASSIGN_OR_RETURN(spec.merges, f.get_string_array("tokenizer.ggml.merges"));
  }

  auto get_int = [&f](std::string_view key) { return f.get_int(key); };
  auto get_bool = [&f](std::string_view key) { return f.get_bool(key); };
  const std::pair<const char*, std::optional<int32_t>*> id_keys[] = {
      {"tokenizer.ggml.bos_token_id", &spec.bos_id},
      {"tokenizer.ggml.eos_token_id", &spec.eos_id},
      {"tokenizer.ggml.unknown_token_id", &spec.unk_id},
      {"tokenizer.ggml.padding_token_id", &spec.pad_id},
  };
  for (const auto& [key, out] : id_keys) {
    std::optional<int64_t> id;
    AIGC_RETURN_IF_ERROR(read_optional(f, key, get_int, id));
    if (id && (*id < -1 || *id > INT32_MAX))
      return Status::corruption(where + key + ": id " + std::to_string(*id) + " is outside the vocabulary");
    if (id) *out = int32_t(*id);
  }
  AIGC_RETURN_IF_ERROR(read_optional(f, "tokenizer.ggml.add_bos_token", get_bool, spec.add_bos));
  AIGC_RETURN_IF_ERROR(read_optional(f, "tokenizer.ggml.add_eos_token", get_bool, spec.add_eos));
  AIGC_RETURN_IF_ERROR(read_optional(f, "tokenizer.ggml.add_space_prefix", get_bool, spec.add_space_prefix));
  return build(spec);
}

}  // namespace aigc
