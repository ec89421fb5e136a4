// Builtins: jinja2's filters and tests, the globals HF chat templates get,
// and the Python methods of str, dict and list that the sandbox allows.
#include "text/jinja/builtins.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "text/jinja/interpreter.h"
#include "text/jinja/py_string.h"

namespace aigc::jinja {
namespace {

// Sandboxed range() refuses more items than this, as jinja2's sandbox does.
constexpr int64_t kMaxRange = 100000;

// Argument `pos` (positional index) or keyword `name`; null when absent.
const Value* arg(const CallArgs& args, size_t pos, const char* name) {
  if (pos < args.positional.size()) return &args.positional[pos];
  for (const auto& [k, v] : args.keyword) {
    if (k == name) return &v;
  }
  return nullptr;
}

bool arg_bool(const CallArgs& args, size_t pos, const char* name, bool fallback) {
  const Value* v = arg(args, pos, name);
  return v ? v->truthy() : fallback;
}

Result<std::string> arg_string(const CallArgs& args, size_t pos, const char* name, const char* fn) {
  const Value* v = arg(args, pos, name);
  if (v == nullptr || !v->is_string()) {
    return Status::invalid_argument(std::string(fn) + ": argument '" + name + "' must be a string");
  }
  return v->as_string();
}

Status bad_input(std::string_view fn, const Value& v) {
  return Status::invalid_argument(std::string(fn) + ": unsupported input of type '" + v.type_name() + "'");
}

// jinja2's make_attrgetter: "a.b.0" looked up item by item.
Value lookup_path(const Value& obj, const std::string& path) {
  Value cur = obj;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    bool numeric = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    Value key = numeric && part.size() < 18 ? Value::integer(std::atoll(part.c_str())) : Value::string(part);
    if (cur.is_undefined()) return cur;
    cur = get_item(cur, key);
    if (dot == std::string::npos) return cur;
    start = dot + 1;
  }
}

// Python's int(str), with surrounding whitespace and underscores allowed.
bool parse_int(const std::string& text, int64_t& out) {
  std::string s = py_strip(text, nullptr, true, true);
  if (s.empty()) return false;
  std::string digits;
  size_t i = 0;
  if (s[0] == '+' || s[0] == '-') digits += s[i++];
  if (i >= s.size()) return false;
  for (; i < s.size(); ++i) {
    if (s[i] >= '0' && s[i] <= '9') digits += s[i];
    else if (s[i] != '_' || i + 1 >= s.size() || digits.empty()) return false;
  }
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(digits.c_str(), &end, 10);
  if (errno == ERANGE || *end != '\0') return false;
  out = v;
  return true;
}

bool parse_float(const std::string& text, double& out) {
  std::string s = py_strip(text, nullptr, true, true);
  if (s.empty()) return false;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end != nullptr && *end == '\0';
}

// Sort key for sort/unique: lower-cased strings unless case sensitive.
Value fold_case(const Value& v, bool case_sensitive) {
  if (!case_sensitive && v.is_string()) return Value::string(ascii_lower(v.as_string()));
  return v;
}

Result<std::string> do_indent(const std::string& input, const CallArgs& args) {
  std::string indention;
  const Value* width = arg(args, 0, "width");
  if (width == nullptr) {
    indention = "    ";
  } else if (width->is_string()) {
    indention = width->as_string();
  } else if (width->is_int() || width->is_bool()) {
    if (width->as_int() > 4096) return Status::out_of_range("indent: width " + std::to_string(width->as_int()) + " too large");
    indention = std::string(static_cast<size_t>(std::max<int64_t>(0, width->as_int())), ' ');
  } else {
    return Status::invalid_argument("indent: width must be an int or a string");
  }
  bool first = arg_bool(args, 1, "first", false);
  bool blank = arg_bool(args, 2, "blank", false);
  std::vector<std::string> lines = py_splitlines(input + "\n");
  std::string rv;
  if (blank) {
    for (size_t i = 0; i < lines.size(); ++i) {
      if (i) rv += "\n" + indention;
      rv += lines[i];
    }
  } else {
    rv = lines.empty() ? "" : lines[0];
    for (size_t i = 1; i < lines.size(); ++i) {
      rv += "\n";
      if (!lines[i].empty()) rv += indention;
      rv += lines[i];
    }
  }
  if (first) rv = indention + rv;
  return rv;
}

Result<Value> do_tojson(const Value& input, const CallArgs& args) {
  JsonFormat f;
  if (const Value* v = arg(args, 0, "ensure_ascii")) f.ensure_ascii = v->truthy();
  if (const Value* v = arg(args, 1, "indent")) {
    if (v->is_int()) {
      if (v->as_int() > 64) return Status::out_of_range("tojson: indent " + std::to_string(v->as_int()) + " too large");
      f.indent = static_cast<int>(std::max<int64_t>(0, v->as_int()));
    } else if (!v->is_none()) {
      return Status::unsupported(std::string("tojson: indent of type ") + v->type_name());
    }
  }
  if (const Value* v = arg(args, 2, "separators")) {
    if (v->is_list() && v->as_list().size() == 2 && v->as_list()[0].is_string() && v->as_list()[1].is_string()) {
      f.item_separator = v->as_list()[0].as_string();
      f.key_separator = v->as_list()[1].as_string();
      if (f.item_separator.empty()) return Status::unsupported("tojson: empty item separator");
    } else if (!v->is_none()) {
      return Status::invalid_argument("tojson: separators must be a pair of strings");
    }
  }
  f.sort_keys = arg_bool(args, 3, "sort_keys", false);
  AIGC_ASSIGN_OR_RETURN(std::string s, to_json(input, f));
  return Value::string(std::move(s));
}

Result<Value> do_select(Interpreter& in, const Value& input, const CallArgs& args, bool by_attr, bool reject) {
  // jinja2 skips a falsy input (none, empty) without iterating it.
  if (!input.truthy()) return Value::iterator({});
  AIGC_ASSIGN_OR_RETURN(ValueList items, iterate(input));
  size_t first_test_arg = 0;
  std::string attr;
  if (by_attr) {
    AIGC_ASSIGN_OR_RETURN(attr, arg_string(args, 0, "attribute", reject ? "rejectattr" : "selectattr"));
    first_test_arg = 1;
  }
  std::string test;
  CallArgs test_args;
  if (args.positional.size() > first_test_arg) {
    if (!args.positional[first_test_arg].is_string()) return Status::invalid_argument("select: test name must be a string");
    test = args.positional[first_test_arg].as_string();
    test_args.positional.assign(args.positional.begin() + static_cast<std::ptrdiff_t>(first_test_arg) + 1,
                                args.positional.end());
  }
  ValueList out;
  for (const Value& item : items) {
    AIGC_RETURN_IF_ERROR(in.step());
    Value v = by_attr ? lookup_path(item, attr) : item;
    bool keep;
    if (test.empty()) {
      keep = v.truthy();
    } else {
      AIGC_ASSIGN_OR_RETURN(keep, apply_test(in, test, v, test_args));
    }
    if (keep != reject) out.push_back(item);
  }
  return Value::iterator(std::move(out));
}

Result<Value> do_map(Interpreter& in, const Value& input, const CallArgs& args) {
  if (!input.truthy()) return Value::iterator({});
  AIGC_ASSIGN_OR_RETURN(ValueList items, iterate(input));
  ValueList out;
  if (const Value* attr = arg(args, 99, "attribute")) {
    if (!attr->is_string()) return Status::invalid_argument("map: attribute must be a string");
    const Value* fallback = arg(args, 99, "default");
    for (const Value& item : items) {
      AIGC_RETURN_IF_ERROR(in.step());
      Value v = lookup_path(item, attr->as_string());
      if (v.is_undefined() && fallback) v = *fallback;
      out.push_back(std::move(v));
    }
    return Value::iterator(std::move(out));
  }
  if (args.positional.empty() || !args.positional[0].is_string()) {
    return Status::invalid_argument("map: needs a filter name or attribute=");
  }
  CallArgs filter_args;
  filter_args.positional.assign(args.positional.begin() + 1, args.positional.end());
  filter_args.keyword = args.keyword;
  for (const Value& item : items) {
    AIGC_RETURN_IF_ERROR(in.step());
    AIGC_ASSIGN_OR_RETURN(Value v, apply_filter(in, args.positional[0].as_string(), item, filter_args));
    out.push_back(std::move(v));
  }
  return Value::iterator(std::move(out));
}

Result<Value> do_sort(Interpreter& in, const Value& input, const CallArgs& args) {
  AIGC_ASSIGN_OR_RETURN(ValueList items, iterate(input));
  bool reverse = arg_bool(args, 0, "reverse", false);
  bool case_sensitive = arg_bool(args, 1, "case_sensitive", false);
  const Value* attr = arg(args, 2, "attribute");
  std::vector<std::pair<Value, Value>> keyed;
  for (const Value& item : items) {
    Value key = attr && attr->is_string() ? lookup_path(item, attr->as_string()) : item;
    keyed.emplace_back(fold_case(key, case_sensitive), item);
  }
  Status error;
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
    if (!error.ok()) return false;
    Result<bool> lt = reverse ? less_than(b.first, a.first) : less_than(a.first, b.first);
    if (!lt.ok()) {
      error = lt.status();
      return false;
    }
    return *lt;
  });
  AIGC_RETURN_IF_ERROR(error);
  AIGC_RETURN_IF_ERROR(in.charge_bytes(keyed.size() * 16));
  ValueList out;
  for (auto& kv : keyed) out.push_back(std::move(kv.second));
  return Value::list(std::move(out));
}

