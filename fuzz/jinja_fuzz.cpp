// libFuzzer target: a chat template (untrusted) parsed and rendered against
// a fixed conversation. Must never crash, hang or allocate without bound.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "text/chat_template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const aigc::ChatInput* input = [] {
    auto* in = new aigc::ChatInput();
    in->messages = nlohmann::ordered_json::parse(R"([
      {"role": "system", "content": "You are helpful."},
      {"role": "user", "content": "Hi 你好 🤖"},
      {"role": "assistant", "content": null, "tool_calls": [{"id": "call12345", "type": "function",
        "function": {"name": "f", "arguments": {"x": 1, "y": [true, null, 2.5]}}}]},
      {"role": "tool", "tool_call_id": "call12345", "content": "ok"}])");
    in->tools = nlohmann::ordered_json::parse(
        R"([{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}])");
    in->add_generation_prompt = true;
    in->bos_token = "<s>";
    in->eos_token = "</s>";
    return in;
  }();
  aigc::Result<aigc::ChatTemplate> t =
      aigc::ChatTemplate::parse(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!t.ok()) return 0;
  aigc::jinja::RenderLimits limits;
  limits.max_steps = 200000;
  limits.max_output_bytes = 1 << 20;
  limits.max_work_bytes = 64 << 20;
  limits.max_list_items = 1 << 16;
  limits.max_call_depth = 32;
  t->set_limits(limits);
  std::tm now{};
  t->set_now(now);
  (void)t->apply(*input);
  return 0;
}
