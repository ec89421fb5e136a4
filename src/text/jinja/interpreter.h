// Interpreter: renders a parsed Jinja template (ast.h) against a context.
//
// Semantics follow jinja2's ImmutableSandboxedEnvironment with HF's chat
// template settings: undefined names render as "", attributes of undefined
// raise, lists and dicts cannot be mutated, loop controls are enabled.
// Every render is bounded by RenderLimits: work steps (so no template
// hangs), bytes produced, call depth. One Interpreter renders once; it is
// not thread-safe, but many may run at once over one shared AST.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "core/status.h"
#include "text/jinja/ast.h"
#include "text/jinja/value.h"

namespace aigc::jinja {

struct RenderLimits {
  int64_t max_steps = 20'000'000;          // expressions evaluated + statements run
  size_t max_output_bytes = 16u << 20;      // of the rendered text, and of any one string
  size_t max_work_bytes = 512u << 20;       // of all strings produced during the render
  size_t max_list_items = 1u << 20;         // of any one list
  int max_call_depth = 64;                  // nested macro calls
};

// A variable scope; lookups fall through to the parent.
struct Scope {
  std::shared_ptr<Scope> parent;
  std::unordered_map<std::string, Value> vars;

  const Value* find(const std::string& name) const;
};
using ScopePtr = std::shared_ptr<Scope>;

class Interpreter {
 public:
  explicit Interpreter(const RenderLimits& limits) : limits_(limits) {}

  // Renders `body` with `globals` as the top-level variables.
  Result<std::string> render(const Body& body, const ValueDict& globals);

  // For builtins: call a function value, count work, check sizes.
  Result<Value> call(const Value& fn, const CallArgs& args);
  Status step();
  Status charge_bytes(size_t n);
  // Refuses values over the size and nesting limits.
  Status check_value(const Value& v);
  const RenderLimits& limits() const { return limits_; }

 private:
  enum class Flow { kNormal, kBreak, kContinue };

  Status exec_body(const Body& body, const ScopePtr& scope, std::string& out);
  Status exec(const Node& node, const ScopePtr& scope, std::string& out);
  Status exec_for(const Node& node, const ScopePtr& scope, std::string& out);
  Status exec_macro(const Node& node, const ScopePtr& scope);
  Status exec_call_block(const Node& node, const ScopePtr& scope, std::string& out);
  Status assign(const Node& node, const std::vector<std::string>& targets, Value value, const ScopePtr& scope);
  Status append(std::string& out, const std::string& text);
  Result<Value> eval(const Expr& e, const ScopePtr& scope);
  Result<Value> eval_inner(const Expr& e, const ScopePtr& scope);
  Result<Value> eval_filter(const Expr& e, const ScopePtr& scope, const Value* block_input);
  Status eval_args(const Expr& e, const ScopePtr& scope, CallArgs& args);
  Result<Value> binary(const Expr& e, const ScopePtr& scope);
  Result<Value> apply_binary(const std::string& op, const Value& a, const Value& b);
  Result<Value> compare_chain(const Expr& e, const ScopePtr& scope);
  Result<Value> call_macro(const Node& macro, const std::weak_ptr<Scope>& defined_in, const CallArgs& args,
                           const Value* caller);

  RenderLimits limits_;
  int64_t steps_ = 0;
  size_t work_bytes_ = 0;
  int call_depth_ = 0;
  Flow flow_ = Flow::kNormal;
  ScopePtr root_;
};

}  // namespace aigc::jinja