Result<Value> do_round(const Value& input, const CallArgs& args) {
  if (!input.is_number()) return bad_input("round", input);
  int64_t precision = 0;
  if (const Value* p = arg(args, 0, "precision")) precision = p->as_int();
  std::string method = "common";
  if (const Value* m = arg(args, 1, "method"); m && m->is_string()) method = m->as_string();
  double scale = std::pow(10.0, static_cast<double>(precision));
  double x = input.as_float();
  if (method == "common") {
    if (input.is_int() || input.is_bool()) return Value::integer(input.as_int());
    return Value::floating(std::nearbyint(x * scale) / scale);
  }
  if (method == "ceil") return Value::floating(std::ceil(x * scale) / scale);
  if (method == "floor") return Value::floating(std::floor(x * scale) / scale);
  return Status::invalid_argument("round: method must be 'common', 'ceil' or 'floor', got '" + method + "'");
}

Result<Value> min_max(Interpreter& in, const Value& input, const CallArgs& args, bool want_max) {
  AIGC_ASSIGN_OR_RETURN(ValueList items, iterate(input));
  if (items.empty()) return Value::undefined(want_max ? "max" : "min");
  bool case_sensitive = arg_bool(args, 0, "case_sensitive", false);
  const Value* attr = arg(args, 1, "attribute");
  size_t best = 0;
  auto key = [&](size_t i) {
    return fold_case(attr && attr->is_string() ? lookup_path(items[i], attr->as_string()) : items[i], case_sensitive);
  };
  for (size_t i = 1; i < items.size(); ++i) {
    AIGC_RETURN_IF_ERROR(in.step());
    AIGC_ASSIGN_OR_RETURN(bool lt, want_max ? less_than(key(best), key(i)) : less_than(key(i), key(best)));
    if (lt) best = i;
  }
  return items[best];
}

