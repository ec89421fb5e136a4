// AST of a parsed Jinja template: expressions (Expr) and statements (Node).
//
// One struct per level keeps the tree small to walk; `kind` says which
// fields are used (documented per kind below). Depth is recorded at
// construction so the parser can refuse trees that would make evaluation
// recurse too deeply.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "text/jinja/value.h"

namespace aigc::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Kind {
    kLiteral,   // literal
    kName,      // name
    kList,      // items
    kTuple,     // items
    kDict,      // items: key0, value0, key1, value1, ...
    kGetAttr,   // items[0] . name
    kGetItem,   // items[0] [ items[1] ]
    kSlice,     // items[0] [ items[1] : items[2] : items[3] ] (null = omitted)
    kCall,      // items[0] ( args, kwargs )
    kFilter,    // items[0] | name(args, kwargs); items[0] null in {% filter %}
    kTest,      // items[0] is [not] name(args, kwargs)
    kUnary,     // name ("-", "+", "not") items[0]
    kBinary,    // items[0] name items[1]; name is an operator, "and", "or", "in", "not in"
    kCondExpr,  // items[0] if items[1] else items[2] (null = undefined)
    kCompare,   // items[0] ops[0] items[1] ops[1] items[2] ...: a chained comparison, true when every
                // adjacent pair holds, each operand evaluated once (Python's a < b < c)
  };

  Kind kind = Kind::kLiteral;
  int line = 0;
  int depth = 1;
  bool negated = false;  // kTest: "is not"
  Value literal;
  std::string name;
  std::vector<std::string> ops;  // kCompare
  std::vector<ExprPtr> items;
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
};

struct Node;
using NodePtr = std::unique_ptr<Node>;
using Body = std::vector<NodePtr>;

struct MacroParam {
  std::string name;
  ExprPtr default_value;  // null: required
};

struct Node {
  enum class Kind {
    kData,         // text
    kOutput,       // {{ expr }}
    kIf,           // branches (cond, body)...; else_body
    kFor,          // for targets in expr [if cond]: body; else_body
    kSet,          // set targets = expr, or set targets[0].attr = expr
    kSetBlock,     // set targets[0] [| filter expr]: body
    kMacro,        // macro name(params): body
    kCallBlock,    // call[(params)] expr: body (the caller)
    kFilterBlock,  // filter expr: body
    kScope,        // generation / with blocks: body (with: assignments in targets/values)
    kBreak,
    kContinue,
  };

  Kind kind = Kind::kData;
  int line = 0;
  std::string text;
  std::string name;
  std::string attr;
  ExprPtr expr;
  ExprPtr cond;
  std::vector<std::string> targets;
  std::vector<ExprPtr> values;
  std::vector<MacroParam> params;
  std::vector<std::pair<ExprPtr, Body>> branches;
  Body body;
  Body else_body;
};

}  // namespace aigc::jinja
