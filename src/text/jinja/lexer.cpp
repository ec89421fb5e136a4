// Lexer: Jinja source to tokens, with jinja2's whitespace control.
#include "text/jinja/lexer.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace aigc::jinja {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }

void append_utf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Python's "unicode-escape" decoding of a string literal's body.
Result<std::string> unescape(std::string_view s, int line) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c != '\\' || i + 1 >= s.size()) {
      out += c;
      continue;
    }
    char e = s[++i];
    switch (e) {
      case '\n': break;
      case '\\': out += '\\'; break;
      case '\'': out += '\''; break;
      case '"': out += '"'; break;
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      case 'x':
      case 'u':
      case 'U': {
        size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        uint32_t cp = 0;
        for (size_t k = 0; k < n; ++k) {
          int h = i + 1 + k < s.size() ? hex_value(s[i + 1 + k]) : -1;
          if (h < 0) {
            return Status::invalid_argument("template line " + std::to_string(line) +
                                            ": truncated \\" + std::string(1, e) + " escape in string literal");
          }
          cp = cp * 16 + static_cast<uint32_t>(h);
        }
        if (cp > 0x10FFFF) {
          return Status::invalid_argument("template line " + std::to_string(line) +
                                          ": escape beyond U+10FFFF in string literal");
        }
        i += n;
        append_utf8(cp, out);
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          uint32_t cp = static_cast<uint32_t>(e - '0');
          for (int k = 0; k < 2 && i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '7'; ++k) {
            cp = cp * 8 + static_cast<uint32_t>(s[++i] - '0');
          }
          append_utf8(cp, out);
        } else {
          out += '\\';
          out += e;
        }
    }
  }
  return out;
}

class Lexer {
 public:
  Lexer(std::string source, const LexOptions& options) : src_(std::move(source)), opt_(options) {}

  Result<std::vector<Token>> run() {
    bool line_starting = true;
    while (pos_ < src_.size()) {
      size_t start = find_tag(pos_);
      std::string text = src_.substr(pos_, start - pos_);
      if (start == src_.size()) {
        emit_data(std::move(text));
        pos_ = start;
        break;
      }
      char kind = src_[start + 1];  // '{', '%' or '#'
      char sign = start + 2 < src_.size() ? src_[start + 2] : '\0';
      if (sign == '-') {
        size_t end = text.size();
        while (end > 0 && is_space(text[end - 1])) --end;
        text.resize(end);
      } else if (sign != '+' && opt_.lstrip_blocks && kind != '{') {
        size_t l_pos = text.rfind('\n');
        l_pos = l_pos == std::string::npos ? 0 : l_pos + 1;
        if (l_pos > 0 || line_starting) {
          bool all_space = l_pos < text.size();
          for (size_t i = l_pos; i < text.size(); ++i) all_space = all_space && is_space(text[i]);
          if (all_space) text.resize(l_pos);
        }
      }
      emit_data(std::move(text));
      advance_to(start + 2 + ((sign == '-' || sign == '+') ? 1 : 0));
      if (kind == '#') {
        AIGC_RETURN_IF_ERROR(lex_comment(line_starting));
      } else if (kind == '%' && is_raw_start()) {
        AIGC_RETURN_IF_ERROR(lex_raw(line_starting));
      } else {
        AIGC_RETURN_IF_ERROR(lex_tag(kind == '%', line_starting));
      }
    }
    tokens_.push_back(Token{TokenType::kEof, "", 0, 0.0, line_});
    return std::move(tokens_);
  }

 private:
  size_t find_tag(size_t from) const {
    for (size_t i = from; i + 1 < src_.size(); ++i) {
      if (src_[i] == '{' && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) return i;
    }
    return src_.size();
  }

  void advance_to(size_t p) {
    for (size_t i = pos_; i < p && i < src_.size(); ++i) line_ += src_[i] == '\n';
    pos_ = p;
  }

  void emit_data(std::string text) {
    int line = line_;
    if (!text.empty()) tokens_.push_back(Token{TokenType::kData, std::move(text), 0, 0.0, line});
  }

