// ClipTokenizer: vocabulary construction, gzip/JSON loading, pre-tokenizer
// regex and BPE of the CLIP text tokenizer.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "image/clip_tokenizer.h"

#include <pcre2.h>
#include <zlib.h>

#include <algorithm>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/assert.h"
#include "image/clip_text_clean.h"

namespace aigc {

namespace {

// Merges used by the original tokenizer: 49152 - 256 - 2 lines after the header.
constexpr size_t kMaxMerges = 49152 - 256 - 2;
// Bounds on what a tokenizer file may hold (the real ones are ~1.6 MB).
constexpr size_t kMaxFileBytes = size_t{64} << 20;

constexpr const char* kStartToken = "<|startoftext|>";
constexpr const char* kEndToken = "<|endoftext|>";
constexpr const char* kEndOfWord = "</w>";

// simple_tokenizer.py's pattern (regex.IGNORECASE), on the cleaned text.
constexpr const char* kPattern =
    R"(<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+)";

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::not_found(path + ": cannot open");
  std::string data;
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    data.append(buf, static_cast<size_t>(in.gcount()));
    if (data.size() > kMaxFileBytes)
      return Status::out_of_range(path + ": larger than " + std::to_string(kMaxFileBytes) + " bytes");
  }
  if (in.bad()) return Status::io_error(path + ": read failed");
  return data;
}

Result<std::string> gunzip(std::string_view gz, const std::string& path) {
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return Status::io_error(path + ": zlib init failed");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  z.avail_in = static_cast<uInt>(gz.size());
  std::string out;
  char buf[1 << 16];
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
    if (out.size() > kMaxFileBytes) {
      inflateEnd(&z);
      return Status::out_of_range(path + ": decompresses to more than " + std::to_string(kMaxFileBytes) + " bytes");
    }
    if (rc == Z_BUF_ERROR && z.avail_in == 0) break;  // input ended early
  }
  size_t consumed = gz.size() - z.avail_in;
  inflateEnd(&z);
  if (rc != Z_STREAM_END)
    return Status::corruption(path + ": gzip data corrupt or truncated at compressed byte " + std::to_string(consumed) +
                              (z.msg ? std::string(" (") + z.msg + ")" : std::string()));
  return out;
}

// GPT-2's bytes_to_unicode: printable Latin-1 bytes map to themselves, the
// rest to U+0100 + n in byte order. Returns the code points in vocabulary order.
std::vector<std::pair<uint8_t, uint32_t>> bytes_to_unicode() {
  std::vector<std::pair<uint8_t, uint32_t>> order;
  auto printable = [](int b) { return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255); };
  for (int b = 0; b < 256; ++b)
    if (printable(b)) order.emplace_back(static_cast<uint8_t>(b), static_cast<uint32_t>(b));
  uint32_t n = 0;
  for (int b = 0; b < 256; ++b)
    if (!printable(b)) order.emplace_back(static_cast<uint8_t>(b), 256 + n++);
  return order;
}

std::string utf8_of(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s.push_back(static_cast<char>(cp));
  } else {
    s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
  return s;
}

bool is_ascii_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

struct Merge {
  std::string first, second;
};

// Lines 2.. of a merges file (after stripping trailing whitespace), at most
// kMaxMerges, each two symbols separated by whitespace.
Result<std::vector<Merge>> parse_merges(std::string_view text, const std::string& name) {
  AIGC_RETURN_IF_ERROR(clip_validate_utf8(text, name));
  while (!text.empty() && is_ascii_space(text.back())) text.remove_suffix(1);
  std::vector<Merge> merges;
  size_t pos = text.find('\n');
  size_t line_no = 1;
  while (pos != std::string_view::npos && merges.size() < kMaxMerges) {
    size_t start = pos + 1;
    pos = text.find('\n', start);
    std::string_view line = text.substr(start, (pos == std::string_view::npos ? text.size() : pos) - start);
    ++line_no;
    std::vector<std::string_view> parts;
    for (size_t i = 0; i < line.size();) {
      while (i < line.size() && is_ascii_space(line[i])) ++i;
      size_t j = i;
      while (j < line.size() && !is_ascii_space(line[j])) ++j;
      if (j > i) parts.push_back(line.substr(i, j - i));
      i = j;
    }
    if (parts.size() != 2) {
      std::string shown(line.substr(0, 40));
      return Status::corruption(name + ": line " + std::to_string(line_no) + ": expected a merge \"a b\", found " +
                                std::to_string(parts.size()) + " fields in \"" + shown + "\"");
    }
    merges.push_back({std::string(parts[0]), std::string(parts[1])});
  }
  if (merges.empty()) return Status::corruption(name + ": no merges after the header line");
  return merges;
}

}  // namespace

