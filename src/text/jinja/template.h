// Template: a parsed Jinja template that renders many times.
//
// Parse once (the AST is immutable and shared by copies), render with a
// dict of top-level variables. Safe to render from many threads at once.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "text/jinja/ast.h"
#include "text/jinja/interpreter.h"
#include "text/jinja/value.h"

namespace aigc::jinja {

class Template {
 public:
  static Result<Template> parse(std::string_view source);
  Result<std::string> render(const ValueDict& globals, const RenderLimits& limits = {}) const;

 private:
  explicit Template(std::shared_ptr<const Body> body) : body_(std::move(body)) {}
  std::shared_ptr<const Body> body_;
};

}  // namespace aigc::jinja
