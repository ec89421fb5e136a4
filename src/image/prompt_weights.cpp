// AUTOMATIC1111-style prompt weighting: the attention parser and the weighted
// 77-token windows (with the web UI's comma padding backtrack).
#define PCRE2_CODE_UNIT_WIDTH 8
#include "image/prompt_weights.h"

#include <pcre2.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <string>

#include "core/assert.h"
#include "image/clip_text_clean.h"

namespace aigc {

namespace {

// The web UI's re_attention, alternatives in its order. Group 1 is the weight
// of "(text:w)".
constexpr const char* kAttentionPattern =
    R"(\\\(|\\\)|\\\[|\\]|\\\\|\\|\(|\[|:\s*([+-]?[.\d]+)\s*\)|\)|]|[^\\()\[\]:]+|:)";
// The web UI's re_break.
constexpr const char* kBreakPattern = R"(\s*\bBREAK\b\s*)";

constexpr double kRoundMultiplier = 1.1;
constexpr double kSquareMultiplier = 1 / 1.1;

// A pattern compiled once for the whole process; pcre2_code is safe to match
// from many threads (each with its own match data).
class CompiledPattern {
 public:
  explicit CompiledPattern(const char* pattern) {
    int error = 0;
    PCRE2_SIZE offset = 0;
    code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern), PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP, &error,
                          &offset, nullptr);
    AIGC_ASSERT(code_ != nullptr);
  }
  ~CompiledPattern() { pcre2_code_free(code_); }
  CompiledPattern(const CompiledPattern&) = delete;
  CompiledPattern& operator=(const CompiledPattern&) = delete;
  pcre2_code* code() const { return code_; }

 private:
  pcre2_code* code_ = nullptr;
};

// Match data that frees itself.
class MatchData {
 public:
  explicit MatchData(const CompiledPattern& p) : md_(pcre2_match_data_create_from_pattern(p.code(), nullptr)) {
    AIGC_ASSERT(md_ != nullptr);
  }
  ~MatchData() { pcre2_match_data_free(md_); }
  MatchData(const MatchData&) = delete;
  MatchData& operator=(const MatchData&) = delete;
  pcre2_match_data* get() const { return md_; }
  PCRE2_SIZE* ovector() const { return pcre2_get_ovector_pointer(md_); }

 private:
  pcre2_match_data* md_;
};

const CompiledPattern& attention_pattern() {
  static const CompiledPattern p(kAttentionPattern);
  return p;
}

const CompiledPattern& break_pattern() {
  static const CompiledPattern p(kBreakPattern);
  return p;
}

// Python's float() on what [+-]?[.\d]+ matched: [+-]?(d+(.d*)?|.d+) with ASCII
// digits; nullopt otherwise. Overflow gives infinity, as in Python.
std::optional<double> parse_weight(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  size_t dots = 0, digits = 0;
  for (char c : s) {
    if (c == '.')
      ++dots;
    else if (c >= '0' && c <= '9')
      ++digits;
    else
      return std::nullopt;
  }
  if (dots > 1 || digits == 0) return std::nullopt;
  double value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec == std::errc::result_out_of_range) {
    bool nonzero = s.find_first_of("123456789") < s.find('.');
    value = nonzero ? std::numeric_limits<double>::infinity() : 0.0;
  } else if (ec != std::errc() || end != s.data() + s.size()) {
    return std::nullopt;
  }
  return negative ? -value : value;
}

// re.split(re_break, text): text pieces with a BREAK piece between each two.
void append_text(std::string_view text, std::vector<PromptPiece>& res) {
  const CompiledPattern& p = break_pattern();
  MatchData md(p);
  size_t pos = 0;
  while (pos <= text.size()) {
    int rc = pcre2_match(p.code(), reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), pos, 0, md.get(), nullptr);
    if (rc < 0) break;
    PCRE2_SIZE* ov = md.ovector();
    res.push_back({std::string(text.substr(pos, ov[0] - pos)), 1.0});
    res.push_back({"BREAK", -1.0});
    pos = ov[1];
  }
  res.push_back({std::string(text.substr(pos)), 1.0});
}

void multiply_range(std::vector<PromptPiece>& res, size_t start, double multiplier) {
  for (size_t i = start; i < res.size(); ++i) res[i].weight *= multiplier;
}

}  // namespace

