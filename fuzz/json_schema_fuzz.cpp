// libFuzzer target for the JSON-schema compiler and the grammar matcher: the
// first line of the input is a schema (hostile JSON), the rest is text fed to
// the compiled grammar byte by byte. Neither may crash, hang or blow up.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "text/grammar/json_schema.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t nl = input.find('\n');
  const std::string_view schema_text = input.substr(0, nl);
  const std::string_view text = nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);
  auto schema = nlohmann::ordered_json::parse(schema_text, nullptr, /*allow_exceptions=*/false);
  if (schema.is_discarded()) return 0;
  auto grammar = aigc::grammar_from_json_schema(schema);
  if (!grammar.ok()) return 0;
  aigc::GrammarMatcher m(*grammar);
  for (char c : text.substr(0, 256)) {
    if (!m.accept_byte(uint8_t(c))) break;
    (void)m.is_complete();
  }
  return 0;
}