Result<Value> string_method(Interpreter& in, const std::string& s, const std::string& name, const CallArgs& args);
Result<Value> dict_method(const Value& d, const std::string& name, const CallArgs& args);

bool is_string_method(const std::string& n) {
  static const char* const kNames[] = {"strip", "lstrip", "rstrip", "split", "rsplit", "splitlines", "startswith",
                                       "endswith", "upper", "lower", "title", "capitalize", "replace", "find",
                                       "rfind", "count", "join", "isdigit", "isalpha", "isalnum", "isspace",
                                       "islower", "isupper", "format"};
  return std::find(std::begin(kNames), std::end(kNames), n) != std::end(kNames);
}

Result<Value> string_method(Interpreter& in, const std::string& s, const std::string& name, const CallArgs& args) {
  const Value* a0 = arg(args, 0, "");
  auto opt_chars = [&]() -> const std::string* { return a0 && a0->is_string() ? &a0->as_string() : nullptr; };
  if (name == "strip") return Value::string(py_strip(s, opt_chars(), true, true));
  if (name == "lstrip") return Value::string(py_strip(s, opt_chars(), true, false));
  if (name == "rstrip") return Value::string(py_strip(s, opt_chars(), false, true));
  if (name == "split" || name == "rsplit") {
    const Value* sep = arg(args, 0, "sep");
    const Value* maxsplit = arg(args, 1, "maxsplit");
    int64_t m = maxsplit ? maxsplit->as_int() : -1;
    if (sep && sep->is_string() && sep->as_string().empty()) return Status::invalid_argument("split: empty separator");
    if (name == "rsplit" && m >= 0) return Status::unsupported("str.rsplit with maxsplit");
    ValueList out;
    for (auto& part : py_split(s, sep && sep->is_string() ? &sep->as_string() : nullptr, m)) {
      out.push_back(Value::string(std::move(part)));
    }
    return Value::list(std::move(out));
  }
  if (name == "splitlines") {
    ValueList out;
    for (auto& part : py_splitlines(s)) out.push_back(Value::string(std::move(part)));
    return Value::list(std::move(out));
  }
  if (name == "startswith" || name == "endswith") {
    if (a0 == nullptr) return Status::invalid_argument("str." + name + ": needs an argument");
    ValueList options = a0->is_list() ? a0->as_list() : ValueList{*a0};
    for (const Value& o : options) {
      if (!o.is_string()) return Status::invalid_argument("str." + name + ": argument must be str or tuple of str");
      const std::string& p = o.as_string();
      bool hit = p.size() <= s.size() &&
                 (name == "startswith" ? s.compare(0, p.size(), p) == 0 : s.compare(s.size() - p.size(), p.size(), p) == 0);
      if (hit) return Value::boolean(true);
    }
    return Value::boolean(false);
  }
  if (name == "upper") return Value::string(ascii_upper(s));
  if (name == "lower") return Value::string(ascii_lower(s));
  if (name == "title") return Value::string(py_title(s));
  if (name == "capitalize") return Value::string(py_capitalize(s));
  if (name == "replace") {
    AIGC_ASSIGN_OR_RETURN(std::string old_text, arg_string(args, 0, "old", "str.replace"));
    AIGC_ASSIGN_OR_RETURN(std::string new_text, arg_string(args, 1, "new", "str.replace"));
    const Value* count_arg = arg(args, 2, "count");
    int64_t count = count_arg ? count_arg->as_int() : -1;
    // Size the result before building it.
    int64_t hits = 0;
    if (old_text.empty()) {
      hits = static_cast<int64_t>(code_point_count(s)) + 1;
    } else {
      for (size_t p = s.find(old_text); p != std::string::npos && (count < 0 || hits < count); p = s.find(old_text, p + old_text.size())) ++hits;
    }
    if (count >= 0) hits = std::min(hits, count);
    double size = static_cast<double>(s.size()) + static_cast<double>(hits) * (static_cast<double>(new_text.size()) - static_cast<double>(old_text.size()));
    if (size > static_cast<double>(in.limits().max_output_bytes)) return Status::out_of_range("str.replace: result too long");
    return Value::string(py_replace(s, old_text, new_text, count));
  }
  if (name == "find" || name == "rfind" || name == "count") {
    AIGC_ASSIGN_OR_RETURN(std::string sub, arg_string(args, 0, "sub", ("str." + name).c_str()));
    if (name == "count") {
      if (sub.empty()) return Value::integer(static_cast<int64_t>(code_point_count(s) + 1));
      int64_t n = 0;
      for (size_t p = s.find(sub); p != std::string::npos; p = s.find(sub, p + sub.size())) ++n;
      return Value::integer(n);
    }
    size_t p = name == "find" ? s.find(sub) : s.rfind(sub);
    if (p == std::string::npos) return Value::integer(-1);
    return Value::integer(static_cast<int64_t>(code_point_count(std::string_view(s).substr(0, p))));
  }
  if (name == "join") {
    if (a0 == nullptr) return Status::invalid_argument("str.join: needs an iterable");
    AIGC_ASSIGN_OR_RETURN(ValueList items, iterate(*a0));
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
      if (!items[i].is_string()) return Status::invalid_argument("str.join: sequence item is not a str");
      if (i) out += s;
      out += items[i].as_string();
      if (out.size() > in.limits().max_output_bytes) return Status::out_of_range("str.join: result too long");
    }
    return Value::string(std::move(out));
  }
  if (name == "format") return Status::unsupported("str.format");
  // Character class predicates (ASCII semantics).
  bool any = false, all = !s.empty();
  bool has_lower = false, has_upper = false;
  for (unsigned char c : s) {
    bool digit = c >= '0' && c <= '9', lower = c >= 'a' && c <= 'z', upper = c >= 'A' && c <= 'Z';
    has_lower |= lower;
    has_upper |= upper;
    bool ok = name == "isdigit" ? digit
              : name == "isalpha" ? (lower || upper)
              : name == "isalnum" ? (lower || upper || digit)
              : name == "isspace" ? is_py_space(c)
                                  : true;
    all = all && ok;
    any = any || ok;
  }
  if (name == "islower") return Value::boolean(has_lower && !has_upper);
  if (name == "isupper") return Value::boolean(has_upper && !has_lower);
  return Value::boolean(all && any);
}

