// ChatTemplate: renders a model's chat template (the Jinja string in GGUF
// `tokenizer.chat_template`) the way HF transformers' apply_chat_template
// does, byte for byte.
//
// The template is untrusted input: parse() and render() never crash, and
// every render is bounded in steps, output size and nesting (see
// jinja::RenderLimits). Errors name the template line and the construct;
// a template's own raise_exception("...") comes back as an error whose
// message starts with "raise_exception: ".
//
//   AIGC_ASSIGN_OR_RETURN(ChatTemplate t, ChatTemplate::parse(source));
//   ChatInput in;
//   in.messages = nlohmann::ordered_json::parse(R"([{"role":"user","content":"Hi"}])");
//   in.add_generation_prompt = true;
//   AIGC_ASSIGN_OR_RETURN(std::string prompt, t.apply(in));
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "text/jinja/template.h"

namespace aigc {

// What apply_chat_template passes to the template.
struct ChatInput {
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  nlohmann::ordered_json tools;  // null: no tools (the template sees none)
  bool add_generation_prompt = false;
  std::string bos_token;
  std::string eos_token;
  // Extra top-level variables (e.g. "builtin_tools", "date_string").
  nlohmann::ordered_json extra = nlohmann::ordered_json::object();
};

class ChatTemplate {
 public:
  static Result<ChatTemplate> parse(std::string_view source);

  // Renders with `context` (a JSON object) as the top-level variables, plus
  // raise_exception and strftime_now.
  Result<std::string> render(const nlohmann::ordered_json& context) const;
  Result<std::string> render(const nlohmann::json& context) const;
  // Builds the context HF builds: messages, tools, documents (none),
  // add_generation_prompt, bos_token, eos_token, then `extra`.
  Result<std::string> apply(const ChatInput& input) const;

  // The local time strftime_now() formats; default: the time of the render.
  void set_now(const std::tm& local_time) { now_ = local_time; }
  void set_limits(const jinja::RenderLimits& limits) { limits_ = limits; }

 private:
  explicit ChatTemplate(jinja::Template t) : template_(std::move(t)) {}

  jinja::Template template_;
  std::optional<std::tm> now_;
  jinja::RenderLimits limits_;
};

}  // namespace aigc
