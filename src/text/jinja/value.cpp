// Value: Python-compatible printing, comparison and JSON for Jinja values.
#include "text/jinja/value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace aigc::jinja {

const Value* ValueDict::find(std::string_view key) const {
  for (const auto& [k, v] : items) {
    if (k == key) return &v;
  }
  return nullptr;
}

void ValueDict::set(const std::string& key, Value value) {
  for (auto& [k, v] : items) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  items.emplace_back(key, std::move(value));
}

Value Value::list(ValueList items, bool is_tuple) {
  Value v(Kind::kList);
  int d = 0;
  for (const Value& item : items) d = std::max(d, item.depth_);
  v.depth_ = d + 1;
  v.is_tuple_ = is_tuple;
  v.list_ = std::make_shared<const ValueList>(std::move(items));
  return v;
}

Value Value::iterator(ValueList items) {
  Value v = list(std::move(items));
  v.is_iterator_ = true;
  return v;
}

Value Value::dict(ValueDict dict) {
  Value v(Kind::kDict);
  int d = 0;
  for (const auto& item : dict.items) d = std::max(d, item.second.depth_);
  v.depth_ = d + 1;
  v.dict_ = std::make_shared<ValueDict>(std::move(dict));
  return v;
}

Value Value::name_space(ValueDict dict) {
  Value v = Value::dict(std::move(dict));
  v.kind_ = Kind::kNamespace;
  return v;
}

Value Value::function(std::string name, Function fn) {
  Value v(Kind::kFunction);
  v.str_ = std::move(name);
  v.fn_ = std::make_shared<const Function>(std::move(fn));
  return v;
}

bool Value::truthy() const {
  switch (kind_) {
    case Kind::kUndefined:
    case Kind::kNone: return false;
    case Kind::kBool:
    case Kind::kInt: return int_ != 0;
    case Kind::kFloat: return float_ != 0.0;
    case Kind::kString: return !str_.empty();
    case Kind::kList: return !list_->empty();
    case Kind::kDict: return !dict_->items.empty();
    case Kind::kNamespace:
    case Kind::kFunction: return true;
  }
  return false;
}

const char* Value::type_name() const {
  switch (kind_) {
    case Kind::kUndefined: return "Undefined";
    case Kind::kNone: return "NoneType";
    case Kind::kBool: return "bool";
    case Kind::kInt: return "int";
    case Kind::kFloat: return "float";
    case Kind::kString: return "str";
    case Kind::kList: return is_iterator_ ? "generator" : is_tuple_ ? "tuple" : "list";
    case Kind::kDict: return "dict";
    case Kind::kNamespace: return "Namespace";
    case Kind::kFunction: return "function";
  }
  return "?";
}

std::string float_repr(double f) {
  if (std::isnan(f)) return "nan";
  if (std::isinf(f)) return f < 0 ? "-inf" : "inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), f, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  bool negative = !sci.empty() && sci[0] == '-';
  if (negative) sci.erase(0, 1);
  size_t e = sci.find('e');
  std::string digits;
  for (size_t i = 0; i < e; ++i) {
    if (sci[i] != '.') digits += sci[i];
  }
  int exp10 = std::atoi(sci.c_str() + e + 1);
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  int decpt = exp10 + 1;
  int n = static_cast<int>(digits.size());
  std::string out = negative ? "-" : "";
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) {
      out += "0.";
      out.append(static_cast<size_t>(-decpt), '0');
      out += digits;
    } else if (decpt >= n) {
      out += digits;
      out.append(static_cast<size_t>(decpt - n), '0');
      out += ".0";
    } else {
      out.append(digits, 0, static_cast<size_t>(decpt));
      out += '.';
      out.append(digits, static_cast<size_t>(decpt));
    }
  } else {
    out += digits[0];
    if (n > 1) {
      out += '.';
      out.append(digits, 1);
    }
    int x = decpt - 1;
    char eb[16];
    std::snprintf(eb, sizeof(eb), "e%c%02d", x < 0 ? '-' : '+', x < 0 ? -x : x);
    out += eb;
  }
  return out;
}