Result<Value> dict_method(const Value& d, const std::string& name, const CallArgs& args) {
  const ValueDict& dict = d.as_dict();
  if (name == "items") {
    ValueList out;
    for (const auto& [k, v] : dict.items) out.push_back(Value::list({Value::string(k), v}, true));
    return Value::iterator(std::move(out));
  }
  if (name == "keys") {
    ValueList out;
    for (const auto& item : dict.items) out.push_back(Value::string(item.first));
    return Value::iterator(std::move(out));
  }
  if (name == "values") {
    ValueList out;
    for (const auto& item : dict.items) out.push_back(item.second);
    return Value::iterator(std::move(out));
  }
  // get
  const Value* key = arg(args, 0, "key");
  const Value* fallback = arg(args, 1, "default");
  if (key == nullptr) return Status::invalid_argument("dict.get: needs a key");
  if (key->is_string()) {
    if (const Value* v = dict.find(key->as_string())) return *v;
  }
  return fallback ? *fallback : Value::none();
}

constexpr const char* kFilterNames[] = {
    "abs", "attr", "capitalize", "center", "count", "d", "default", "dictsort", "e", "escape", "first", "float",
    "forceescape", "indent", "int", "items", "join", "last", "length", "list", "lower", "map", "max", "min",
    "reject", "rejectattr", "replace", "reverse", "round", "safe", "select", "selectattr", "sort", "string", "sum",
    "title", "tojson", "trim", "unique", "upper", "wordcount"};
constexpr const char* kTestNames[] = {
    "!=", "<", "<=", "==", ">", ">=", "boolean", "callable", "defined", "divisibleby", "eq", "equalto", "escaped",
    "even", "false", "float", "ge", "greaterthan", "gt", "in", "integer", "iterable", "le", "lessthan", "lower", "lt",
    "mapping", "ne", "none", "number", "odd", "sameas", "sequence", "string", "true", "undefined", "upper"};

}  // namespace

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

bool is_filter_name(std::string_view name) {
  return std::find(std::begin(kFilterNames), std::end(kFilterNames), name) != std::end(kFilterNames);
}

bool is_test_name(std::string_view name) {
  return std::find(std::begin(kTestNames), std::end(kTestNames), name) != std::end(kTestNames);
}

Value get_attr(const Value& obj, const std::string& name) {
  if (obj.is_string() && is_string_method(name)) {
    std::string s = obj.as_string();
    return Value::function("str." + name, [s, name](Interpreter& in, const CallArgs& args) {
      return string_method(in, s, name, args);
    });
  }
  if (obj.is_dict()) {
    if (name == "items" || name == "keys" || name == "values" || name == "get") {
      return Value::function("dict." + name, [obj, name](Interpreter&, const CallArgs& args) {
        return dict_method(obj, name, args);
      });
    }
    if (const Value* v = obj.as_dict().find(name)) return *v;
  }
  if (obj.is_namespace()) {
    if (const Value* v = obj.as_dict().find(name)) return *v;
  }
  return Value::undefined(name);
}

