// JSON Schema -> Grammar compiler: one rule per schema node, right recursion
// for repetition, bounded counts unrolled into chains of rules.
#include "text/grammar/json_schema.h"

#include <map>
#include <string>

namespace aigc {

namespace {

using Seq = std::vector<GrammarElement>;
using json = nlohmann::ordered_json;

constexpr int kMaxDepth = 64;           // schema nesting
constexpr int64_t kMaxUnrolled = 4096;  // maxLength / maxItems unrolled into rules
constexpr int kMaxDigits = 16;          // digits of an integer part, fraction or exponent

Seq cat(std::initializer_list<Seq> parts) {
  Seq out;
  for (const Seq& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

class Compiler {
 public:
  explicit Compiler(Grammar& g) : g_(g) {}

  Status compile_root(const json& schema) {
    const int root = g_.add_rule("root");
    AIGC_ASSIGN_OR_RETURN(int value, node(schema, "#", 0));
    g_.add_alternative(root, {Grammar::ref(ws()), Grammar::ref(value), Grammar::ref(ws())});
    return Status();
  }

 private:
  Result<int> node(const json& s, const std::string& path, int depth) {
    if (depth > kMaxDepth) return Status::unsupported("json schema: nesting deeper than 64 at " + path);
    if (s.is_boolean()) {
      if (s.get<bool>()) return any_value();
      return Status::unsupported("json schema: 'false' schema at " + path + " accepts nothing");
    }
    if (!s.is_object()) return Status::invalid_argument("json schema: " + path + " is not an object");
    for (const auto& [key, value] : s.items()) {
      static const char* kKnown[] = {"type", "properties", "required", "items", "minItems", "maxItems", "enum",
                                     "const", "anyOf", "oneOf", "minLength", "maxLength", "additionalProperties",
                                     "title", "description", "$schema", "$id", "default", "examples", "format"};
      bool known = false;
      for (const char* k : kKnown) known = known || key == k;
      if (!known) return Status::unsupported("json schema: keyword '" + key + "' at " + path + " is not supported");
    }
    if (s.contains("const")) return literal_rule(s["const"].dump());
    if (s.contains("enum")) {
      if (!s["enum"].is_array() || s["enum"].empty())
        return Status::invalid_argument("json schema: 'enum' at " + path + " must be a non-empty array");
      const int r = g_.add_rule(path + "/enum");
      for (const json& v : s["enum"]) g_.add_alternative(r, Grammar::literal(v.dump()));
      return r;
    }
    for (const char* key : {"anyOf", "oneOf"}) {
      if (!s.contains(key)) continue;
      if (!s[key].is_array() || s[key].empty())
        return Status::invalid_argument(std::string("json schema: '") + key + "' at " + path + " must be a non-empty array");
      const int r = g_.add_rule(path + "/" + key);
      for (size_t i = 0; i < s[key].size(); ++i) {
        AIGC_ASSIGN_OR_RETURN(int alt, node(s[key][i], path + "/" + key + "/" + std::to_string(i), depth + 1));
        g_.add_alternative(r, {Grammar::ref(alt)});
      }
      return r;
    }
    if (!s.contains("type")) {
      if (s.contains("properties")) return object(s, path, depth);
      if (s.contains("items")) return array(s, path, depth);
      return any_value();
    }
    const json& type = s["type"];
    if (type.is_array()) {
      const int r = g_.add_rule(path + "/type");
      for (const json& t : type) {
        if (!t.is_string()) return Status::invalid_argument("json schema: 'type' at " + path + " holds a non-string");
        AIGC_ASSIGN_OR_RETURN(int alt, typed(s, t.get<std::string>(), path, depth));
        g_.add_alternative(r, {Grammar::ref(alt)});
      }
      return r;
    }
    if (!type.is_string()) return Status::invalid_argument("json schema: 'type' at " + path + " must be a string or array");
    return typed(s, type.get<std::string>(), path, depth);
  }

  Result<int> typed(const json& s, const std::string& type, const std::string& path, int depth) {
    if (type == "object") return object(s, path, depth);
    if (type == "array") return array(s, path, depth);
    if (type == "string") return string(s, path);
    if (type == "number") return number(false);
    if (type == "integer") return number(true);
    if (type == "boolean") {
      const int r = g_.add_rule("boolean");
      g_.add_alternative(r, Grammar::literal("true"));
      g_.add_alternative(r, Grammar::literal("false"));
      return r;
    }
    if (type == "null") return literal_rule("null");
    return Status::unsupported("json schema: type '" + type + "' at " + path + " is not supported");
  }

  Result<int64_t> count(const json& s, const char* key, int64_t fallback, const std::string& path) {
    if (!s.contains(key)) return fallback;
    if (!s[key].is_number_unsigned())
      return Status::invalid_argument(std::string("json schema: '") + key + "' at " + path +
                                      " must be a non-negative integer");
    const uint64_t v = s[key].get<uint64_t>();
    if (v > uint64_t(kMaxUnrolled))
      return Status::unsupported(std::string("json schema: '") + key + "' at " + path + " exceeds " +
                                 std::to_string(kMaxUnrolled));
    return int64_t(v);
  }

  // object: "{" then the properties in order, each required one present.
  Result<int> object(const json& s, const std::string& path, int depth) {
    if (!s.contains("properties")) return any_object();
    const json& props = s["properties"];
    if (!props.is_object()) return Status::invalid_argument("json schema: 'properties' at " + path + " must be an object");
    std::map<std::string, bool> required;
    if (s.contains("required")) {
      if (!s["required"].is_array()) return Status::invalid_argument("json schema: 'required' at " + path + " must be an array");
      for (const json& r : s["required"]) {
        if (!r.is_string() || !props.contains(r.get<std::string>()))
          return Status::invalid_argument("json schema: 'required' at " + path + " names " + r.dump() +
                                          ", which is not in 'properties'");
        required[r.get<std::string>()] = true;
      }
    }
    std::vector<int> kv;
    std::vector<bool> is_required;
    for (const auto& [name, sub] : props.items()) {
      AIGC_ASSIGN_OR_RETURN(int value, node(sub, path + "/properties/" + name, depth + 1));
      const int r = g_.add_rule(path + "/" + name);
      g_.add_alternative(r, cat({Grammar::literal(json(name).dump()), {Grammar::ref(ws())}, Grammar::literal(":"),
                                 {Grammar::ref(ws()), Grammar::ref(value)}}));
      kv.push_back(r);
      is_required.push_back(required.count(name) > 0);
    }
    // first[i]: properties i.. with none written yet; rest[i]: properties i.. after one was written.
    const size_t n = kv.size();
    std::vector<int> first(n + 1), rest(n + 1);
    for (size_t i = 0; i <= n; ++i) {
      first[i] = g_.add_rule(path + "/first" + std::to_string(i));
      rest[i] = g_.add_rule(path + "/rest" + std::to_string(i));
    }
    g_.add_alternative(first[n], {});
    g_.add_alternative(rest[n], {});
    for (size_t i = n; i-- > 0;) {
      g_.add_alternative(first[i], {Grammar::ref(kv[i]), Grammar::ref(rest[i + 1])});
      g_.add_alternative(rest[i], {Grammar::ref(ws()), Grammar::literal_byte(','), Grammar::ref(ws()),
                                   Grammar::ref(kv[i]), Grammar::ref(rest[i + 1])});
      if (!is_required[i]) {
        g_.add_alternative(first[i], {Grammar::ref(first[i + 1])});
        g_.add_alternative(rest[i], {Grammar::ref(rest[i + 1])});
      }
    }
    const int r = g_.add_rule(path + "/object");
    g_.add_alternative(r, {Grammar::literal_byte('{'), Grammar::ref(ws()), Grammar::ref(first[0]), Grammar::ref(ws()),
                           Grammar::literal_byte('}')});
    return r;
  }

  // array: "[" items "]" with min..max items of the item schema.
  Result<int> array(const json& s, const std::string& path, int depth) {
    int item = 0;
    if (s.contains("items")) {
      AIGC_ASSIGN_OR_RETURN(item, node(s["items"], path + "/items", depth + 1));
    } else {
      item = any_value();
    }
    AIGC_ASSIGN_OR_RETURN(int64_t min_items, count(s, "minItems", 0, path));
    AIGC_ASSIGN_OR_RETURN(int64_t max_items, count(s, "maxItems", -1, path));
    if (max_items >= 0 && max_items < min_items)
      return Status::invalid_argument("json schema: maxItems < minItems at " + path);
    const int close = g_.add_rule(path + "/close");
    g_.add_alternative(close, {Grammar::ref(ws()), Grammar::literal_byte(']')});
    // after[k]: what may follow k written items.
    const int64_t unrolled = max_items >= 0 ? max_items : std::max<int64_t>(min_items, 1);
    std::vector<int> after(size_t(unrolled) + 1);
    for (auto& a : after) a = g_.add_rule(path + "/after");
    for (int64_t k = unrolled; k >= 1; --k) {
      const int a = after[size_t(k)];
      if (k >= min_items) g_.add_alternative(a, {Grammar::ref(close)});
      const bool more = max_items < 0 || k < max_items;
      if (more) {
        const int next = k == unrolled ? a : after[size_t(k + 1)];  // unbounded: loop on the last
        g_.add_alternative(a, {Grammar::ref(ws()), Grammar::literal_byte(','), Grammar::ref(ws()), Grammar::ref(item),
                               Grammar::ref(next)});
      }
    }
    const int r = g_.add_rule(path + "/array");
    if (min_items == 0) g_.add_alternative(r, {Grammar::literal_byte('['), Grammar::ref(close)});
    if (max_items != 0)
      g_.add_alternative(r, {Grammar::literal_byte('['), Grammar::ref(ws()), Grammar::ref(item),
                             Grammar::ref(after[1])});
    return r;
  }

  // string: '"' chars{min,max} '"'.
  Result<int> string(const json& s, const std::string& path) {
    AIGC_ASSIGN_OR_RETURN(int64_t min_len, count(s, "minLength", 0, path));
    AIGC_ASSIGN_OR_RETURN(int64_t max_len, count(s, "maxLength", -1, path));
    if (max_len >= 0 && max_len < min_len)
      return Status::invalid_argument("json schema: maxLength < minLength at " + path);
    const int c = string_char();
    int tail;  // chars after the required minimum
    if (max_len < 0) {
      tail = g_.add_rule("chars");
      g_.add_alternative(tail, {});
      g_.add_alternative(tail, {Grammar::ref(c), Grammar::ref(tail)});
    } else {
      tail = g_.add_rule("chars0");
      g_.add_alternative(tail, {});
      for (int64_t k = 1; k <= max_len - min_len; ++k) {
        const int r = g_.add_rule("chars" + std::to_string(k));
        g_.add_alternative(r, {});
        g_.add_alternative(r, {Grammar::ref(c), Grammar::ref(tail)});
        tail = r;
      }
    }
    Seq seq = {Grammar::literal_byte('"')};
    for (int64_t k = 0; k < min_len; ++k) seq.push_back(Grammar::ref(c));
    seq.push_back(Grammar::ref(tail));
    seq.push_back(Grammar::literal_byte('"'));
    const int r = g_.add_rule(path + "/string");
    g_.add_alternative(r, seq);
    return r;
  }

  // One JSON string character: printable ASCII but '"' and '\', an escape,
  // or a well-formed UTF-8 sequence.
  int string_char() {
    if (string_char_ >= 0) return string_char_;
    string_char_ = g_.add_rule("char");
    GrammarElement plain = Grammar::byte_range(0x20, 0x7e);
    plain.bytes.reset('"');
    plain.bytes.reset('\\');
    g_.add_alternative(string_char_, {plain});
    GrammarElement esc;
    for (char ch : std::string("\"\\/bfnrt")) esc.bytes.set(uint8_t(ch));
    g_.add_alternative(string_char_, {Grammar::literal_byte('\\'), esc});
    GrammarElement hex = Grammar::byte_range('0', '9');
    for (int ch = 'a'; ch <= 'f'; ++ch) hex.bytes.set(size_t(ch)), hex.bytes.set(size_t(ch - 32));
    g_.add_alternative(string_char_, {Grammar::literal_byte('\\'), Grammar::literal_byte('u'), hex, hex, hex, hex});
    const GrammarElement cont = Grammar::byte_range(0x80, 0xbf);
    g_.add_alternative(string_char_, {Grammar::byte_range(0xc2, 0xdf), cont});
    g_.add_alternative(string_char_, {Grammar::literal_byte(0xe0), Grammar::byte_range(0xa0, 0xbf), cont});
    g_.add_alternative(string_char_, {Grammar::byte_range(0xe1, 0xec), cont, cont});
    g_.add_alternative(string_char_, {Grammar::literal_byte(0xed), Grammar::byte_range(0x80, 0x9f), cont});
    g_.add_alternative(string_char_, {Grammar::byte_range(0xee, 0xef), cont, cont});
    g_.add_alternative(string_char_, {Grammar::literal_byte(0xf0), Grammar::byte_range(0x90, 0xbf), cont, cont});
    g_.add_alternative(string_char_, {Grammar::byte_range(0xf1, 0xf3), cont, cont, cont});
    g_.add_alternative(string_char_, {Grammar::literal_byte(0xf4), Grammar::byte_range(0x80, 0x8f), cont, cont});
    return string_char_;
  }

  // Up to kMaxDigits digits after a first one: a chain of optional digits.
  int digits(int n) {
    int tail = g_.add_rule("digits0");
    g_.add_alternative(tail, {});
    for (int k = 1; k <= n; ++k) {
      const int r = g_.add_rule("digits" + std::to_string(k));
      g_.add_alternative(r, {});
      g_.add_alternative(r, {Grammar::byte_range('0', '9'), Grammar::ref(tail)});
      tail = r;
    }
    return tail;
  }

  int number(bool integer) {
    int& cached = integer ? integer_ : number_;
    if (cached >= 0) return cached;
    const int sign = g_.add_rule("sign");
    g_.add_alternative(sign, {});
    g_.add_alternative(sign, {Grammar::literal_byte('-')});
    const int int_part = g_.add_rule("int");
    g_.add_alternative(int_part, {Grammar::literal_byte('0')});
    g_.add_alternative(int_part, {Grammar::byte_range('1', '9'), Grammar::ref(digits(kMaxDigits - 1))});
    cached = g_.add_rule(integer ? "integer" : "number");
    if (integer) {
      g_.add_alternative(cached, {Grammar::ref(sign), Grammar::ref(int_part)});
      return cached;
    }
    const int frac = g_.add_rule("frac");
    g_.add_alternative(frac, {});
    g_.add_alternative(frac, {Grammar::literal_byte('.'), Grammar::byte_range('0', '9'), Grammar::ref(digits(kMaxDigits - 1))});
    const int exp = g_.add_rule("exp");
    g_.add_alternative(exp, {});
    GrammarElement e = Grammar::literal_byte('e');
    e.bytes.set('E');
    GrammarElement pm = Grammar::literal_byte('+');
    pm.bytes.set('-');
    const int exp_sign = g_.add_rule("exp_sign");
    g_.add_alternative(exp_sign, {});
    g_.add_alternative(exp_sign, {pm});
    g_.add_alternative(exp, {e, Grammar::ref(exp_sign), Grammar::byte_range('0', '9'), Grammar::ref(digits(1))});  // |exponent| <= 99
    g_.add_alternative(cached, {Grammar::ref(sign), Grammar::ref(int_part), Grammar::ref(frac), Grammar::ref(exp)});
    return cached;
  }

  int literal_rule(const std::string& text) {
    const int r = g_.add_rule("literal");
    g_.add_alternative(r, Grammar::literal(text));
    return r;
  }

  // Any JSON value (for an empty schema), objects with any keys.
  int any_value() {
    if (any_value_ >= 0) return any_value_;
    any_value_ = g_.add_rule("value");
    const int str = string(json::object(), "#any").value();
    const int arr = g_.add_rule("any_array");
    const int obj = any_object();
    for (const char* lit : {"true", "false", "null"}) g_.add_alternative(any_value_, Grammar::literal(lit));
    g_.add_alternative(any_value_, {Grammar::ref(number(false))});
    g_.add_alternative(any_value_, {Grammar::ref(str)});
    g_.add_alternative(any_value_, {Grammar::ref(arr)});
    g_.add_alternative(any_value_, {Grammar::ref(obj)});
    // any_array: "[" ws "]" | "[" ws value more ; more: ws "]" | ws "," ws value more
    const int more = g_.add_rule("any_array_more");
    g_.add_alternative(more, {Grammar::ref(ws()), Grammar::literal_byte(']')});
    g_.add_alternative(more, {Grammar::ref(ws()), Grammar::literal_byte(','), Grammar::ref(ws()),
                              Grammar::ref(any_value_), Grammar::ref(more)});
    g_.add_alternative(arr, {Grammar::literal_byte('['), Grammar::ref(ws()), Grammar::literal_byte(']')});
    g_.add_alternative(arr, {Grammar::literal_byte('['), Grammar::ref(ws()), Grammar::ref(any_value_), Grammar::ref(more)});
    return any_value_;
  }

  int any_object() {
    if (any_object_ >= 0) return any_object_;
    any_object_ = g_.add_rule("any_object");
    const int value = any_value();
    const int str = string(json::object(), "#key").value();
    const int kv = g_.add_rule("any_kv");
    g_.add_alternative(kv, {Grammar::ref(str), Grammar::ref(ws()), Grammar::literal_byte(':'), Grammar::ref(ws()),
                            Grammar::ref(value)});
    const int more = g_.add_rule("any_object_more");
    g_.add_alternative(more, {Grammar::ref(ws()), Grammar::literal_byte('}')});
    g_.add_alternative(more, {Grammar::ref(ws()), Grammar::literal_byte(','), Grammar::ref(ws()), Grammar::ref(kv),
                              Grammar::ref(more)});
    g_.add_alternative(any_object_, {Grammar::literal_byte('{'), Grammar::ref(ws()), Grammar::literal_byte('}')});
    g_.add_alternative(any_object_, {Grammar::literal_byte('{'), Grammar::ref(ws()), Grammar::ref(kv), Grammar::ref(more)});
    return any_object_;
  }

  // Optional whitespace: nothing, one space, or a newline and up to 16 spaces.
  int ws() {
    if (ws_ >= 0) return ws_;
    ws_ = g_.add_rule("ws");
    g_.add_alternative(ws_, {});
    g_.add_alternative(ws_, {Grammar::literal_byte(' ')});
    int indent = g_.add_rule("indent0");
    g_.add_alternative(indent, {});
    for (int k = 1; k <= 16; ++k) {
      const int r = g_.add_rule("indent" + std::to_string(k));
      g_.add_alternative(r, {});
      g_.add_alternative(r, {Grammar::literal_byte(' '), Grammar::ref(indent)});
      indent = r;
    }
    g_.add_alternative(ws_, {Grammar::literal_byte('\n'), Grammar::ref(indent)});
    return ws_;
  }

  Grammar& g_;
  int ws_ = -1, string_char_ = -1, number_ = -1, integer_ = -1, any_value_ = -1, any_object_ = -1;
};

}  // namespace

Result<Grammar> grammar_from_json_schema(const json& schema) {
  Grammar g;
  Compiler c(g);
  AIGC_RETURN_IF_ERROR(c.compile_root(schema));
  return g;
}

}  // namespace aigc