namespace {

std::string repr_string(const std::string& s) {
  char quote = '\'';
  if (s.find('\'') != std::string::npos && s.find('"') == std::string::npos) quote = '"';
  std::string out(1, quote);
  for (unsigned char c : s) {
    if (c == quote || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char b[8];
      std::snprintf(b, sizeof(b), "\\x%02x", c);
      out += b;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += quote;
  return out;
}

void append_repr(const Value& v, std::string& out);

void append_str(const Value& v, std::string& out) {
  switch (v.kind()) {
    case Value::Kind::kUndefined: return;
    case Value::Kind::kNone: out += "None"; return;
    case Value::Kind::kBool: out += v.as_bool() ? "True" : "False"; return;
    case Value::Kind::kInt: out += std::to_string(v.as_int()); return;
    case Value::Kind::kFloat: out += float_repr(v.as_float()); return;
    case Value::Kind::kString: out += v.as_string(); return;
    default: append_repr(v, out); return;
  }
}

void append_repr(const Value& v, std::string& out) {
  switch (v.kind()) {
    case Value::Kind::kString: out += repr_string(v.as_string()); return;
    case Value::Kind::kUndefined: return;
    case Value::Kind::kList: {
      if (v.is_iterator()) {
        out += "<generator object>";
        return;
      }
      const ValueList& items = v.as_list();
      out += v.is_tuple() ? '(' : '[';
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += ", ";
        append_repr(items[i], out);
      }
      if (v.is_tuple() && items.size() == 1) out += ',';
      out += v.is_tuple() ? ')' : ']';
      return;
    }
    case Value::Kind::kDict:
    case Value::Kind::kNamespace: {
      out += v.is_namespace() ? "<Namespace {" : "{";
      bool first = true;
      for (const auto& [k, item] : v.as_dict().items) {
        if (!first) out += ", ";
        first = false;
        out += repr_string(k);
        out += ": ";
        append_repr(item, out);
      }
      out += v.is_namespace() ? "}>" : "}";
      return;
    }
    case Value::Kind::kFunction: out += "<function " + v.function_name() + ">"; return;
    default: append_str(v, out); return;
  }
}

void append_json_string(const std::string& s, bool ensure_ascii, std::string& out) {
  out += '"';
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (ensure_ascii && c >= 0x80) {
      size_t n = (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
      uint32_t cp = n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : n == 4 ? (c & 0x07) : c;
      if (i + n > s.size()) n = 1, cp = c;
      for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
      i += n - 1;
      char b[16];
      if (cp >= 0x10000) {
        uint32_t v = cp - 0x10000;
        std::snprintf(b, sizeof(b), "\\u%04x\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
      } else {
        std::snprintf(b, sizeof(b), "\\u%04x", cp);
      }
      out += b;
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          char b[8];
          std::snprintf(b, sizeof(b), "\\u%04x", c);
          out += b;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

Status append_json(const Value& v, const JsonFormat& f, int level, std::string& out) {
  const int indent = f.indent;
  const std::string item_sep = !f.item_separator.empty() ? f.item_separator : indent >= 0 ? "," : ", ";
  auto newline = [&](int lvl) {
    out += '\n';
    out.append(static_cast<size_t>(indent) * static_cast<size_t>(lvl), ' ');
  };
  switch (v.kind()) {
    case Value::Kind::kNone: out += "null"; return Status();
    case Value::Kind::kBool: out += v.as_bool() ? "true" : "false"; return Status();
    case Value::Kind::kInt: out += std::to_string(v.as_int()); return Status();
    case Value::Kind::kFloat: {
      double f = v.as_float();
      if (std::isnan(f)) out += "NaN";
      else if (std::isinf(f)) out += f < 0 ? "-Infinity" : "Infinity";
      else out += float_repr(f);
      return Status();
    }
    case Value::Kind::kString: append_json_string(v.as_string(), f.ensure_ascii, out); return Status();
    case Value::Kind::kList: {
      if (v.is_iterator()) {
        return Status::invalid_argument("tojson: object of type generator is not JSON serializable");
      }
      const ValueList& items = v.as_list();
      if (items.empty()) {
        out += "[]";
        return Status();
      }
      out += '[';
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += item_sep;
        if (indent >= 0) newline(level + 1);
        AIGC_RETURN_IF_ERROR(append_json(items[i], f, level + 1, out));
      }
      if (indent >= 0) newline(level);
      out += ']';
      return Status();
    }
    case Value::Kind::kDict: {
      std::vector<const std::pair<std::string, Value>*> items;
      for (const auto& item : v.as_dict().items) items.push_back(&item);
      if (items.empty()) {
        out += "{}";
        return Status();
      }
      if (f.sort_keys) {
        std::stable_sort(items.begin(), items.end(), [](auto* a, auto* b) { return a->first < b->first; });
      }
      out += '{';
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += item_sep;
        if (indent >= 0) newline(level + 1);
        append_json_string(items[i]->first, f.ensure_ascii, out);
        out += f.key_separator;
        AIGC_RETURN_IF_ERROR(append_json(items[i]->second, f, level + 1, out));
      }
      if (indent >= 0) newline(level);
      out += '}';
      return Status();
    }
    default:
      return Status::invalid_argument(std::string("tojson: object of type ") + v.type_name() +
                                      " is not JSON serializable");
  }
}

bool equals_at(const Value& a, const Value& b, int depth) {
  if (depth > kMaxValueDepth) return false;
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.as_float() == b.as_float();
    return a.as_int() == b.as_int();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Value::Kind::kUndefined:
    case Value::Kind::kNone: return true;
    case Value::Kind::kString: return a.as_string() == b.as_string();
    case Value::Kind::kList: {
      if (a.is_iterator() || b.is_iterator()) return &a.as_list() == &b.as_list();
      if (a.is_tuple() != b.is_tuple()) return false;
      const ValueList& x = a.as_list();
      const ValueList& y = b.as_list();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!equals_at(x[i], y[i], depth + 1)) return false;
      }
      return true;
    }
    case Value::Kind::kDict: {
      const ValueDict& x = a.as_dict();
      const ValueDict& y = b.as_dict();
      if (x.items.size() != y.items.size()) return false;
      for (const auto& [k, item] : x.items) {
        const Value* other = y.find(k);
        if (other == nullptr || !equals_at(item, *other, depth + 1)) return false;
      }
      return true;
    }
    case Value::Kind::kNamespace: return &a.namespace_dict() == &b.namespace_dict();
    case Value::Kind::kFunction: return &a.as_function() == &b.as_function();
    default: return false;
  }
}

Result<bool> less_at(const Value& a, const Value& b, int depth) {
  if (depth > kMaxValueDepth) return Status::out_of_range("comparison: values nest too deeply");
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.as_float() < b.as_float();
    return a.as_int() < b.as_int();
  }
  if (a.is_string() && b.is_string()) return a.as_string() < b.as_string();
  if (a.is_sequence_list() && b.is_sequence_list() && a.is_tuple() == b.is_tuple()) {
    const ValueList& x = a.as_list();
    const ValueList& y = b.as_list();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (equals_at(x[i], y[i], depth + 1)) continue;
      return less_at(x[i], y[i], depth + 1);
    }
    return x.size() < y.size();
  }
  return Status::invalid_argument(std::string("'<' not supported between instances of '") + a.type_name() +
                                  "' and '" + b.type_name() + "'");
}

}  // namespace

