// ChatTemplate: HF-compatible chat template rendering over the Jinja interpreter.
#include "text/chat_template.h"

#include <ctime>

namespace aigc {

Result<ChatTemplate> ChatTemplate::parse(std::string_view source) {
  Result<jinja::Template> t = jinja::Template::parse(source);
  if (!t.ok()) return Status(t.status().code(), "chat template: " + t.status().message());
  return ChatTemplate(std::move(*t));
}

Result<std::string> ChatTemplate::render(const nlohmann::ordered_json& context) const {
  if (!context.is_object()) return Status::invalid_argument("chat template: context must be a JSON object");
  AIGC_ASSIGN_OR_RETURN(jinja::Value ctx, jinja::from_json(context));
  jinja::ValueDict globals;
  std::tm now{};
  if (now_) {
    now = *now_;
  } else {
    std::time_t t = std::time(nullptr);
    localtime_r(&t, &now);
  }
  globals.set("strftime_now", jinja::Value::function("strftime_now", [now](jinja::Interpreter&, const jinja::CallArgs& args)
                                                                        -> Result<jinja::Value> {
    if (args.positional.empty() || !args.positional[0].is_string()) {
      return Status::invalid_argument("strftime_now: needs a format string");
    }
    char buf[256];
    size_t n = std::strftime(buf, sizeof(buf), args.positional[0].as_string().c_str(), &now);
    if (n == 0 && !args.positional[0].as_string().empty()) {
      return Status::invalid_argument("strftime_now: format '" + args.positional[0].as_string() + "' gives nothing or too much");
    }
    return jinja::Value::string(std::string(buf, n));
  }));
  for (const auto& [k, v] : ctx.as_dict().items) globals.set(k, v);
  Result<std::string> out = template_.render(globals, limits_);
  if (!out.ok()) return Status(out.status().code(), "chat template: " + out.status().message());
  return out;
}

Result<std::string> ChatTemplate::render(const nlohmann::json& context) const {
  nlohmann::ordered_json ordered;
  try {
    ordered = nlohmann::ordered_json::parse(context.dump());
  } catch (const nlohmann::json::exception& e) {
    return Status::invalid_argument(std::string("chat template: context is not valid JSON: ") + e.what());
  }
  return render(ordered);
}

Result<std::string> ChatTemplate::apply(const ChatInput& input) const {
  if (!input.messages.is_array()) return Status::invalid_argument("chat template: messages must be a JSON array");
  if (!input.extra.is_object()) return Status::invalid_argument("chat template: extra must be a JSON object");
  nlohmann::ordered_json ctx = nlohmann::ordered_json::object();
  ctx["messages"] = input.messages;
  ctx["tools"] = input.tools;
  ctx["documents"] = nullptr;
  ctx["add_generation_prompt"] = input.add_generation_prompt;
  ctx["bos_token"] = input.bos_token;
  ctx["eos_token"] = input.eos_token;
  for (const auto& [k, v] : input.extra.items()) ctx[k] = v;
  return render(ctx);
}

}  // namespace aigc