struct ClipTokenizer::Regex {
  pcre2_code* code = nullptr;
  ~Regex() { pcre2_code_free(code); }
};

void ClipTokenizer::init_regex_and_bytes() {
  int error = 0;
  PCRE2_SIZE offset = 0;
  auto regex = std::make_shared<Regex>();
  regex->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(kPattern), PCRE2_ZERO_TERMINATED,
                              PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS, &error, &offset, nullptr);
  AIGC_ASSERT(regex->code != nullptr);
  pcre2_jit_compile(regex->code, PCRE2_JIT_COMPLETE);  // optional speed-up; matching works without it
  regex_ = std::move(regex);
  for (const auto& [byte, cp] : bytes_to_unicode()) byte_symbol_[byte] = utf8_of(cp);
}

Result<ClipTokenizer> ClipTokenizer::from_merges_text(std::string_view merges_text, const std::string& merges_name) {
  AIGC_ASSIGN_OR_RETURN(std::vector<Merge> merges, parse_merges(merges_text, merges_name));
  ClipTokenizer t;
  t.init_regex_and_bytes();
  auto order = bytes_to_unicode();
  for (const auto& [byte, cp] : order) t.id_to_token_.push_back(utf8_of(cp));
  for (const auto& [byte, cp] : order) t.id_to_token_.push_back(utf8_of(cp) + kEndOfWord);
  for (size_t r = 0; r < merges.size(); ++r) {
    t.id_to_token_.push_back(merges[r].first + merges[r].second);
    t.merge_rank_[merges[r].first + " " + merges[r].second] = static_cast<int32_t>(r);
  }
  t.id_to_token_.push_back(kStartToken);
  t.id_to_token_.push_back(kEndToken);
  for (size_t id = 0; id < t.id_to_token_.size(); ++id) t.token_to_id_[t.id_to_token_[id]] = static_cast<int32_t>(id);
  t.start_id_ = t.token_to_id_.at(kStartToken);
  t.end_id_ = t.token_to_id_.at(kEndToken);
  return t;
}

Result<ClipTokenizer> ClipTokenizer::from_vocab_and_merges(std::string_view vocab_json, const std::string& vocab_name,
                                                           std::string_view merges_text,
                                                           const std::string& merges_name) {
  AIGC_ASSIGN_OR_RETURN(std::vector<Merge> merges, parse_merges(merges_text, merges_name));
  ClipTokenizer t;
  t.init_regex_and_bytes();
  nlohmann::json vocab;
  try {
    vocab = nlohmann::json::parse(vocab_json);
  } catch (const nlohmann::json::exception& e) {
    return Status::corruption(vocab_name + ": not valid JSON: " + e.what());
  }
  if (!vocab.is_object()) return Status::corruption(vocab_name + ": expected a JSON object of token -> id");
  // Ids are dense in HF files: each below the number of entries, which bounds the table.
  const auto n_entries = static_cast<int64_t>(vocab.size());
  t.id_to_token_.reserve(vocab.size());
  for (const auto& [token, id] : vocab.items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= n_entries)
      return Status::corruption(vocab_name + ": token \"" + token.substr(0, 40) + "\": id " + id.dump().substr(0, 40) +
                                " is not an integer in [0, " + std::to_string(n_entries) + ")");
    auto i = static_cast<size_t>(id.get<int64_t>());
    if (i >= t.id_to_token_.size()) t.id_to_token_.resize(i + 1);
    t.id_to_token_[i] = token;
    t.token_to_id_[token] = static_cast<int32_t>(i);
  }
  for (const char* special : {kStartToken, kEndToken})
    if (!t.token_to_id_.count(special))
      return Status::corruption(vocab_name + ": token \"" + special + "\" is missing");
  t.start_id_ = t.token_to_id_.at(kStartToken);
  t.end_id_ = t.token_to_id_.at(kEndToken);
  for (size_t r = 0; r < merges.size(); ++r)
    t.merge_rank_[merges[r].first + " " + merges[r].second] = static_cast<int32_t>(r);
  return t;
}

Result<ClipTokenizer> ClipTokenizer::from_merges_file(const std::string& path) {
  AIGC_ASSIGN_OR_RETURN(std::string data, read_file(path));
  if (data.size() >= 2 && static_cast<uint8_t>(data[0]) == 0x1F && static_cast<uint8_t>(data[1]) == 0x8B) {
    AIGC_ASSIGN_OR_RETURN(data, gunzip(data, path));
  }
  return from_merges_text(data, path);
}