std::string to_str(const Value& v) {
  std::string out;
  append_str(v, out);
  return out;
}

std::string repr(const Value& v) {
  std::string out;
  append_repr(v, out);
  return out;
}

bool equals(const Value& a, const Value& b) { return equals_at(a, b, 0); }

Result<bool> less_than(const Value& a, const Value& b) { return less_at(a, b, 0); }

Result<std::string> to_json(const Value& v, const JsonFormat& format) {
  std::string out;
  AIGC_RETURN_IF_ERROR(append_json(v, format, 0, out));
  return out;
}

namespace {

Result<Value> from_json_at(const nlohmann::ordered_json& j, int depth) {
  if (depth > kMaxValueDepth) return Status::out_of_range("context: JSON nests deeper than " + std::to_string(kMaxValueDepth));
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::null: return Value::none();
    case nlohmann::ordered_json::value_t::boolean: return Value::boolean(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer: return Value::integer(j.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
      uint64_t u = j.get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) return Value::floating(static_cast<double>(u));
      return Value::integer(static_cast<int64_t>(u));
    }
    case nlohmann::ordered_json::value_t::number_float: return Value::floating(j.get<double>());
    case nlohmann::ordered_json::value_t::string: return Value::string(j.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      ValueList items;
      items.reserve(j.size());
      for (const auto& item : j) {
        AIGC_ASSIGN_OR_RETURN(Value v, from_json_at(item, depth + 1));
        items.push_back(std::move(v));
      }
      return Value::list(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
      ValueDict dict;
      for (const auto& [k, item] : j.items()) {
        AIGC_ASSIGN_OR_RETURN(Value v, from_json_at(item, depth + 1));
        dict.items.emplace_back(k, std::move(v));  // JSON keys are already unique
      }
      return Value::dict(std::move(dict));
    }
    default: return Status::invalid_argument("context: JSON value of unsupported type (binary)");
  }
}

}  // namespace

Result<Value> from_json(const nlohmann::ordered_json& j) { return from_json_at(j, 0); }

}  // namespace aigc::jinja
