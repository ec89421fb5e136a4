// Interpreter: statement execution and expression evaluation.
#include "text/jinja/interpreter.h"

#include <cmath>
#include <utility>

#include "text/jinja/builtins.h"

namespace aigc::jinja {
namespace {

Status at_line(int line, const Status& s) {
  if (s.ok() || s.message().rfind("template line ", 0) == 0) return s;
  return Status(s.code(), "template line " + std::to_string(line) + ": " + s.message());
}

Status type_error(const std::string& op, const Value& a, const Value& b) {
  return Status::invalid_argument("unsupported operand type(s) for " + op + ": '" + a.type_name() + "' and '" +
                                  b.type_name() + "'");
}

Status undefined_error(const Value& v) {
  if (v.undefined_name().empty()) return Status::invalid_argument("value is undefined");
  return Status::invalid_argument("'" + v.undefined_name() + "' is undefined");
}

bool contains_namespace(const Value& v) {
  if (v.is_namespace()) return true;
  if (v.is_list()) {
    for (const Value& item : v.as_list()) {
      if (contains_namespace(item)) return true;
    }
  }
  if (v.is_dict()) {
    for (const auto& item : v.as_dict().items) {
      if (contains_namespace(item.second)) return true;
    }
  }
  return false;
}

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

}  // namespace

const Value* Scope::find(const std::string& name) const {
  for (const Scope* s = this; s != nullptr; s = s->parent.get()) {
    auto it = s->vars.find(name);
    if (it != s->vars.end()) return &it->second;
  }
  return nullptr;
}

Status Interpreter::step() {
  if (++steps_ > limits_.max_steps) {
    return Status::out_of_range("render: more than " + std::to_string(limits_.max_steps) +
                                " steps (a loop that does not end?)");
  }
  return Status();
}

Status Interpreter::charge_bytes(size_t n) {
  work_bytes_ += n;
  if (work_bytes_ > limits_.max_work_bytes) {
    return Status::out_of_range("render: produced more than " + std::to_string(limits_.max_work_bytes) +
                                " bytes of strings");
  }
  return Status();
}

Status Interpreter::check_value(const Value& v) {
  if (v.is_string()) {
    if (v.as_string().size() > limits_.max_output_bytes) {
      return Status::out_of_range("string of " + std::to_string(v.as_string().size()) + " bytes exceeds the limit of " +
                                  std::to_string(limits_.max_output_bytes));
    }
    return charge_bytes(v.as_string().size());
  }
  if (v.is_list() && v.as_list().size() > limits_.max_list_items) {
    return Status::out_of_range("list of " + std::to_string(v.as_list().size()) + " items exceeds the limit of " +
                                std::to_string(limits_.max_list_items));
  }
  if (v.depth() > kMaxValueDepth) {
    return Status::out_of_range("value nests deeper than " + std::to_string(kMaxValueDepth));
  }
  return Status();
}

Status Interpreter::append(std::string& out, const std::string& text) {
  if (out.size() + text.size() > limits_.max_output_bytes) {
    return Status::out_of_range("render: output exceeds the limit of " + std::to_string(limits_.max_output_bytes) +
                                " bytes");
  }
  out += text;
  return charge_bytes(text.size());
}

Result<std::string> Interpreter::render(const Body& body, const ValueDict& globals) {
  root_ = std::make_shared<Scope>();
  ValueDict builtin;
  add_globals(builtin);
  for (auto& [k, v] : builtin.items) root_->vars[k] = v;
  for (const auto& [k, v] : globals.items) root_->vars[k] = v;
  std::string out;
  Status s = exec_body(body, root_, out);
  // Break the macro <-> scope links before the scopes go away.
  root_->vars.clear();
  root_.reset();
  if (!s.ok()) return s;
  return out;
}

Status Interpreter::exec_body(const Body& body, const ScopePtr& scope, std::string& out) {
  for (const NodePtr& n : body) {
    AIGC_RETURN_IF_ERROR(exec(*n, scope, out));
    if (flow_ != Flow::kNormal) return Status();
  }
  return Status();
}

Status Interpreter::exec(const Node& node, const ScopePtr& scope, std::string& out) {
  AIGC_RETURN_IF_ERROR(step());
  switch (node.kind) {
    case Node::Kind::kData: return append(out, node.text);
    case Node::Kind::kOutput: {
      AIGC_ASSIGN_OR_RETURN(Value v, eval(*node.expr, scope));
      return at_line(node.line, append(out, to_str(v)));
    }
    case Node::Kind::kIf: {
      for (const auto& [cond, body] : node.branches) {
        AIGC_ASSIGN_OR_RETURN(Value c, eval(*cond, scope));
        if (c.truthy()) return exec_body(body, scope, out);
      }
      return exec_body(node.else_body, scope, out);
    }
    case Node::Kind::kFor: return exec_for(node, scope, out);
    case Node::Kind::kSet: {
      AIGC_ASSIGN_OR_RETURN(Value v, eval(*node.expr, scope));
      if (!node.attr.empty()) {
        const Value* target = scope->find(node.targets[0]);
        if (target == nullptr || !target->is_namespace()) {
          return at_line(node.line, Status::invalid_argument("cannot assign attribute '" + node.attr + "' on '" +
                                                             node.targets[0] + "': not a namespace"));
        }
        if (contains_namespace(v)) {
          return at_line(node.line, Status::unsupported("storing a namespace inside a namespace"));
        }
        target->namespace_dict().set(node.attr, std::move(v));
        return Status();
      }
      return assign(node, node.targets, std::move(v), scope);
    }
    case Node::Kind::kSetBlock: {
      std::string captured;
      AIGC_RETURN_IF_ERROR(exec_body(node.body, scope, captured));
      Value v = Value::string(std::move(captured));
      if (node.expr) {
        AIGC_ASSIGN_OR_RETURN(v, eval_filter(*node.expr, scope, &v));
      }
      scope->vars[node.targets[0]] = std::move(v);
      return Status();
    }
    case Node::Kind::kMacro: return exec_macro(node, scope);
    case Node::Kind::kCallBlock: return exec_call_block(node, scope, out);
    case Node::Kind::kFilterBlock: {
      std::string captured;
      AIGC_RETURN_IF_ERROR(exec_body(node.body, scope, captured));
      Value input = Value::string(std::move(captured));
      AIGC_ASSIGN_OR_RETURN(Value v, eval_filter(*node.expr, scope, &input));
      return at_line(node.line, append(out, to_str(v)));
    }
    case Node::Kind::kScope: {
      auto inner = std::make_shared<Scope>();
      inner->parent = scope;
      for (size_t i = 0; i < node.values.size(); ++i) {
        AIGC_ASSIGN_OR_RETURN(Value v, eval(*node.values[i], scope));
        inner->vars[node.targets[i]] = std::move(v);
      }
      return exec_body(node.body, inner, out);
    }
    case Node::Kind::kBreak: flow_ = Flow::kBreak; return Status();
    case Node::Kind::kContinue: flow_ = Flow::kContinue; return Status();
  }
  return Status();
}

Status Interpreter::assign(const Node& node, const std::vector<std::string>& targets, Value value,
                           const ScopePtr& scope) {
  if (targets.size() == 1) {
    scope->vars[targets[0]] = std::move(value);
    return Status();
  }
  AIGC_ASSIGN_OR_RETURN(ValueList items, iterate(value));
  if (items.size() != targets.size()) {
    return at_line(node.line, Status::invalid_argument("cannot unpack " + std::to_string(items.size()) +
                                                       " values into " + std::to_string(targets.size()) + " names"));
  }
  for (size_t i = 0; i < targets.size(); ++i) scope->vars[targets[i]] = items[i];
  return Status();
}

Status Interpreter::exec_for(const Node& node, const ScopePtr& scope, std::string& out) {
  AIGC_ASSIGN_OR_RETURN(Value iterable, eval(*node.expr, scope));
  Result<ValueList> all = iterate(iterable);
  if (!all.ok()) return at_line(node.line, all.status());
  ValueList items;
  if (node.cond) {
    for (Value& item : *all) {
      AIGC_RETURN_IF_ERROR(step());
      auto cond_scope = std::make_shared<Scope>();
      cond_scope->parent = scope;
      AIGC_RETURN_IF_ERROR(assign(node, node.targets, item, cond_scope));
      AIGC_ASSIGN_OR_RETURN(Value keep, eval(*node.cond, cond_scope));
      if (keep.truthy()) items.push_back(std::move(item));
    }
  } else {
    items = std::move(*all);
  }
  const int64_t n = static_cast<int64_t>(items.size());
  for (int64_t i = 0; i < n; ++i) {
    AIGC_RETURN_IF_ERROR(step());
    // Each iteration gets a fresh scope: a {% set %} in the body does not
    // survive into the next iteration (as in jinja2).
    auto loop_scope = std::make_shared<Scope>();
    loop_scope->parent = scope;
    AIGC_RETURN_IF_ERROR(assign(node, node.targets, items[i], loop_scope));
    ValueDict loop;
    loop.items.reserve(12);
    loop.items.emplace_back("index", Value::integer(i + 1));
    loop.items.emplace_back("index0", Value::integer(i));
    loop.items.emplace_back("revindex", Value::integer(n - i));
    loop.items.emplace_back("revindex0", Value::integer(n - i - 1));
    loop.items.emplace_back("first", Value::boolean(i == 0));
    loop.items.emplace_back("last", Value::boolean(i == n - 1));
    loop.items.emplace_back("length", Value::integer(n));
    loop.items.emplace_back("depth", Value::integer(1));
    loop.items.emplace_back("depth0", Value::integer(0));
    loop.items.emplace_back("previtem", i > 0 ? items[i - 1] : Value::undefined("loop.previtem"));
    loop.items.emplace_back("nextitem", i + 1 < n ? items[i + 1] : Value::undefined("loop.nextitem"));
    loop.items.emplace_back("cycle", Value::function("loop.cycle", [i](Interpreter&, const CallArgs& a) -> Result<Value> {
      if (a.positional.empty()) return Status::invalid_argument("loop.cycle: no items given");
      return a.positional[static_cast<size_t>(i) % a.positional.size()];
    }));
    loop_scope->vars["loop"] = Value::dict(std::move(loop));
    AIGC_RETURN_IF_ERROR(exec_body(node.body, loop_scope, out));
    if (flow_ == Flow::kBreak) {
      flow_ = Flow::kNormal;
      break;
    }
    flow_ = Flow::kNormal;
  }
  if (n == 0) return exec_body(node.else_body, scope, out);
  return Status();
}

Status Interpreter::exec_macro(const Node& node, const ScopePtr& scope) {
  std::weak_ptr<Scope> defined_in = scope;
  const Node* macro = &node;
  scope->vars[node.name] =
      Value::function(node.name, [macro, defined_in](Interpreter& in, const CallArgs& args) -> Result<Value> {
        return in.call_macro(*macro, defined_in, args, nullptr);
      });
  return Status();
}

Status Interpreter::exec_call_block(const Node& node, const ScopePtr& scope, std::string& out) {
  const Expr& call_expr = *node.expr;
  AIGC_ASSIGN_OR_RETURN(Value callee, eval(*call_expr.items[0], scope));
  CallArgs args;
  AIGC_RETURN_IF_ERROR(eval_args(call_expr, scope, args));
  std::weak_ptr<Scope> caller_scope = scope;
  const Node* block = &node;
  Value caller = Value::function("caller", [block, caller_scope](Interpreter& in, const CallArgs& a) -> Result<Value> {
    return in.call_macro(*block, caller_scope, a, nullptr);
  });
  if (!callee.is_function()) return at_line(node.line, Status::invalid_argument("{% call %} of a non-macro"));
  args.keyword.emplace_back("caller", caller);
  AIGC_ASSIGN_OR_RETURN(Value v, call(callee, args));
  return at_line(node.line, append(out, to_str(v)));
}

Result<Value> Interpreter::call_macro(const Node& macro, const std::weak_ptr<Scope>& defined_in,
                                      const CallArgs& args, const Value* caller) {
  if (call_depth_ >= limits_.max_call_depth) {
    return Status::out_of_range("macro '" + macro.name + "': calls nest deeper than " +
                                std::to_string(limits_.max_call_depth));
  }
  auto scope = std::make_shared<Scope>();
  scope->parent = defined_in.lock();
  if (!scope->parent) scope->parent = root_;
  size_t n_params = macro.params.size();
  ValueList varargs;
  for (size_t i = 0; i < args.positional.size(); ++i) {
    if (i < n_params) {
      scope->vars[macro.params[i].name] = args.positional[i];
    } else {
      varargs.push_back(args.positional[i]);
    }
  }
  ValueDict kwargs;
  Value caller_value = caller ? *caller : Value::undefined("caller");
  for (const auto& [k, v] : args.keyword) {
    bool is_param = false;
    for (size_t i = 0; i < n_params; ++i) {
      if (macro.params[i].name != k) continue;
      if (i < args.positional.size()) {
        return Status::invalid_argument("macro '" + macro.name + "' got multiple values for argument '" + k + "'");
      }
      scope->vars[k] = v;
      is_param = true;
    }
    if (k == "caller") {
      caller_value = v;
    } else if (!is_param) {
      kwargs.set(k, v);
    }
  }
  for (size_t i = args.positional.size(); i < n_params; ++i) {
    const MacroParam& p = macro.params[i];
    if (scope->vars.count(p.name)) continue;
    if (p.default_value) {
      AIGC_ASSIGN_OR_RETURN(Value d, eval(*p.default_value, scope));
      scope->vars[p.name] = std::move(d);
    } else {
      scope->vars[p.name] = Value::undefined(p.name);
    }
  }
  scope->vars["varargs"] = Value::list(std::move(varargs), true);
  scope->vars["kwargs"] = Value::dict(std::move(kwargs));
  scope->vars["caller"] = caller_value;
  std::string out;
  ++call_depth_;
  Flow saved = flow_;
  flow_ = Flow::kNormal;
  Status s = exec_body(macro.body, scope, out);
  flow_ = saved;
  --call_depth_;
  AIGC_RETURN_IF_ERROR(s);
  return Value::string(std::move(out));
}

Result<Value> Interpreter::call(const Value& fn, const CallArgs& args) {
  if (fn.is_undefined()) return undefined_error(fn);
  if (!fn.is_function()) return Status::invalid_argument(std::string("'") + fn.type_name() + "' object is not callable");
  AIGC_RETURN_IF_ERROR(step());
  return fn.as_function()(*this, args);
}

Result<Value> Interpreter::eval(const Expr& e, const ScopePtr& scope) {
  Status s = step();
  if (!s.ok()) return at_line(e.line, s);
  Result<Value> r = eval_inner(e, scope);
  if (!r.ok()) return at_line(e.line, r.status());
  s = check_value(*r);
  if (!s.ok()) return at_line(e.line, s);
  return r;
}

Status Interpreter::eval_args(const Expr& e, const ScopePtr& scope, CallArgs& args) {
  for (const ExprPtr& a : e.args) {
    AIGC_ASSIGN_OR_RETURN(Value v, eval(*a, scope));
    args.positional.push_back(std::move(v));
  }
  for (const auto& [k, a] : e.kwargs) {
    AIGC_ASSIGN_OR_RETURN(Value v, eval(*a, scope));
    args.keyword.emplace_back(k, std::move(v));
  }
  return Status();
}

Result<Value> Interpreter::eval_filter(const Expr& e, const ScopePtr& scope, const Value* block_input) {
  Value input;
  if (e.items[0]) {
    const Expr& inner = *e.items[0];
    if (inner.kind == Expr::Kind::kFilter) {
      AIGC_ASSIGN_OR_RETURN(input, eval_filter(inner, scope, block_input));
    } else {
      AIGC_ASSIGN_OR_RETURN(input, eval(inner, scope));
    }
  } else if (block_input) {
    input = *block_input;
  }
  CallArgs args;
  AIGC_RETURN_IF_ERROR(eval_args(e, scope, args));
  Result<Value> r = apply_filter(*this, e.name, input, args);
  if (!r.ok()) return at_line(e.line, r.status());
  AIGC_RETURN_IF_ERROR(at_line(e.line, check_value(*r)));
  return r;
}

Result<Value> Interpreter::eval_inner(const Expr& e, const ScopePtr& scope) {
  switch (e.kind) {
    case Expr::Kind::kLiteral: return e.literal;
    case Expr::Kind::kName: {
      const Value* v = scope->find(e.name);
      return v ? *v : Value::undefined(e.name);
    }
    case Expr::Kind::kList:
    case Expr::Kind::kTuple: {
      ValueList items;
      items.reserve(e.items.size());
      for (const ExprPtr& item : e.items) {
        AIGC_ASSIGN_OR_RETURN(Value v, eval(*item, scope));
        items.push_back(std::move(v));
      }
      return Value::list(std::move(items), e.kind == Expr::Kind::kTuple);
    }
    case Expr::Kind::kDict: {
      ValueDict dict;
      for (size_t i = 0; i + 1 < e.items.size(); i += 2) {
        AIGC_ASSIGN_OR_RETURN(Value k, eval(*e.items[i], scope));
        AIGC_ASSIGN_OR_RETURN(Value v, eval(*e.items[i + 1], scope));
        if (!k.is_string()) return Status::unsupported(std::string("dict literal with a ") + k.type_name() + " key");
        dict.set(k.as_string(), std::move(v));
      }
      return Value::dict(std::move(dict));
    }
    case Expr::Kind::kGetAttr: {
      AIGC_ASSIGN_OR_RETURN(Value obj, eval(*e.items[0], scope));
      if (obj.is_undefined()) return undefined_error(obj);
      Value v = get_attr(obj, e.name);
      if (v.is_undefined()) return Value::undefined(e.name);
      return v;
    }
    case Expr::Kind::kGetItem: {
      AIGC_ASSIGN_OR_RETURN(Value obj, eval(*e.items[0], scope));
      AIGC_ASSIGN_OR_RETURN(Value key, eval(*e.items[1], scope));
      if (obj.is_undefined()) return undefined_error(obj);
      Value v = get_item(obj, key);
      if (v.is_undefined()) return Value::undefined(to_str(key));
      return v;
    }
    case Expr::Kind::kSlice: {
      AIGC_ASSIGN_OR_RETURN(Value obj, eval(*e.items[0], scope));
      Value parts[3];
      for (int i = 0; i < 3; ++i) {
        if (e.items[i + 1]) {
          AIGC_ASSIGN_OR_RETURN(parts[i], eval(*e.items[i + 1], scope));
        }
      }
      if (obj.is_undefined()) return undefined_error(obj);
      return get_slice(obj, e.items[1] ? &parts[0] : nullptr, e.items[2] ? &parts[1] : nullptr,
                       e.items[3] ? &parts[2] : nullptr);
    }
    case Expr::Kind::kCall: {
      AIGC_ASSIGN_OR_RETURN(Value fn, eval(*e.items[0], scope));
      CallArgs args;
      AIGC_RETURN_IF_ERROR(eval_args(e, scope, args));
      return call(fn, args);
    }
    case Expr::Kind::kFilter: return eval_filter(e, scope, nullptr);
    case Expr::Kind::kTest: {
      AIGC_ASSIGN_OR_RETURN(Value v, eval(*e.items[0], scope));
      CallArgs args;
      AIGC_RETURN_IF_ERROR(eval_args(e, scope, args));
      AIGC_ASSIGN_OR_RETURN(bool r, apply_test(*this, e.name, v, args));
      return Value::boolean(r != e.negated);
    }
    case Expr::Kind::kUnary: {
      AIGC_ASSIGN_OR_RETURN(Value v, eval(*e.items[0], scope));
      if (e.name == "not") return Value::boolean(!v.truthy());
      if (v.is_undefined()) return undefined_error(v);
      if (!v.is_number()) {
        return Status::invalid_argument(std::string("bad operand type for unary ") + e.name + ": '" + v.type_name() + "'");
      }
      if (e.name == "+") return v.is_bool() ? Value::integer(v.as_int()) : v;
      if (v.is_float()) return Value::floating(-v.as_float());
      if (v.as_int() == INT64_MIN) return Status::out_of_range("integer overflow in unary -");
      return Value::integer(-v.as_int());
    }
    case Expr::Kind::kBinary: return binary(e, scope);
    case Expr::Kind::kCompare: return compare_chain(e, scope);
    case Expr::Kind::kCondExpr: {
      AIGC_ASSIGN_OR_RETURN(Value c, eval(*e.items[1], scope));
      if (c.truthy()) return eval(*e.items[0], scope);
      if (e.items[2]) return eval(*e.items[2], scope);
      return Value::undefined("");
    }
  }
  return Status::unsupported("expression kind");
}

Result<Value> Interpreter::binary(const Expr& e, const ScopePtr& scope) {
  const std::string& op = e.name;
  AIGC_ASSIGN_OR_RETURN(Value a, eval(*e.items[0], scope));
  if (op == "and") {
    if (!a.truthy()) return a;
    return eval(*e.items[1], scope);
  }
  if (op == "or") {
    if (a.truthy()) return a;
    return eval(*e.items[1], scope);
  }
  AIGC_ASSIGN_OR_RETURN(Value b, eval(*e.items[1], scope));
  return apply_binary(op, a, b);
}

Result<Value> Interpreter::compare_chain(const Expr& e, const ScopePtr& scope) {
  AIGC_ASSIGN_OR_RETURN(Value left, eval(*e.items[0], scope));
  for (size_t i = 0; i < e.ops.size(); ++i) {
    AIGC_ASSIGN_OR_RETURN(Value right, eval(*e.items[i + 1], scope));
    AIGC_ASSIGN_OR_RETURN(Value holds, apply_binary(e.ops[i], left, right));
    if (!holds.truthy()) return holds;
    left = std::move(right);
  }
  return Value::boolean(true);
}

Result<Value> Interpreter::apply_binary(const std::string& op, const Value& a, const Value& b) {
  if (op == "==") return Value::boolean(equals(a, b));
  if (op == "!=") return Value::boolean(!equals(a, b));
  if (op == "in" || op == "not in") {
    AIGC_ASSIGN_OR_RETURN(bool r, contains(b, a));
    return Value::boolean(r != (op == "not in"));
  }
  if (op == "~") {
    std::string s = to_str(a);
    std::string t = to_str(b);
    if (s.size() + t.size() > limits_.max_output_bytes) return Status::out_of_range("string concatenation too long");
    return Value::string(s + t);
  }
  if (a.is_undefined()) return undefined_error(a);
  if (b.is_undefined()) return undefined_error(b);
  if (op == "<" || op == ">" || op == "<=" || op == ">=") {
    const Value& l = (op == "<" || op == ">=") ? a : b;
    const Value& r = (op == "<" || op == ">=") ? b : a;
    Result<bool> lt = less_than(l, r);
    if (!lt.ok()) {
      return Status::invalid_argument("'" + op + "' not supported between instances of '" + a.type_name() + "' and '" +
                                      b.type_name() + "'");
    }
    bool strict = op == "<" || op == ">";
    return Value::boolean(strict ? *lt : !*lt);
  }
  if (a.is_number() && b.is_number()) {
    bool fl = a.is_float() || b.is_float();
    if (op == "/") {
      if (b.as_float() == 0.0) return Status::invalid_argument("division by zero");
      return Value::floating(a.as_float() / b.as_float());
    }
    if (fl) {
      double x = a.as_float(), y = b.as_float();
      if (op == "+") return Value::floating(x + y);
      if (op == "-") return Value::floating(x - y);
      if (op == "*") return Value::floating(x * y);
      if (op == "**") return Value::floating(std::pow(x, y));
      if (y == 0.0) return Status::invalid_argument("float division by zero");
      if (op == "//") return Value::floating(std::floor(x / y));
      if (op == "%") {
        double m = std::fmod(x, y);
        if (m != 0.0 && ((m < 0) != (y < 0))) m += y;
        return Value::floating(m);
      }
    } else {
      int64_t x = a.as_int(), y = b.as_int(), r = 0;
      if (op == "+") {
        if (__builtin_add_overflow(x, y, &r)) return Status::out_of_range("integer overflow in +");
        return Value::integer(r);
      }
      if (op == "-") {
        if (__builtin_sub_overflow(x, y, &r)) return Status::out_of_range("integer overflow in -");
        return Value::integer(r);
      }
      if (op == "*") {
        if (__builtin_mul_overflow(x, y, &r)) return Status::out_of_range("integer overflow in *");
        return Value::integer(r);
      }
      if (op == "**") {
        if (y < 0) return Value::floating(std::pow(static_cast<double>(x), static_cast<double>(y)));
        r = 1;
        for (int64_t i = 0; i < y; ++i) {
          if (__builtin_mul_overflow(r, x, &r)) return Status::out_of_range("integer overflow in **");
          if (r == 0 || r == 1) break;
        }
        if (r == -1 && x == -1) r = (y % 2 == 0) ? 1 : -1;
        return Value::integer(r);
      }
      if (y == 0) return Status::invalid_argument("integer division or modulo by zero");
      if (x == INT64_MIN && y == -1) return Status::out_of_range("integer overflow in " + op);
      if (op == "//") return Value::integer(floor_div(x, y));
      if (op == "%") return Value::integer(x - floor_div(x, y) * y);
    }
  }
  if (op == "+") {
    if (a.is_string() && b.is_string()) {
      if (a.as_string().size() + b.as_string().size() > limits_.max_output_bytes) {
        return Status::out_of_range("string concatenation too long");
      }
      if (a.is_markup() || b.is_markup()) {
        // Markup + str escapes the plain side, as markupsafe does.
        std::string l = a.is_markup() ? a.as_string() : html_escape(a.as_string());
        std::string r = b.is_markup() ? b.as_string() : html_escape(b.as_string());
        if (l.size() + r.size() > limits_.max_output_bytes) return Status::out_of_range("string concatenation too long");
        return Value::markup(l + r);
      }
      return Value::string(a.as_string() + b.as_string());
    }
    if (a.is_sequence_list() && b.is_sequence_list() && a.is_tuple() == b.is_tuple()) {
      if (a.as_list().size() + b.as_list().size() > limits_.max_list_items) {
        return Status::out_of_range("list concatenation too long");
      }
      ValueList items = a.as_list();
      items.insert(items.end(), b.as_list().begin(), b.as_list().end());
      return Value::list(std::move(items), a.is_tuple());
    }
    if (a.is_string() || b.is_string()) {
      const Value& other = a.is_string() ? b : a;
      return Status::invalid_argument(std::string("can only concatenate str (not \"") + other.type_name() +
                                      "\") to str");
    }
  }
  if (op == "*" && (a.is_int() || b.is_int())) {
    const Value& seq = a.is_int() ? b : a;
    int64_t n = std::max<int64_t>(0, a.is_int() ? a.as_int() : b.as_int());
    if (seq.is_string()) {
      if (n > 0 && seq.as_string().size() > limits_.max_output_bytes / static_cast<size_t>(n)) {
        return Status::out_of_range("string repetition too long");
      }
      std::string s;
      for (int64_t i = 0; i < n; ++i) s += seq.as_string();
      return Value::string(std::move(s));
    }
    if (seq.is_sequence_list()) {
      if (n > 0 && seq.as_list().size() > limits_.max_list_items / static_cast<size_t>(n)) {
        return Status::out_of_range("list repetition too long");
      }
      ValueList items;
      for (int64_t i = 0; i < n; ++i) items.insert(items.end(), seq.as_list().begin(), seq.as_list().end());
      return Value::list(std::move(items), seq.is_tuple());
    }
  }
  if (op == "%" && a.is_string()) return Status::unsupported("printf-style string formatting ('%' on a string)");
  return type_error(op, a, b);
}

}  // namespace aigc::jinja