Result<ClipTokenizer> ClipTokenizer::from_diffusers_folder(const std::string& dir) {
  std::string vocab_path = dir + "/tokenizer/vocab.json";
  std::string merges_path = dir + "/tokenizer/merges.txt";
  AIGC_ASSIGN_OR_RETURN(std::string vocab, read_file(vocab_path));
  AIGC_ASSIGN_OR_RETURN(std::string merges, read_file(merges_path));
  return from_vocab_and_merges(vocab, vocab_path, merges, merges_path);
}

const std::string& ClipTokenizer::token(int32_t id) const {
  static const std::string kEmpty;
  return id >= 0 && id < vocab_size() ? id_to_token_[static_cast<size_t>(id)] : kEmpty;
}

// simple_tokenizer.bpe(): symbols are the piece's bytes, the last one with
// "</w>"; merge every occurrence of the lowest-ranked pair until none is ranked.
void ClipTokenizer::bpe(std::string_view piece, std::vector<int32_t>& out) const {
  auto lookup = [&](const std::string& s) {
    auto it = token_to_id_.find(s);
    return it != token_to_id_.end() ? it->second : end_id_;  // HF's unk is <|endoftext|>
  };
  if (piece == kStartToken || piece == kEndToken) {
    out.push_back(lookup(std::string(piece)));
    return;
  }
  std::vector<std::string> word;
  for (char c : piece) word.push_back(byte_symbol_[static_cast<uint8_t>(c)]);
  if (word.empty()) return;
  word.back() += kEndOfWord;
  std::string key;
  while (word.size() > 1) {
    int32_t best_rank = std::numeric_limits<int32_t>::max();
    size_t best = 0;
    for (size_t i = 0; i + 1 < word.size(); ++i) {
      key.assign(word[i]).append(" ").append(word[i + 1]);
      auto it = merge_rank_.find(key);
      if (it != merge_rank_.end() && it->second < best_rank) best_rank = it->second, best = i;
    }
    if (best_rank == std::numeric_limits<int32_t>::max()) break;
    std::string first = word[best], second = word[best + 1];
    std::vector<std::string> merged;
    for (size_t i = 0; i < word.size();) {
      if (i + 1 < word.size() && word[i] == first && word[i + 1] == second) {
        merged.push_back(first + second);
        i += 2;
      } else {
        merged.push_back(std::move(word[i++]));
      }
    }
    word = std::move(merged);
  }
  for (const std::string& s : word) out.push_back(lookup(s));
}

Result<std::vector<int32_t>> ClipTokenizer::encode(std::string_view text) const {
  AIGC_RETURN_IF_ERROR(clip_validate_utf8(text, "prompt"));
  std::string clean = clip_clean_text(text);
  std::vector<int32_t> ids;
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(regex_->code, nullptr);
  AIGC_ASSERT(md != nullptr);
  auto subject = reinterpret_cast<PCRE2_SPTR>(clean.data());
  size_t pos = 0;
  while (pos < clean.size()) {
    int rc = pcre2_match(regex_->code, subject, clean.size(), pos, 0, md, nullptr);
    if (rc < 0) break;  // only spaces remain
    PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    AIGC_ASSERT(ov[1] > ov[0]);  // every alternative matches at least one character
    bpe(std::string_view(clean).substr(ov[0], ov[1] - ov[0]), ids);
    pos = ov[1];
  }
  pcre2_match_data_free(md);
  return ids;
}

std::vector<ClipWindow> ClipTokenizer::windows(const std::vector<int32_t>& ids,
                                               const std::vector<float>& weights) const {
  AIGC_ASSERT(weights.empty() || weights.size() == ids.size());
  std::vector<ClipWindow> out;
  for (size_t begin = 0; begin < ids.size() || out.empty(); begin += kClipWindowTokens) {
    size_t end = std::min(ids.size(), begin + kClipWindowTokens);
    ClipWindow w;
    w.ids.push_back(start_id_);
    w.weights.push_back(1.0f);
    for (size_t i = begin; i < end; ++i) {
      w.ids.push_back(ids[i]);
      w.weights.push_back(weights.empty() ? 1.0f : weights[i]);
    }
    w.ids.resize(kClipWindowLength, end_id_);
    w.weights.resize(kClipWindowLength, 1.0f);
    out.push_back(std::move(w));
  }
  return out;
}

}  // namespace aigc