  Status error(const std::string& what) const {
    return Status::invalid_argument("template line " + std::to_string(line_) + ": " + what);
  }

  // After a block or comment end: "-" ate whitespace, trim_blocks eats "\n".
  void finish_tag(bool strip, bool plus, bool is_block, bool& line_starting) {
    if (strip) {
      size_t p = pos_;
      while (p < src_.size() && is_space(src_[p])) ++p;
      line_starting = p > pos_ && src_[p - 1] == '\n';
      advance_to(p);
    } else if (is_block && !plus && opt_.trim_blocks && pos_ < src_.size() && src_[pos_] == '\n') {
      advance_to(pos_ + 1);
      line_starting = true;
    } else {
      line_starting = false;
    }
  }

  Status lex_comment(bool& line_starting) {
    size_t end = src_.find("#}", pos_);
    if (end == std::string::npos) return error("unterminated comment {# ... #}");
    bool strip = end > pos_ && src_[end - 1] == '-';
    bool plus = end > pos_ && src_[end - 1] == '+';
    advance_to(end + 2);
    finish_tag(strip, plus, true, line_starting);
    return Status();
  }

  bool is_raw_start() const {
    size_t p = pos_;
    while (p < src_.size() && is_space(src_[p])) ++p;
    if (src_.compare(p, 3, "raw") != 0) return false;
    p += 3;
    while (p < src_.size() && is_space(src_[p])) ++p;
    if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) ++p;
    return src_.compare(p, 2, "%}") == 0;
  }

  Status lex_raw(bool& line_starting) {
    size_t p = src_.find("%}", pos_);
    bool strip = p > 0 && src_[p - 1] == '-';
    bool plus = p > 0 && src_[p - 1] == '+';
    advance_to(p + 2);
    finish_tag(strip, plus, true, line_starting);
    // Find {% endraw %} with optional signs.
    for (size_t s = src_.find("{%", pos_); s != std::string::npos; s = src_.find("{%", s + 2)) {
      size_t q = s + 2;
      char open_sign = q < src_.size() ? src_[q] : '\0';
      if (open_sign == '-' || open_sign == '+') ++q;
      while (q < src_.size() && is_space(src_[q])) ++q;
      if (src_.compare(q, 6, "endraw") != 0) continue;
      q += 6;
      while (q < src_.size() && is_space(src_[q])) ++q;
      bool close_strip = q < src_.size() && src_[q] == '-';
      bool close_plus = q < src_.size() && src_[q] == '+';
      if (close_strip || close_plus) ++q;
      if (src_.compare(q, 2, "%}") != 0) continue;
      std::string text = src_.substr(pos_, s - pos_);
      if (open_sign == '-') {
        size_t end = text.size();
        while (end > 0 && is_space(text[end - 1])) --end;
        text.resize(end);
      }
      emit_data(std::move(text));
      advance_to(q + 2);
      finish_tag(close_strip, close_plus, true, line_starting);
      return Status();
    }
    return error("{% raw %} without {% endraw %}");
  }

  Status lex_tag(bool is_block, bool& line_starting) {
    tokens_.push_back(Token{is_block ? TokenType::kBlockBegin : TokenType::kVarBegin, "", 0, 0.0, line_});
    const char end_char = is_block ? '%' : '}';
    std::vector<char> braces;
    while (true) {
      while (pos_ < src_.size() && is_space(src_[pos_])) advance_to(pos_ + 1);
      if (pos_ >= src_.size()) return error(is_block ? "unterminated block tag {% ... %}" : "unterminated {{ ... }}");
      char c = src_[pos_];
      if (braces.empty()) {
        bool strip = c == '-' || c == '+';
        size_t q = pos_ + (strip ? 1 : 0);
        if (q + 1 < src_.size() && src_[q] == end_char && src_[q + 1] == '}') {
          advance_to(q + 2);
          tokens_.push_back(Token{is_block ? TokenType::kBlockEnd : TokenType::kVarEnd, "", 0, 0.0, line_});
          finish_tag(c == '-', c == '+', is_block, line_starting);
          return Status();
        }
      }
      int line = line_;
      if (is_name_start(c)) {
        size_t q = pos_;
        while (q < src_.size() && is_name_char(src_[q])) ++q;
        tokens_.push_back(Token{TokenType::kName, src_.substr(pos_, q - pos_), 0, 0.0, line});
        advance_to(q);
      } else if (is_digit(c)) {
        AIGC_RETURN_IF_ERROR(lex_number());
      } else if (c == '\'' || c == '"') {
        size_t q = pos_ + 1;
        while (q < src_.size() && src_[q] != c) q += src_[q] == '\\' ? 2 : 1;
        if (q >= src_.size()) return error("unterminated string literal");
        AIGC_ASSIGN_OR_RETURN(std::string value, unescape(std::string_view(src_).substr(pos_ + 1, q - pos_ - 1), line));
        tokens_.push_back(Token{TokenType::kString, std::move(value), 0, 0.0, line});
        advance_to(q + 1);
      } else {
        static const char* const kOps[] = {"//", "**", "==", "!=", "<=", ">=", "+", "-", "/", "*", "%", "~", "[",
                                           "]", "(", ")", "{", "}", "<", ">", "=", ".", ":", "|", ",", ";"};
        const char* op = nullptr;
        for (const char* o : kOps) {
          if (src_.compare(pos_, std::char_traits<char>::length(o), o) == 0) {
            op = o;
            break;
          }
        }
        if (op == nullptr) return error(std::string("unexpected character '") + c + "' in tag");
        std::string text(op);
        if (text == "(" || text == "[" || text == "{") {
          if (braces.size() >= 256) return error("brackets nest too deeply");
          braces.push_back(text == "(" ? ')' : text == "[" ? ']' : '}');
        } else if (text == ")" || text == "]" || text == "}") {
          if (braces.empty() || braces.back() != text[0]) return error("unexpected '" + text + "'");
          braces.pop_back();
        }
        tokens_.push_back(Token{TokenType::kOperator, text, 0, 0.0, line});
        advance_to(pos_ + text.size());
      }
    }
  }

  Status lex_number() {
    size_t q = pos_;
    auto digits = [&] {
      while (q < src_.size() && (is_digit(src_[q]) || (src_[q] == '_' && q + 1 < src_.size() && is_digit(src_[q + 1])))) ++q;
    };
    digits();
    bool is_float = false;
    if (q + 1 < src_.size() && src_[q] == '.' && is_digit(src_[q + 1])) {
      is_float = true;
      ++q;
      digits();
    }
    if (q < src_.size() && (src_[q] == 'e' || src_[q] == 'E')) {
      size_t r = q + 1;
      if (r < src_.size() && (src_[r] == '+' || src_[r] == '-')) ++r;
      if (r < src_.size() && is_digit(src_[r])) {
        is_float = true;
        q = r;
        digits();
      }
    }
    std::string text;
    for (size_t i = pos_; i < q; ++i) {
      if (src_[i] != '_') text += src_[i];
    }
    Token t{is_float ? TokenType::kFloat : TokenType::kInt, text, 0, 0.0, line_};
    if (is_float) {
      t.float_value = std::strtod(text.c_str(), nullptr);
    } else {
      errno = 0;
      t.int_value = std::strtoll(text.c_str(), nullptr, 10);
      if (errno == ERANGE) return error("integer literal " + text + " does not fit in 64 bits");
    }
    tokens_.push_back(std::move(t));
    advance_to(q);
    return Status();
  }

  std::string src_;
  LexOptions opt_;
  size_t pos_ = 0;
  int line_ = 1;
  std::vector<Token> tokens_;
};

}  // namespace

Result<std::vector<Token>> tokenize(std::string_view source, const LexOptions& options) {
  if (source.size() > kMaxTemplateBytes) {
    return Status::out_of_range("template: " + std::to_string(source.size()) + " bytes is more than the limit of " +
                                std::to_string(kMaxTemplateBytes));
  }
  std::string normalized;
  normalized.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      normalized += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      normalized += source[i];
    }
  }
  if (!normalized.empty() && normalized.back() == '\n') normalized.pop_back();
  return Lexer(std::move(normalized), options).run();
}

}  // namespace aigc::jinja
