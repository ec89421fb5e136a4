// Value: the data model of the Jinja interpreter, shaped like Python's.
//
// A Value is undefined, none, bool, int, float, string, list (or tuple),
// dict (insertion-ordered, string keys), namespace (a dict whose attributes
// may be assigned) or function (macros, builtins, bound methods). Lists and
// dicts are shared by reference as in Python; the sandbox never mutates them.
// str()/repr()/json output follows CPython byte for byte for these types.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace aigc::jinja {

class Value;
class Interpreter;

using ValueList = std::vector<Value>;

// Insertion-ordered string-keyed map, like a Python dict of str keys.
struct ValueDict {
  std::vector<std::pair<std::string, Value>> items;

  const Value* find(std::string_view key) const;
  void set(const std::string& key, Value value);
};

// Arguments of a call: positional then keyword, as written.
struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
};

using Function = std::function<Result<Value>(Interpreter&, const CallArgs&)>;

class Value {
 public:
  enum class Kind { kUndefined, kNone, kBool, kInt, kFloat, kString, kList, kDict, kNamespace, kFunction };

  Value() = default;  // undefined
  static Value undefined(std::string name) {
    Value v;
    v.str_ = std::move(name);
    return v;
  }
  static Value none() { return Value(Kind::kNone); }
  static Value boolean(bool b) {
    Value v(Kind::kBool);
    v.int_ = b ? 1 : 0;
    return v;
  }
  static Value integer(int64_t i) {
    Value v(Kind::kInt);
    v.int_ = i;
    return v;
  }
  static Value floating(double f) {
    Value v(Kind::kFloat);
    v.float_ = f;
    return v;
  }
  static Value string(std::string s) {
    Value v(Kind::kString);
    v.str_ = std::move(s);
    return v;
  }
  // markupsafe.Markup: a string marked safe; `Markup + str` HTML-escapes
  // the str (chat templates hit this through "..."|safe + x).
  static Value markup(std::string s) {
    Value v = string(std::move(s));
    v.is_markup_ = true;
    return v;
  }
  static Value list(ValueList items, bool is_tuple = false);
  // A one-pass sequence (a Python generator or dict view, as filters like
  // map/select/items return): iterable, but no len(), index or JSON.
  static Value iterator(ValueList items);
  static Value dict(ValueDict dict);
  static Value name_space(ValueDict dict);
  static Value function(std::string name, Function fn);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_int() const { return kind_ == Kind::kInt; }
  bool is_float() const { return kind_ == Kind::kFloat; }
  bool is_number() const { return kind_ == Kind::kInt || kind_ == Kind::kFloat || kind_ == Kind::kBool; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_markup() const { return kind_ == Kind::kString && is_markup_; }
  bool is_list() const { return kind_ == Kind::kList; }
  bool is_tuple() const { return kind_ == Kind::kList && is_tuple_; }
  bool is_iterator() const { return kind_ == Kind::kList && is_iterator_; }
  // A list or tuple proper (not an iterator).
  bool is_sequence_list() const { return kind_ == Kind::kList && !is_iterator_; }
  bool is_dict() const { return kind_ == Kind::kDict; }
  bool is_namespace() const { return kind_ == Kind::kNamespace; }
  bool is_mapping() const { return kind_ == Kind::kDict || kind_ == Kind::kNamespace; }
  bool is_function() const { return kind_ == Kind::kFunction; }

  bool as_bool() const { return int_ != 0; }
  int64_t as_int() const { return int_; }  // int or bool
  double as_float() const { return kind_ == Kind::kFloat ? float_ : static_cast<double>(int_); }
  const std::string& as_string() const { return str_; }
  // For undefined values: the name that was looked up ("" if unknown).
  const std::string& undefined_name() const { return str_; }
  const ValueList& as_list() const { return *list_; }
  const ValueDict& as_dict() const { return *dict_; }
  ValueDict& namespace_dict() const { return *dict_; }
  const Function& as_function() const { return *fn_; }
  const std::string& function_name() const { return str_; }
  // Nesting depth of lists/dicts (scalars are 0).
  int depth() const { return depth_; }

  // Python truthiness.
  bool truthy() const;
  // Python's type name ("str", "int", "dict", ...), for error messages.
  const char* type_name() const;

 private:
  explicit Value(Kind k) : kind_(k) {}

  Kind kind_ = Kind::kUndefined;
  bool is_tuple_ = false;
  bool is_iterator_ = false;
  bool is_markup_ = false;
  int depth_ = 0;
  int64_t int_ = 0;
  double float_ = 0.0;
  std::string str_;
  std::shared_ptr<const ValueList> list_;
  std::shared_ptr<ValueDict> dict_;
  std::shared_ptr<const Function> fn_;
};

// Deepest nesting of lists/dicts a value may have (keeps printing,
// comparing and destroying values off deep recursion).
inline constexpr int kMaxValueDepth = 200;

// Python str(v): what {{ v }} prints. Undefined prints "".
std::string to_str(const Value& v);
// Python repr(v).
std::string repr(const Value& v);
// Python float repr ("1.0", "1e+16", "0.1").
std::string float_repr(double f);
// Python ==.
bool equals(const Value& a, const Value& b);
// Python <, or an error for unorderable types.
Result<bool> less_than(const Value& a, const Value& b);
// Options of Python's json.dumps.
struct JsonFormat {
  int indent = -1;  // < 0: None (one line)
  bool ensure_ascii = false;
  bool sort_keys = false;
  std::string item_separator;        // empty: ", " without indent, "," with
  std::string key_separator = ": ";
};
// json.dumps(v, ...) byte for byte. Errors for values JSON cannot hold.
Result<std::string> to_json(const Value& v, const JsonFormat& format);

// Conversion from the JSON data model (objects keep their key order);
// refuses nesting deeper than kMaxValueDepth.
Result<Value> from_json(const nlohmann::ordered_json& j);

}  // namespace aigc::jinja