Result<std::vector<PromptPiece>> parse_prompt_weights(std::string_view prompt) {
  AIGC_RETURN_IF_ERROR(clip_validate_utf8(prompt, "prompt"));
  std::vector<PromptPiece> res;
  std::vector<size_t> round_brackets, square_brackets;
  const CompiledPattern& p = attention_pattern();
  MatchData md(p);
  size_t pos = 0;
  while (pos < prompt.size()) {
    int rc =
        pcre2_match(p.code(), reinterpret_cast<PCRE2_SPTR>(prompt.data()), prompt.size(), pos, 0, md.get(), nullptr);
    AIGC_ASSERT(rc > 0);  // the alternatives cover every character
    PCRE2_SIZE* ov = md.ovector();
    AIGC_ASSERT(ov[0] == pos && ov[1] > ov[0]);
    std::string_view text = prompt.substr(ov[0], ov[1] - ov[0]);
    std::optional<double> weight;
    if (rc > 1 && ov[2] != PCRE2_UNSET) weight = parse_weight(prompt.substr(ov[2], ov[3] - ov[2]));
    pos = ov[1];

    if (text[0] == '\\') {
      res.push_back({std::string(text.substr(1)), 1.0});
    } else if (text == "(") {
      round_brackets.push_back(res.size());
    } else if (text == "[") {
      square_brackets.push_back(res.size());
    } else if (weight && !round_brackets.empty()) {
      multiply_range(res, round_brackets.back(), *weight);
      round_brackets.pop_back();
    } else if (text == ")" && !round_brackets.empty()) {
      multiply_range(res, round_brackets.back(), kRoundMultiplier);
      round_brackets.pop_back();
    } else if (text == "]" && !square_brackets.empty()) {
      multiply_range(res, square_brackets.back(), kSquareMultiplier);
      square_brackets.pop_back();
    } else {
      append_text(text, res);
    }
  }
  for (size_t start : round_brackets) multiply_range(res, start, kRoundMultiplier);
  for (size_t start : square_brackets) multiply_range(res, start, kSquareMultiplier);
  if (res.empty()) res.push_back({"", 1.0});

  // Merge runs of identical weights.
  std::vector<PromptPiece> merged;
  for (PromptPiece& piece : res) {
    if (!merged.empty() && merged.back().weight == piece.weight) {
      merged.back().text += piece.text;
    } else {
      merged.push_back(std::move(piece));
    }
  }
  return merged;
}

Result<std::vector<WeightedIds>> tokenize_weighted(const ClipTokenizer& tokenizer,
                                                   const std::vector<PromptPiece>& pieces) {
  std::vector<WeightedIds> parts(1);
  for (const PromptPiece& piece : pieces) {
    if (piece.is_break()) {
      parts.emplace_back();
      continue;
    }
    AIGC_ASSIGN_OR_RETURN(std::vector<int32_t> ids, tokenizer.encode(piece.text));
    parts.back().ids.insert(parts.back().ids.end(), ids.begin(), ids.end());
    parts.back().weights.insert(parts.back().weights.end(), ids.size(), static_cast<float>(piece.weight));
  }
  return parts;
}

std::vector<WeightedIds> comma_backtrack_chunks(const WeightedIds& part, int32_t comma_id, int backtrack) {
  std::vector<WeightedIds> chunks(1);
  int64_t last_comma = -1;  // index of the last comma in chunks.back(); -1: none
  for (size_t i = 0; i < part.ids.size(); ++i) {
    const int64_t n = static_cast<int64_t>(chunks.back().ids.size());
    if (part.ids[i] == comma_id) {
      last_comma = n;
    } else if (n == kClipWindowTokens && last_comma >= 0 && n - last_comma <= backtrack) {
      WeightedIds& full = chunks.back();
      WeightedIds moved;  // the ids after the comma
      moved.ids.assign(full.ids.begin() + last_comma + 1, full.ids.end());
      moved.weights.assign(full.weights.begin() + last_comma + 1, full.weights.end());
      full.ids.resize(static_cast<size_t>(last_comma + 1));
      full.weights.resize(static_cast<size_t>(last_comma + 1));
      chunks.push_back(std::move(moved));
      last_comma = -1;
    }
    if (static_cast<int64_t>(chunks.back().ids.size()) == kClipWindowTokens) {
      chunks.emplace_back();
      last_comma = -1;  // a comma that meets a full window goes first in the next (too early to count)
    }
    chunks.back().ids.push_back(part.ids[i]);
    chunks.back().weights.push_back(part.weights[i]);
  }
  return chunks;
}

Result<std::vector<ClipWindow>> weighted_prompt_windows(const ClipTokenizer& tokenizer, std::string_view prompt,
                                                        int comma_backtrack) {
  if (comma_backtrack < 0 || comma_backtrack > kClipWindowTokens)
    return Status::invalid_argument("comma backtrack " + std::to_string(comma_backtrack) + " is not in 0.." +
                                    std::to_string(kClipWindowTokens));
  AIGC_ASSIGN_OR_RETURN(std::vector<PromptPiece> pieces, parse_prompt_weights(prompt));
  AIGC_ASSIGN_OR_RETURN(std::vector<WeightedIds> parts, tokenize_weighted(tokenizer, pieces));
  AIGC_ASSIGN_OR_RETURN(std::vector<int32_t> comma, tokenizer.encode(","));
  const int32_t comma_id = comma.size() == 1 ? comma[0] : -1;  // -1: a vocabulary without a "," token
  std::vector<ClipWindow> out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i + 1 == parts.size() && i > 0 && parts[i].ids.empty()) break;  // a trailing BREAK adds no window
    for (const WeightedIds& chunk : comma_backtrack_chunks(parts[i], comma_id, comma_backtrack))
      out.push_back(std::move(tokenizer.windows(chunk.ids, chunk.weights).front()));
  }
  return out;
}

}  // namespace aigc
