// Tests for the JSON-schema grammar: hand-picked strings accepted or refused,
// and random walks through the grammar whose every complete output must parse
// as JSON (nlohmann) and satisfy the schema (checked by a validator here).
#include "text/grammar/json_schema.h"

#include <gtest/gtest.h>

#include <random>

namespace aigc {
namespace {

using json = nlohmann::ordered_json;

Grammar compile(const char* schema) {
  auto g = grammar_from_json_schema(json::parse(schema));
  EXPECT_TRUE(g.ok()) << g.status().to_string();
  return g.ok() ? std::move(g).value() : Grammar();
}

bool accepts(const Grammar& g, std::string_view s) {
  GrammarMatcher m(g);
  return m.accept_bytes(s) && m.is_complete();
}

// Walks the grammar choosing random allowed bytes; returns the text if it completed.
std::optional<std::string> random_walk(const Grammar& g, std::mt19937& rng) {
  GrammarMatcher m(g);
  std::string out;
  for (int step = 0; step < 400; ++step) {
    if (m.is_finished() || (m.is_complete() && rng() % 4 == 0)) return out;
    std::vector<uint8_t> allowed;
    for (int b = 0; b < 256; ++b)
      if (m.can_accept(std::string(1, char(b)))) allowed.push_back(uint8_t(b));
    if (allowed.empty()) return std::nullopt;  // dead end: a grammar bug
    // Prefer structure-closing bytes half of the time so walks end.
    uint8_t pick = allowed[rng() % allowed.size()];
    for (uint8_t b : allowed)
      if ((b == '}' || b == ']' || b == '"') && rng() % 2 == 0) pick = b;
    EXPECT_TRUE(m.accept_byte(pick));
    out.push_back(char(pick));
  }
  return m.is_complete() ? std::optional<std::string>(out) : std::nullopt;
}

// Checks `v` against the subset of JSON Schema the compiler supports.
bool validates(const json& v, const json& s) {
  if (s.contains("enum")) {
    for (const json& e : s["enum"]) if (e == v) return true;
    return false;
  }
  if (s.contains("anyOf")) {
    for (const json& alt : s["anyOf"]) if (validates(v, alt)) return true;
    return false;
  }
  if (!s.contains("type")) return true;
  const std::string t = s["type"];
  if (t == "integer") return v.is_number_integer();
  if (t == "number") return v.is_number();
  if (t == "boolean") return v.is_boolean();
  if (t == "null") return v.is_null();
  if (t == "string") {
    if (!v.is_string()) return false;
    // length in code points
    size_t n = 0;
    for (unsigned char c : v.get<std::string>()) n += (c & 0xc0) != 0x80;
    return n >= s.value("minLength", size_t(0)) && n <= s.value("maxLength", size_t(1) << 30);
  }
  if (t == "array") {
    if (!v.is_array() || v.size() < s.value("minItems", size_t(0)) || v.size() > s.value("maxItems", size_t(1) << 30))
      return false;
    for (const json& item : v) if (s.contains("items") && !validates(item, s["items"])) return false;
    return true;
  }
  if (t == "object") {
    if (!v.is_object()) return false;
    for (const json& r : s.value("required", json::array())) if (!v.contains(r.get<std::string>())) return false;
    for (const auto& [k, sub] : v.items()) {
      if (!s["properties"].contains(k) || !validates(sub, s["properties"][k])) return false;
    }
    return true;
  }
  return false;
}

const char* kInvoice = R"({
  "type": "object",
  "properties": {
    "customer": {"type": "string", "maxLength": 12},
    "total": {"type": "number"},
    "paid": {"type": "boolean"},
    "lines": {"type": "array", "minItems": 1, "maxItems": 3,
              "items": {"type": "object", "properties": {"sku": {"type": "string", "enum": ["A-1", "B-2"]},
                                                          "qty": {"type": "integer"}},
                        "required": ["sku", "qty"]}},
    "note": {"type": "string"}
  },
  "required": ["customer", "total", "lines"]
})";

