// Builtins: Jinja filters, tests, globals, attribute/item access and the
// Python str/dict/list methods that chat templates call.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "text/jinja/value.h"

namespace aigc::jinja {

class Interpreter;

// Whether a filter / test of this name exists (jinja2 checks at parse time).
bool is_filter_name(std::string_view name);
bool is_test_name(std::string_view name);

Result<Value> apply_filter(Interpreter& in, std::string_view name, const Value& input, const CallArgs& args);
Result<bool> apply_test(Interpreter& in, std::string_view name, const Value& input, const CallArgs& args);

// obj.name: methods of str/dict/list, then dict keys / namespace attributes.
// Undefined (never an error) when absent; the caller rejects undefined obj.
Value get_attr(const Value& obj, const std::string& name);
// obj[key]: list/str index (negative from the end), dict key, then
// attribute. Undefined when absent.
Value get_item(const Value& obj, const Value& key);
// obj[start:stop:step] for lists and strings (null pointer = omitted).
Result<Value> get_slice(const Value& obj, const Value* start, const Value* stop, const Value* step);
// The values a for loop visits: list items, dict keys, string characters.
Result<ValueList> iterate(const Value& v);
// Python `item in container`.
Result<bool> contains(const Value& container, const Value& item);

// markupsafe.escape: & < > " ' as HTML entities.
std::string html_escape(const std::string& s);

// range, namespace, dict, raise_exception.
void add_globals(ValueDict& globals);

}  // namespace aigc::jinja
