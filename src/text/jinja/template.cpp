// Template: parse once, render many times.
#include "text/jinja/template.h"

#include "text/jinja/parser.h"

namespace aigc::jinja {

Result<Template> Template::parse(std::string_view source) {
  AIGC_ASSIGN_OR_RETURN(Body body, parse_template(source));
  return Template(std::make_shared<const Body>(std::move(body)));
}

Result<std::string> Template::render(const ValueDict& globals, const RenderLimits& limits) const {
  Interpreter interpreter(limits);
  return interpreter.render(*body_, globals);
}

}  // namespace aigc::jinja
