// Lexer: splits Jinja template source into data and tag tokens.
//
// Applies Jinja's whitespace rules while lexing, as jinja2's lexer does:
// "-" strips whitespace next to a tag, trim_blocks drops the first newline
// after a block or comment tag, lstrip_blocks drops the indentation before
// one, "+" opts out. Newlines are normalised to "\n" and one trailing
// newline of the source is dropped (keep_trailing_newline=False).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace aigc::jinja {

enum class TokenType {
  kData,        // text outside tags (also the body of {% raw %})
  kVarBegin,    // {{
  kVarEnd,      // }}
  kBlockBegin,  // {%
  kBlockEnd,    // %}
  kName,
  kString,      // text holds the unescaped value
  kInt,
  kFloat,
  kOperator,    // text holds the operator
  kEof,
};

struct Token {
  TokenType type = TokenType::kEof;
  std::string text;
  int64_t int_value = 0;
  double float_value = 0.0;
  int line = 1;
};

struct LexOptions {
  bool trim_blocks = true;
  bool lstrip_blocks = true;
};

// Source longer than this is refused.
inline constexpr size_t kMaxTemplateBytes = 4u << 20;

Result<std::vector<Token>> tokenize(std::string_view source, const LexOptions& options = {});

}  // namespace aigc::jinja