Value get_item(const Value& obj, const Value& key) {
  if ((obj.is_sequence_list() || obj.is_string()) && (key.is_int() || key.is_bool())) {
    int64_t i = key.as_int();
    if (obj.is_list()) {
      int64_t n = static_cast<int64_t>(obj.as_list().size());
      if (i < 0) i += n;
      if (i < 0 || i >= n) return Value::undefined(std::to_string(key.as_int()));
      return obj.as_list()[static_cast<size_t>(i)];
    }
    std::vector<size_t> off = code_point_offsets(obj.as_string());
    int64_t n = static_cast<int64_t>(off.size()) - 1;
    if (i < 0) i += n;
    if (i < 0 || i >= n) return Value::undefined(std::to_string(key.as_int()));
    size_t b = off[static_cast<size_t>(i)];
    return Value::string(obj.as_string().substr(b, off[static_cast<size_t>(i) + 1] - b));
  }
  if (obj.is_dict() && key.is_string()) {
    if (const Value* v = obj.as_dict().find(key.as_string())) return *v;
  }
  if (key.is_string()) return get_attr(obj, key.as_string());
  return Value::undefined(to_str(key));
}

Result<Value> get_slice(const Value& obj, const Value* start, const Value* stop, const Value* step) {
  if (!obj.is_sequence_list() && !obj.is_string()) {
    return Status::invalid_argument(std::string("'") + obj.type_name() + "' object is not subscriptable");
  }
  auto as_index = [](const Value* v, bool& present) -> Result<int64_t> {
    present = v && !v->is_none();
    if (!present) return int64_t{0};
    if (!v->is_int() && !v->is_bool()) return Status::invalid_argument("slice indices must be integers or None");
    return v->as_int();
  };
  bool has_start, has_stop, has_step;
  AIGC_ASSIGN_OR_RETURN(int64_t b, as_index(start, has_start));
  AIGC_ASSIGN_OR_RETURN(int64_t e, as_index(stop, has_stop));
  AIGC_ASSIGN_OR_RETURN(int64_t st, as_index(step, has_step));
  if (!has_step) st = 1;
  if (st == 0) return Status::invalid_argument("slice step cannot be zero");
  std::vector<size_t> off;
  int64_t n;
  if (obj.is_list()) {
    n = static_cast<int64_t>(obj.as_list().size());
  } else {
    off = code_point_offsets(obj.as_string());
    n = static_cast<int64_t>(off.size()) - 1;
  }
  auto adjust = [&](int64_t v, bool present, int64_t dflt) {
    if (!present) return dflt;
    if (v < 0) {
      v += n;
      if (v < 0) v = st < 0 ? -1 : 0;
    } else if (v >= n) {
      v = st < 0 ? n - 1 : n;
    }
    return v;
  };
  b = adjust(b, has_start, st < 0 ? n - 1 : 0);
  e = adjust(e, has_stop, st < 0 ? -1 : n);
  std::vector<int64_t> idx;
  for (int64_t i = b; st > 0 ? i < e : i > e; i += st) idx.push_back(i);
  if (obj.is_list()) {
    ValueList out;
    for (int64_t i : idx) out.push_back(obj.as_list()[static_cast<size_t>(i)]);
    return Value::list(std::move(out), obj.is_tuple());
  }
  std::string out;
  for (int64_t i : idx) out += obj.as_string().substr(off[static_cast<size_t>(i)], off[static_cast<size_t>(i) + 1] - off[static_cast<size_t>(i)]);
  return Value::string(std::move(out));
}

Result<ValueList> iterate(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined: return ValueList{};
    case Value::Kind::kList: return v.as_list();
    case Value::Kind::kDict: {
      ValueList keys;
      for (const auto& item : v.as_dict().items) keys.push_back(Value::string(item.first));
      return keys;
    }
    case Value::Kind::kString: {
      std::vector<size_t> off = code_point_offsets(v.as_string());
      ValueList chars;
      for (size_t i = 0; i + 1 < off.size(); ++i) chars.push_back(Value::string(v.as_string().substr(off[i], off[i + 1] - off[i])));
      return chars;
    }
    default: return Status::invalid_argument(std::string("'") + v.type_name() + "' object is not iterable");
  }
}

Result<bool> contains(const Value& container, const Value& item) {
  switch (container.kind()) {
    case Value::Kind::kUndefined: return false;
    case Value::Kind::kString:
      if (!item.is_string()) {
        return Status::invalid_argument(std::string("'in <string>' requires string as left operand, not ") + item.type_name());
      }
      return container.as_string().find(item.as_string()) != std::string::npos;
    case Value::Kind::kList:
      for (const Value& v : container.as_list()) {
        if (equals(v, item)) return true;
      }
      return false;
    case Value::Kind::kDict: return item.is_string() && container.as_dict().find(item.as_string()) != nullptr;
    default:
      return Status::invalid_argument(std::string("argument of type '") + container.type_name() + "' is not iterable");
  }
}