TEST(JsonSchemaGrammar, AcceptsValidDocuments) {
  Grammar g = compile(kInvoice);
  EXPECT_TRUE(accepts(g, R"({"customer": "Ann", "total": 12.5, "lines": [{"sku": "A-1", "qty": 2}]})"));
  EXPECT_TRUE(accepts(g, "{\n  \"customer\": \"\xc3\xa9t\xc3\xa9\",\n  \"total\": -1e5,\n  \"paid\": true,\n"
                         "  \"lines\": [{\"sku\":\"B-2\",\"qty\":0}, {\"sku\":\"A-1\",\"qty\":-3}],\n  \"note\": \"x\\n\"\n}"));
}

TEST(JsonSchemaGrammar, RefusesInvalidDocuments) {
  Grammar g = compile(kInvoice);
  EXPECT_FALSE(accepts(g, R"({"total": 1, "lines": [{"sku": "A-1", "qty": 2}]})"));        // customer missing
  EXPECT_FALSE(accepts(g, R"({"customer": "Ann", "total": 1, "lines": []})"));             // minItems
  EXPECT_FALSE(accepts(g, R"({"customer": "Ann", "total": 1, "lines": [{"sku": "C", "qty": 1}]})"));  // enum
  EXPECT_FALSE(accepts(g, R"({"customer": "Ann", "total": 1.5.2, "lines": []})"));
  EXPECT_FALSE(accepts(g, R"({"customer": "0123456789abc", "total": 1, "lines": [{"sku": "A-1", "qty": 1}]})"));
  EXPECT_FALSE(accepts(g, R"({"customer": "Ann", "total": 1, "lines": [{"sku": "A-1", "qty": 1.5}]})"));
  EXPECT_FALSE(accepts(g, "{\"customer\": \"\xff\", \"total\": 1, \"lines\": [{\"sku\": \"A-1\", \"qty\": 1}]}"));
  GrammarMatcher m(g);
  EXPECT_TRUE(m.accept_bytes(R"({"customer": "Ann")"));
  EXPECT_FALSE(m.is_complete());
  EXPECT_FALSE(m.accept_byte('}'));  // total and lines still required
}

TEST(JsonSchemaGrammar, RandomWalksAreValidJson) {
  const char* schemas[] = {
      kInvoice,
      R"({"type": "array", "items": {"type": "integer"}, "maxItems": 4})",
      R"({"type": "string", "minLength": 2, "maxLength": 5})",
      R"({"anyOf": [{"type": "null"}, {"type": "boolean"}, {"type": "string", "enum": ["x", "y"]}]})",
      R"({"type": "object", "properties": {"a": {"type": "object", "properties": {"b": {"type": "array", "items": {"type": "number"}}}}}})",
      R"({})",
  };
  std::mt19937 rng(5);
  for (const char* text : schemas) {
    const json schema = json::parse(text);
    Grammar g = compile(text);
    int completed = 0;
    for (int i = 0; i < 60; ++i) {
      auto out = random_walk(g, rng);
      if (!out) continue;
      ++completed;
      json v = json::parse(*out, nullptr, false);
      ASSERT_FALSE(v.is_discarded()) << "not JSON: " << *out << "\nschema " << text;
      EXPECT_TRUE(validates(v, schema)) << *out << "\nschema " << text;
    }
    EXPECT_GT(completed, 20) << text;
  }
}

TEST(JsonSchemaGrammar, UnsupportedKeywordsAreNamed) {
  auto g = grammar_from_json_schema(json::parse(R"({"type": "string", "pattern": "^a+$"})"));
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("pattern"), std::string::npos);
  auto r = grammar_from_json_schema(json::parse(R"({"type": "object", "properties": {}, "required": ["x"]})"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("\"x\""), std::string::npos);
  EXPECT_FALSE(grammar_from_json_schema(json::parse(R"({"type": "array", "minItems": 3, "maxItems": 2})")).ok());
}

}  // namespace
}  // namespace aigc
