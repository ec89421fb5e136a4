// AUTOMATIC1111 "parameters" text (see infotext.h). The parser follows the
// web UI's parse_generation_parameters(): the last line's pairs are found by
// the regular expression
//   \s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)
// applied repeatedly (as Python's re.findall), hand-coded below.
#include "image/infotext.h"

#include <charconv>
#include <nlohmann/json.hpp>

namespace aigc {
namespace {

std::string format_number(float v) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  return ec == std::errc() ? std::string(buf, end) : "0";
}

std::string_view strip(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }
// \w: letters, digits, underscore; non-ASCII bytes count as letters.
bool is_word(char c) {
  const unsigned char u = static_cast<unsigned char>(c);
  return u >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}
bool is_key_char(char c) { return is_word(c) || c == ' ' || c == '-' || c == '/'; }

// One match of the pair pattern at `pos`: key, raw value, end of the match.
bool match_pair(std::string_view s, size_t pos, std::string_view* key, std::string_view* value, size_t* end) {
  while (pos < s.size() && is_space(s[pos])) ++pos;
  const size_t key_start = pos;
  if (pos >= s.size() || !is_word(s[pos])) return false;
  ++pos;
  while (pos < s.size() && is_key_char(s[pos])) ++pos;
  if (pos - key_start < 2 || pos >= s.size() || s[pos] != ':') return false;
  *key = s.substr(key_start, pos - key_start);
  ++pos;
  while (pos < s.size() && is_space(s[pos])) ++pos;
  // First alternative: a quoted string followed by ',' or the end.
  if (pos < s.size() && s[pos] == '"') {
    size_t q = pos + 1;
    while (q < s.size() && s[q] != '"') q += (s[q] == '\\' && q + 1 < s.size()) ? 2 : 1;
    if (q < s.size() && q > pos + 1 && (q + 1 == s.size() || s[q + 1] == ',')) {
      *value = s.substr(pos, q + 1 - pos);
      *end = q + 1 < s.size() ? q + 2 : q + 1;
      return true;
    }
  }
  // Second alternative: everything up to the next ','.
  const size_t comma = s.find(',', pos);
  *value = s.substr(pos, (comma == std::string_view::npos ? s.size() : comma) - pos);
  *end = comma == std::string_view::npos ? s.size() : comma + 1;
  return true;
}

std::vector<std::pair<std::string_view, std::string_view>> find_pairs(std::string_view line) {
  std::vector<std::pair<std::string_view, std::string_view>> pairs;
  size_t pos = 0;
  while (pos < line.size()) {
    std::string_view key, value;
    size_t end = 0;
    if (match_pair(line, pos, &key, &value, &end)) {
      pairs.emplace_back(key, value);
      pos = end > pos ? end : pos + 1;
    } else {
      ++pos;
    }
  }
  return pairs;
}

// JSON string -> text (the web UI's json.loads); the raw value when it is
// not valid JSON.
std::string unquote(std::string_view raw) {
  if (raw.size() < 2 || raw.front() != '"' || raw.back() != '"') return std::string(raw);
  try {
    const nlohmann::json j = nlohmann::json::parse(raw);
    if (j.is_string()) return j.get<std::string>();
  } catch (const nlohmann::json::exception&) {
  }
  return std::string(raw);
}

template <class T>
Status parse_number(const std::string& key, const std::string& value, T* out) {
  const char* end = value.data() + value.size();
  const auto [ptr, ec] = std::from_chars(value.data(), end, *out);
  if (ec != std::errc() || ptr != end) {
    return Status::invalid_argument("infotext: " + key + ": '" + value + "' is not a valid number");
  }
  return {};
}

}  // namespace

std::string quote_infotext_value(std::string_view value) {
  if (value.find_first_of(",:\n") == std::string_view::npos) return std::string(value);
  return nlohmann::json(std::string(value)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string format_infotext(const GenerationParams& p) {
  std::vector<std::pair<std::string, std::string>> fields = {
      {"Steps", std::to_string(p.steps)}, {"Sampler", p.sampler}};
  if (!p.schedule_type.empty()) fields.emplace_back("Schedule type", p.schedule_type);
  fields.emplace_back("CFG scale", format_number(p.cfg));
  fields.emplace_back("Seed", std::to_string(p.seed));
  fields.emplace_back("Size", std::to_string(p.width) + "x" + std::to_string(p.height));
  if (!p.model_hash.empty()) fields.emplace_back("Model hash", p.model_hash);
  if (!p.model.empty()) fields.emplace_back("Model", p.model);
  if (p.strength > 0) fields.emplace_back("Denoising strength", format_number(p.strength));
  if (p.clip_skip > 1) fields.emplace_back("Clip skip", std::to_string(p.clip_skip));
  fields.insert(fields.end(), p.extra.begin(), p.extra.end());

  std::string pairs;
  for (const auto& [key, value] : fields) {
    if (!pairs.empty()) pairs += ", ";
    pairs += key == value ? key : key + ": " + quote_infotext_value(value);
  }
  std::string text = p.prompt;
  if (!p.negative.empty()) text += "\nNegative prompt: " + p.negative;
  text += "\n" + pairs;
  return std::string(strip(text));
}

Result<GenerationParams> parse_infotext(std::string_view text) {
  GenerationParams p;
  p.sampler.clear();
  text = strip(text);
  std::vector<std::string_view> lines;
  for (size_t start = 0;;) {
    const size_t nl = text.find('\n', start);
    lines.push_back(text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start));
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  std::string_view last = lines.back();
  std::vector<std::pair<std::string_view, std::string_view>> pairs = find_pairs(last);
  if (pairs.size() < 3) {
    pairs.clear();
  } else {
    lines.pop_back();
  }
  bool in_negative = false;
  for (std::string_view line : lines) {
    line = strip(line);
    if (line.substr(0, 16) == "Negative prompt:") {
      in_negative = true;
      line = strip(line.substr(16));
    }
    std::string& target = in_negative ? p.negative : p.prompt;
    if (!target.empty()) target += '\n';
    target += line;
  }
  for (const auto& [key_view, raw] : pairs) {
    const std::string key(key_view);
    const std::string value = unquote(raw);
    if (key == "Steps") {
      AIGC_RETURN_IF_ERROR(parse_number(key, value, &p.steps));
    } else if (key == "Sampler") {
      p.sampler = value;
    } else if (key == "Schedule type") {
      p.schedule_type = value;
    } else if (key == "CFG scale") {
      AIGC_RETURN_IF_ERROR(parse_number(key, value, &p.cfg));
    } else if (key == "Seed") {
      AIGC_RETURN_IF_ERROR(parse_number(key, value, &p.seed));
    } else if (key == "Size") {
      const size_t x = value.find('x');
      if (x == std::string::npos || !parse_number(key, value.substr(0, x), &p.width).ok() ||
          !parse_number(key, value.substr(x + 1), &p.height).ok()) {
        return Status::invalid_argument("infotext: Size: '" + value + "' is not WIDTHxHEIGHT");
      }
    } else if (key == "Model hash") {
      p.model_hash = value;
    } else if (key == "Model") {
      p.model = value;
    } else if (key == "Denoising strength") {
      AIGC_RETURN_IF_ERROR(parse_number(key, value, &p.strength));
    } else if (key == "Clip skip") {
      AIGC_RETURN_IF_ERROR(parse_number(key, value, &p.clip_skip));
    } else {
      p.extra.emplace_back(key, value);
    }
  }
  if (p.sampler.empty()) p.sampler = GenerationParams{}.sampler;
  return p;
}

}  // namespace aigc