Result<Value> apply_filter(Interpreter& in, std::string_view name, const Value& input, const CallArgs& args) {
  const std::string n(name);
  if (n == "default" || n == "d") {
    bool boolean = arg_bool(args, 1, "boolean", false);
    if (input.is_undefined() || (boolean && !input.truthy())) {
      const Value* v = arg(args, 0, "default_value");
      return v ? *v : Value::string("");
    }
    return input;
  }
  if (n == "safe") return input.is_markup() ? input : Value::markup(to_str(input));
  if (n == "string") return Value::string(to_str(input));
  if (n == "trim") {
    const Value* chars = arg(args, 0, "chars");
    return Value::string(py_strip(to_str(input), chars && chars->is_string() ? &chars->as_string() : nullptr, true, true));
  }
  if (n == "upper") return Value::string(ascii_upper(to_str(input)));
  if (n == "lower") return Value::string(ascii_lower(to_str(input)));
  if (n == "capitalize") return Value::string(py_capitalize(to_str(input)));
  if (n == "title") {
    // jinja2's do_title: capitalise each word split at whitespace and -([{<.
    std::string s = to_str(input), out;
    bool word_start = true;
    for (char c : s) {
      bool delim = c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || c == ' ' || c == '\t' || c == '\n' ||
                   c == '\r' || c == '\f' || c == '\v';
      if (delim) {
        out += c;
        word_start = true;
      } else if (word_start) {
        out += ascii_upper(std::string(1, c));
        word_start = false;
      } else {
        out += ascii_lower(std::string(1, c));
      }
    }
    return Value::string(std::move(out));
  }
  if (n == "escape" || n == "e") return input.is_markup() ? input : Value::markup(html_escape(to_str(input)));
  if (n == "forceescape") return Value::markup(html_escape(to_str(input)));
  if (n == "length" || n == "count") {
    switch (input.kind()) {
      case Value::Kind::kUndefined: return Value::integer(0);
      case Value::Kind::kString: return Value::integer(static_cast<int64_t>(code_point_count(input.as_string())));
      case Value::Kind::kList:
        if (input.is_iterator()) return Status::invalid_argument("object of type 'generator' has no len()");
        return Value::integer(static_cast<int64_t>(input.as_list().size()));
      case Value::Kind::kDict: return Value::integer(static_cast<int64_t>(input.as_dict().items.size()));
      default: return Status::invalid_argument(std::string("object of type '") + input.type_name() + "' has no len()");
    }
  }
  if (n == "first" || n == "last") {
    AIGC_ASSIGN_OR_RETURN(ValueList items, iterate(input));
    if (n == "last" && input.is_iterator()) return Status::invalid_argument("last: a generator cannot be reversed");
    if (items.empty()) return Value::undefined(n);
    return n == "first" ? items.front() : items.back();
  }
  if (n == "list") {
    AIGC_ASSIGN_OR_RETURN(ValueList items, iterate(input));
    return Value::list(std::move(items));
  }
  if (n == "reverse") {
    if (input.is_string()) {
      std::vector<size_t> off = code_point_offsets(input.as_string());
      std::string out;
      for (size_t i = off.size() - 1; i > 0; --i) out += input.as_string().substr(off[i - 1], off[i] - off[i - 1]);
      return Value::string(std::move(out));
    }
    if (input.is_iterator()) {
      AIGC_ASSIGN_OR_RETURN(ValueList items, iterate(input));
      std::reverse(items.begin(), items.end());
      return Value::list(std::move(items));
    }
    AIGC_ASSIGN_OR_RETURN(ValueList items, iterate(input));
    std::reverse(items.begin(), items.end());
    return Value::iterator(std::move(items));
  }
  if (n == "join") {
    AIGC_ASSIGN_OR_RETURN(ValueList items, iterate(input));
    std::string sep;
    if (const Value* d = arg(args, 0, "d")) sep = to_str(*d);
    const Value* attr = arg(args, 1, "attribute");
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
      AIGC_RETURN_IF_ERROR(in.step());
      if (i) out += sep;
      out += to_str(attr && attr->is_string() ? lookup_path(items[i], attr->as_string()) : items[i]);
      if (out.size() > in.limits().max_output_bytes) return Status::out_of_range("join: result too long");
    }
    return Value::string(std::move(out));
  }
  if (n == "tojson") return do_tojson(input, args);
  if (n == "items") {
    if (input.is_undefined()) return Value::iterator({});
    if (!input.is_dict()) return Status::invalid_argument("items: can only get item pairs from a mapping");
    return dict_method(input, "items", args);
  }
  if (n == "dictsort") {
    if (!input.is_dict()) return bad_input(n, input);
    AIGC_ASSIGN_OR_RETURN(Value pairs, dict_method(input, "items", args));
    bool case_sensitive = arg_bool(args, 0, "case_sensitive", false);
    bool by_value = false;
    if (const Value* by = arg(args, 1, "by"); by && by->is_string()) by_value = by->as_string() == "value";
    bool reverse = arg_bool(args, 2, "reverse", false);
    ValueList items = pairs.as_list();
    Status error;
    std::stable_sort(items.begin(), items.end(), [&](const Value& a, const Value& b) {
      const Value& x = fold_case(a.as_list()[by_value ? 1 : 0], case_sensitive);
      const Value& y = fold_case(b.as_list()[by_value ? 1 : 0], case_sensitive);
      Result<bool> lt = reverse ? less_than(y, x) : less_than(x, y);
      if (!lt.ok()) error = lt.status();
      return lt.ok() && *lt;
    });
    AIGC_RETURN_IF_ERROR(error);
    return Value::list(std::move(items));
  }
  if (n == "replace") {
    CallArgs a = args;
    return string_method(in, to_str(input), "replace", a);
  }
  if (n == "indent") {
    AIGC_ASSIGN_OR_RETURN(std::string s, do_indent(to_str(input), args));
    return Value::string(std::move(s));
  }
  if (n == "int") {
    const Value* d = arg(args, 0, "default");
    Value fallback = d ? *d : Value::integer(0);
    if (input.is_int() || input.is_bool()) return Value::integer(input.as_int());
    if (input.is_float()) {
      double f = input.as_float();
      if (!std::isfinite(f) || std::fabs(f) >= 9.2e18) return fallback;
      return Value::integer(static_cast<int64_t>(f));
    }
    if (input.is_string()) {
      int64_t i;
      if (parse_int(input.as_string(), i)) return Value::integer(i);
      double f;
      if (parse_float(input.as_string(), f) && std::isfinite(f) && std::fabs(f) < 9.2e18) {
        return Value::integer(static_cast<int64_t>(f));
      }
    }
    return fallback;
  }
  if (n == "float") {
    const Value* d = arg(args, 0, "default");
    if (input.is_number()) return Value::floating(input.as_float());
    double f;
    if (input.is_string() && parse_float(input.as_string(), f)) return Value::floating(f);
    return d ? *d : Value::floating(0.0);
  }
  if (n == "abs") {
    if (input.is_float()) return Value::floating(std::fabs(input.as_float()));
    if (input.is_number() && input.as_int() != INT64_MIN) return Value::integer(std::llabs(input.as_int()));
    return bad_input(n, input);
  }
  if (n == "round") return do_round(input, args);
  if (n == "select" || n == "reject") return do_select(in, input, args, false, n == "reject");
  if (n == "selectattr" || n == "rejectattr") return do_select(in, input, args, true, n == "rejectattr");
  if (n == "map") return do_map(in, input, args);
  if (n == "attr") {
    AIGC_ASSIGN_OR_RETURN(std::string a, arg_string(args, 0, "name", "attr"));
    return get_attr(input, a);
  }
  if (n == "sort") return do_sort(in, input, args);
  if (n == "unique") {
    AIGC_ASSIGN_OR_RETURN(ValueList items, iterate(input));
    bool case_sensitive = arg_bool(args, 0, "case_sensitive", false);
    const Value* attr = arg(args, 1, "attribute");
    ValueList out, seen;
    for (const Value& item : items) {
      AIGC_RETURN_IF_ERROR(in.step());
      Value key = fold_case(attr && attr->is_string() ? lookup_path(item, attr->as_string()) : item, case_sensitive);
      bool dup = false;
      for (const Value& s : seen) {
        AIGC_RETURN_IF_ERROR(in.step());
        if (equals(s, key)) {
          dup = true;
          break;
        }
      }
      if (!dup) {
        seen.push_back(key);
        out.push_back(item);
      }
    }
    return Value::iterator(std::move(out));
  }
  if (n == "min" || n == "max") return min_max(in, input, args, n == "max");
  if (n == "sum") {
    AIGC_ASSIGN_OR_RETURN(ValueList items, iterate(input));
    const Value* attr = arg(args, 0, "attribute");
    Value total = Value::integer(0);
    if (const Value* start = arg(args, 1, "start")) total = *start;
    for (const Value& item : items) {
      Value v = attr && attr->is_string() ? lookup_path(item, attr->as_string()) : item;
      if (!v.is_number() || !total.is_number()) return bad_input(n, v);
      if (v.is_float() || total.is_float()) {
        total = Value::floating(total.as_float() + v.as_float());
      } else {
        int64_t r;
        if (__builtin_add_overflow(total.as_int(), v.as_int(), &r)) return Status::out_of_range("sum: integer overflow");
        total = Value::integer(r);
      }
    }
    return total;
  }
  if (n == "wordcount") return Value::integer(static_cast<int64_t>(py_split(to_str(input), nullptr, -1).size()));
  if (n == "center") {
    std::string s = to_str(input);
    int64_t width = 80;
    if (const Value* w = arg(args, 0, "width")) width = std::min<int64_t>(w->as_int(), 4096);
    int64_t len = static_cast<int64_t>(code_point_count(s));
    if (width <= len) return Value::string(s);
    int64_t marg = width - len;
    int64_t left = marg / 2 + (marg & width & 1);
    return Value::string(std::string(static_cast<size_t>(left), ' ') + s + std::string(static_cast<size_t>(marg - left), ' '));
  }
  return Status::unsupported("unknown filter '" + n + "'");
}

