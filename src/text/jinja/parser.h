// Parser: tokens of a Jinja template to its AST (see ast.h).
//
// Follows jinja2's grammar and operator precedence. Refuses, with the line
// and the construct named, what this interpreter does not implement
// (extends, include, import, ...), and trees nested deeper than
// kMaxNestingDepth.
#pragma once

#include <string_view>

#include "core/status.h"
#include "text/jinja/ast.h"

namespace aigc::jinja {

inline constexpr int kMaxNestingDepth = 128;

Result<Body> parse_template(std::string_view source);

}  // namespace aigc::jinja