Result<bool> apply_test(Interpreter& in, std::string_view name, const Value& v, const CallArgs& args) {
  const std::string n(name);
  const Value* a0 = arg(args, 0, "value");
  auto need_arg = [&]() -> Status {
    return a0 ? Status() : Status::invalid_argument("test '" + n + "' needs an argument");
  };
  if (n == "defined") return !v.is_undefined();
  if (n == "undefined") return v.is_undefined();
  if (n == "none") return v.is_none();
  if (n == "boolean") return v.is_bool();
  if (n == "true") return v.is_bool() && v.as_bool();
  if (n == "false") return v.is_bool() && !v.as_bool();
  if (n == "integer") return v.is_int();
  if (n == "float") return v.is_float();
  if (n == "number") return v.is_number();
  if (n == "string") return v.is_string();
  if (n == "mapping") return v.is_dict();
  if (n == "iterable") return v.is_undefined() || v.is_list() || v.is_dict() || v.is_string();
  if (n == "sequence") return v.is_undefined() || v.is_sequence_list() || v.is_dict() || v.is_string();
  if (n == "callable") return v.is_function() || v.is_undefined();
  if (n == "lower" || n == "upper") {
    std::string s = to_str(v);
    bool has_lower = false, has_upper = false;
    for (char c : s) {
      has_lower |= c >= 'a' && c <= 'z';
      has_upper |= c >= 'A' && c <= 'Z';
    }
    return n == "lower" ? has_lower && !has_upper : has_upper && !has_lower;
  }
  if (n == "odd" || n == "even") {
    if (!v.is_int() && !v.is_bool()) return bad_input(n, v);
    return (v.as_int() % 2 != 0) == (n == "odd");
  }
  if (n == "divisibleby") {
    AIGC_RETURN_IF_ERROR(need_arg());
    if (!v.is_number() || !a0->is_number()) return bad_input(n, v);
    if (v.is_float() || a0->is_float()) {
      if (a0->as_float() == 0.0) return Status::invalid_argument("divisibleby: division by zero");
      return std::fmod(v.as_float(), a0->as_float()) == 0.0;
    }
    if (a0->as_int() == 0) return Status::invalid_argument("divisibleby: division by zero");
    if (a0->as_int() == -1) return true;
    return v.as_int() % a0->as_int() == 0;
  }
  if (n == "eq" || n == "equalto" || n == "==") {
    AIGC_RETURN_IF_ERROR(need_arg());
    return equals(v, *a0);
  }
  if (n == "ne" || n == "!=") {
    AIGC_RETURN_IF_ERROR(need_arg());
    return !equals(v, *a0);
  }
  if (n == "sameas") {
    AIGC_RETURN_IF_ERROR(need_arg());
    if (v.is_none() || v.is_bool() || v.is_undefined()) return v.kind() == a0->kind() && equals(v, *a0);
    return equals(v, *a0) && v.kind() == a0->kind() && (v.is_mapping() ? &v.as_dict() == &a0->as_dict() : true);
  }
  if (n == "lt" || n == "lessthan" || n == "<" || n == "gt" || n == "greaterthan" || n == ">" || n == "le" ||
      n == "<=" || n == "ge" || n == ">=") {
    AIGC_RETURN_IF_ERROR(need_arg());
    bool gt_family = n == "gt" || n == "greaterthan" || n == ">" || n == "le" || n == "<=";
    AIGC_ASSIGN_OR_RETURN(bool lt, gt_family ? less_than(*a0, v) : less_than(v, *a0));
    bool strict = n == "lt" || n == "lessthan" || n == "<" || n == "gt" || n == "greaterthan" || n == ">";
    return strict ? lt : !lt;
  }
  if (n == "in") {
    AIGC_RETURN_IF_ERROR(need_arg());
    return contains(*a0, v);
  }
  if (n == "escaped") return false;
  (void)in;
  return Status::unsupported("unknown test '" + n + "'");
}

void add_globals(ValueDict& globals) {
  globals.set("range", Value::function("range", [](Interpreter& in, const CallArgs& args) -> Result<Value> {
    int64_t start = 0, stop = 0, step = 1;
    const auto& p = args.positional;
    for (const Value& v : p) {
      if (!v.is_int() && !v.is_bool()) return Status::invalid_argument(std::string("range: '") + v.type_name() + "' is not an integer");
    }
    if (p.size() == 1) {
      stop = p[0].as_int();
    } else if (p.size() == 2 || p.size() == 3) {
      start = p[0].as_int();
      stop = p[1].as_int();
      if (p.size() == 3) step = p[2].as_int();
    } else {
      return Status::invalid_argument("range: expected 1 to 3 integer arguments");
    }
    if (step == 0) return Status::invalid_argument("range: step must not be zero");
    double count = std::ceil((static_cast<double>(stop) - static_cast<double>(start)) / static_cast<double>(step));
    if (count > static_cast<double>(kMaxRange)) {
      return Status::out_of_range("range: more than " + std::to_string(kMaxRange) + " items (the sandbox limit)");
    }
    ValueList out;
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) out.push_back(Value::integer(i));
    AIGC_RETURN_IF_ERROR(in.charge_bytes(out.size() * 16));
    return Value::list(std::move(out));
  }));
  auto make_dict = [](const CallArgs& args, const char* fn) -> Result<ValueDict> {
    ValueDict d;
    for (const Value& p : args.positional) {
      if (!p.is_dict()) return Status::invalid_argument(std::string(fn) + ": positional argument must be a dict");
      for (const auto& [k, v] : p.as_dict().items) d.set(k, v);
    }
    for (const auto& [k, v] : args.keyword) d.set(k, v);
    return d;
  };
  globals.set("namespace", Value::function("namespace", [make_dict](Interpreter&, const CallArgs& args) -> Result<Value> {
    AIGC_ASSIGN_OR_RETURN(ValueDict d, make_dict(args, "namespace"));
    return Value::name_space(std::move(d));
  }));
  globals.set("dict", Value::function("dict", [make_dict](Interpreter&, const CallArgs& args) -> Result<Value> {
    AIGC_ASSIGN_OR_RETURN(ValueDict d, make_dict(args, "dict"));
    return Value::dict(std::move(d));
  }));
  globals.set("raise_exception", Value::function("raise_exception", [](Interpreter&, const CallArgs& args) -> Result<Value> {
    std::string msg = args.positional.empty() ? "" : to_str(args.positional[0]);
    return Status::invalid_argument("raise_exception: " + msg);
  }));
}

}  // namespace aigc::jinja
