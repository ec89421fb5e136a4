// Parser: jinja2's grammar (parser.py) over the lexer's tokens.
#include "text/jinja/parser.h"

#include <algorithm>
#include <initializer_list>

#include "text/jinja/builtins.h"
#include "text/jinja/lexer.h"

namespace aigc::jinja {
namespace {

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : toks_(std::move(tokens)) {}

  Result<Body> run() {
    Body body;
    std::string end;
    if (!parse_body({}, body, end)) return error_;
    return body;
  }

 private:
  // ---- token helpers ----
  const Token& cur() const { return toks_[pos_]; }
  const Token& peek(size_t n = 1) const { return toks_[std::min(pos_ + n, toks_.size() - 1)]; }
  void next() {
    if (pos_ + 1 < toks_.size()) ++pos_;
  }
  bool is_op(const char* op) const { return cur().type == TokenType::kOperator && cur().text == op; }
  bool is_name(const char* name) const { return cur().type == TokenType::kName && cur().text == name; }
  bool accept_op(const char* op) {
    if (!is_op(op)) return false;
    next();
    return true;
  }
  bool accept_name(const char* name) {
    if (!is_name(name)) return false;
    next();
    return true;
  }

  std::nullptr_t fail(const std::string& what) {
    if (error_.ok()) {
      error_ = Status::invalid_argument("template line " + std::to_string(cur().line) + ": " + what);
    }
    return nullptr;
  }
  std::string describe(const Token& t) const {
    switch (t.type) {
      case TokenType::kData: return "text";
      case TokenType::kVarBegin: return "'{{'";
      case TokenType::kVarEnd: return "'}}'";
      case TokenType::kBlockBegin: return "'{%'";
      case TokenType::kBlockEnd: return "'%}'";
      case TokenType::kEof: return "end of template";
      case TokenType::kString: return "string literal";
      default: return "'" + t.text + "'";
    }
  }
  bool expect_op(const char* op) {
    if (accept_op(op)) return true;
    fail(std::string("expected '") + op + "', got " + describe(cur()));
    return false;
  }
  bool expect_block_end() {
    if (cur().type == TokenType::kBlockEnd) {
      next();
      return true;
    }
    fail("expected '%}', got " + describe(cur()));
    return false;
  }

  ExprPtr make(Expr::Kind kind, int line) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = line;
    return e;
  }
  // Records the depth of a finished node; fails when the tree is too deep.
  ExprPtr finish(ExprPtr e) {
    int d = 0;
    for (const auto& c : e->items) d = std::max(d, c ? c->depth : 0);
    for (const auto& c : e->args) d = std::max(d, c->depth);
    for (const auto& c : e->kwargs) d = std::max(d, c.second->depth);
    e->depth = d + 1;
    if (e->depth > kMaxNestingDepth) return fail("expression nests deeper than " + std::to_string(kMaxNestingDepth));
    return e;
  }

  // Guards the parser's own recursion.
  struct DepthGuard {
    explicit DepthGuard(int& d) : d_(d) { ++d_; }
    ~DepthGuard() { --d_; }
    int& d_;
  };
  bool too_deep() {
    if (recursion_ <= 4 * kMaxNestingDepth) return false;
    fail("template nests deeper than the parser allows");
    return true;
  }

  // ---- statements ----

  // Parses nodes until a block tag whose name is in `ends` (consumed, its
  // name stored in `end`), or end of input when `ends` is empty.
  bool parse_body(std::initializer_list<const char*> ends, Body& body, std::string& end) {
    DepthGuard g(recursion_);
    if (too_deep()) return false;
    while (true) {
      const Token& t = cur();
      switch (t.type) {
        case TokenType::kEof:
          if (ends.size() == 0) return true;
          fail(std::string("unexpected end of template; expected '{% ") + *ends.begin() + " %}'");
          return false;
        case TokenType::kData: {
          auto n = std::make_unique<Node>();
          n->kind = Node::Kind::kData;
          n->line = t.line;
          n->text = t.text;
          body.push_back(std::move(n));
          next();
          break;
        }
        case TokenType::kVarBegin: {
          auto n = std::make_unique<Node>();
          n->kind = Node::Kind::kOutput;
          n->line = t.line;
          next();
          n->expr = parse_tuple(true);
          if (!n->expr) return false;
          if (cur().type != TokenType::kVarEnd) {
            fail("expected '}}', got " + describe(cur()));
            return false;
          }
          next();
          body.push_back(std::move(n));
          break;
        }
        case TokenType::kBlockBegin: {
          const Token& name = peek();
          if (name.type == TokenType::kName) {
            for (const char* e : ends) {
              if (name.text == e) {
                end = e;
                next();
                next();
                return true;
              }
            }
          }
          next();
          NodePtr n = parse_statement();
          if (!n) return false;
          if (n->kind != Node::Kind::kData) body.push_back(std::move(n));
          break;
        }
        default: fail("unexpected " + describe(t)); return false;
      }
    }
  }

  NodePtr parse_statement() {
    const Token& t = cur();
    if (t.type != TokenType::kName) return fail("expected a statement name after '{%', got " + describe(t));
    std::string kw = t.text;
    int line = t.line;
    next();
    auto n = std::make_unique<Node>();
    n->line = line;
    if (kw == "if") return parse_if(std::move(n));
    if (kw == "for") return parse_for(std::move(n));
    if (kw == "set") return parse_set(std::move(n));
    if (kw == "macro") return parse_macro(std::move(n));
    if (kw == "call") return parse_call_block(std::move(n));
    if (kw == "filter") return parse_filter_block(std::move(n));
    if (kw == "with") return parse_with(std::move(n));
    if (kw == "generation") {
      n->kind = Node::Kind::kScope;
      if (!expect_block_end()) return nullptr;
      std::string end;
      if (!parse_body({"endgeneration"}, n->body, end) || !expect_block_end()) return nullptr;
      return n;
    }
    if (kw == "break" || kw == "continue") {
      if (loop_depth_ == 0) return fail("'" + kw + "' outside a for loop");
      n->kind = kw == "break" ? Node::Kind::kBreak : Node::Kind::kContinue;
      if (!expect_block_end()) return nullptr;
      return n;
    }
    return fail("unsupported statement '{% " + kw + " %}'");
  }

  NodePtr parse_if(NodePtr n) {
    n->kind = Node::Kind::kIf;
    while (true) {
      ExprPtr cond = parse_tuple(false);
      if (!cond || !expect_block_end()) return nullptr;
      Body body;
      std::string end;
      if (!parse_body({"elif", "else", "endif"}, body, end)) return nullptr;
      n->branches.emplace_back(std::move(cond), std::move(body));
      if (end == "elif") continue;
      if (end == "else") {
        if (!expect_block_end() || !parse_body({"endif"}, n->else_body, end)) return nullptr;
      }
      if (!expect_block_end()) return nullptr;
      return n;
    }
  }

  bool parse_targets(std::vector<std::string>& targets) {
    bool paren = accept_op("(");
    do {
      if (cur().type != TokenType::kName) {
        fail("expected a variable name, got " + describe(cur()));
        return false;
      }
      targets.push_back(cur().text);
      next();
    } while (accept_op(",") && cur().type == TokenType::kName);
    if (paren && !expect_op(")")) return false;
    return true;
  }

  NodePtr parse_for(NodePtr n) {
    n->kind = Node::Kind::kFor;
    if (!parse_targets(n->targets)) return nullptr;
    if (!accept_name("in")) return fail("expected 'in' in for loop, got " + describe(cur()));
    n->expr = parse_tuple(false);
    if (!n->expr) return nullptr;
    if (accept_name("if")) {
      n->cond = parse_expression(true);
      if (!n->cond) return nullptr;
    }
    if (is_name("recursive")) return fail("unsupported: recursive for loops");
    if (!expect_block_end()) return nullptr;
    std::string end;
    ++loop_depth_;
    bool ok = parse_body({"else", "endfor"}, n->body, end);
    --loop_depth_;
    if (!ok) return nullptr;
    if (end == "else" && (!expect_block_end() || !parse_body({"endfor"}, n->else_body, end))) return nullptr;
    if (!expect_block_end()) return nullptr;
    return n;
  }

  NodePtr parse_set(NodePtr n) {
    if (cur().type == TokenType::kName && peek().type == TokenType::kOperator && peek().text == "." &&
        peek(2).type == TokenType::kName) {
      n->targets.push_back(cur().text);
      n->attr = peek(2).text;
      next();
      next();
      next();
    } else if (!parse_targets(n->targets)) {
      return nullptr;
    }
    if (accept_op("=")) {
      n->kind = Node::Kind::kSet;
      n->expr = parse_tuple(true);
      if (!n->expr || !expect_block_end()) return nullptr;
      return n;
    }
    if (!n->attr.empty() || n->targets.size() != 1) return fail("block set needs a single variable name");
    n->kind = Node::Kind::kSetBlock;
    if (is_op("|")) {
      n->expr = parse_filter_chain(nullptr);
      if (!n->expr) return nullptr;
    }
    std::string end;
    if (!expect_block_end() || !parse_body({"endset"}, n->body, end) || !expect_block_end()) return nullptr;
    return n;
  }

  bool parse_params(std::vector<MacroParam>& params) {
    if (!expect_op("(")) return false;
    while (!is_op(")")) {
      if (!params.empty() && !expect_op(",")) return false;
      if (is_op(")")) break;
      if (cur().type != TokenType::kName) {
        fail("expected a parameter name, got " + describe(cur()));
        return false;
      }
      MacroParam p;
      p.name = cur().text;
      next();
      if (accept_op("=")) {
        p.default_value = parse_expression(true);
        if (!p.default_value) return false;
      }
      params.push_back(std::move(p));
    }
    next();
    return true;
  }

  NodePtr parse_macro(NodePtr n) {
    n->kind = Node::Kind::kMacro;
    if (cur().type != TokenType::kName) return fail("expected a macro name, got " + describe(cur()));
    n->name = cur().text;
    next();
    if (!parse_params(n->params)) return nullptr;
    std::string end;
    int saved = loop_depth_;
    loop_depth_ = 0;
    bool ok = expect_block_end() && parse_body({"endmacro"}, n->body, end) && expect_block_end();
    loop_depth_ = saved;
    return ok ? std::move(n) : nullptr;
  }

  NodePtr parse_call_block(NodePtr n) {
    n->kind = Node::Kind::kCallBlock;
    if (is_op("(") && !parse_params(n->params)) return nullptr;
    n->expr = parse_expression(true);
    if (!n->expr) return nullptr;
    if (n->expr->kind != Expr::Kind::kCall) return fail("expected a macro call after '{% call'");
    std::string end;
    int saved = loop_depth_;
    loop_depth_ = 0;
    bool ok = expect_block_end() && parse_body({"endcall"}, n->body, end) && expect_block_end();
    loop_depth_ = saved;
    return ok ? std::move(n) : nullptr;
  }

  NodePtr parse_filter_block(NodePtr n) {
    n->kind = Node::Kind::kFilterBlock;
    n->expr = parse_filter_chain(nullptr, true);
    std::string end;
    if (!n->expr || !expect_block_end() || !parse_body({"endfilter"}, n->body, end) || !expect_block_end()) {
      return nullptr;
    }
    return n;
  }

  NodePtr parse_with(NodePtr n) {
    n->kind = Node::Kind::kScope;
    while (cur().type != TokenType::kBlockEnd) {
      if (!n->targets.empty() && !expect_op(",")) return nullptr;
      if (cur().type != TokenType::kName) return fail("expected a variable name in with, got " + describe(cur()));
      n->targets.push_back(cur().text);
      next();
      if (!expect_op("=")) return nullptr;
      ExprPtr v = parse_expression(true);
      if (!v) return nullptr;
      n->values.push_back(std::move(v));
    }
    std::string end;
    if (!expect_block_end() || !parse_body({"endwith"}, n->body, end) || !expect_block_end()) return nullptr;
    return n;
  }

  // ---- expressions ----

  bool at_tuple_end() const {
    const Token& t = cur();
    if (t.type == TokenType::kVarEnd || t.type == TokenType::kBlockEnd || t.type == TokenType::kEof) return true;
    if (t.type == TokenType::kOperator && t.text == ")") return true;
    return t.type == TokenType::kName && t.text == "recursive";
  }

  ExprPtr parse_tuple(bool with_condexpr, bool explicit_parens = false) {
    int line = cur().line;
    std::vector<ExprPtr> items;
    bool is_tuple = false;
    while (true) {
      if (!items.empty() && !expect_op(",")) return nullptr;
      if (at_tuple_end()) break;
      ExprPtr e = with_condexpr ? parse_expression(true) : parse_expression(false);
      if (!e) return nullptr;
      items.push_back(std::move(e));
      if (!is_op(",")) break;
      is_tuple = true;
    }
    if (!is_tuple) {
      if (!items.empty()) return std::move(items[0]);
      if (!explicit_parens) return fail("expected an expression, got " + describe(cur()));
    }
    ExprPtr t = make(Expr::Kind::kTuple, line);
    t->items = std::move(items);
    return finish(std::move(t));
  }

  ExprPtr parse_expression(bool with_condexpr) {
    DepthGuard g(recursion_);
    if (too_deep()) return nullptr;
    return with_condexpr ? parse_condexpr() : parse_or();
  }

  ExprPtr parse_condexpr() {
    int line = cur().line;
    ExprPtr e = parse_or();
    while (e && accept_name("if")) {
      ExprPtr cond = parse_or();
      if (!cond) return nullptr;
      ExprPtr other;
      if (accept_name("else")) {
        other = parse_expression(true);
        if (!other) return nullptr;
      }
      ExprPtr c = make(Expr::Kind::kCondExpr, line);
      c->items.push_back(std::move(e));
      c->items.push_back(std::move(cond));
      c->items.push_back(std::move(other));
      e = finish(std::move(c));
    }
    return e;
  }

  ExprPtr binary(const std::string& op, ExprPtr l, ExprPtr r, int line) {
    if (!l || !r) return nullptr;
    ExprPtr b = make(Expr::Kind::kBinary, line);
    b->name = op;
    b->items.push_back(std::move(l));
    b->items.push_back(std::move(r));
    return finish(std::move(b));
  }

  ExprPtr parse_or() {
    ExprPtr e = parse_and();
    while (e && is_name("or")) {
      int line = cur().line;
      next();
      e = binary("or", std::move(e), parse_and(), line);
    }
    return e;
  }

  ExprPtr parse_and() {
    ExprPtr e = parse_not();
    while (e && is_name("and")) {
      int line = cur().line;
      next();
      e = binary("and", std::move(e), parse_not(), line);
    }
    return e;
  }

  ExprPtr parse_not() {
    DepthGuard g(recursion_);
    if (too_deep()) return nullptr;
    if (is_name("not")) {
      int line = cur().line;
      next();
      ExprPtr inner = parse_not();
      if (!inner) return nullptr;
      ExprPtr n = make(Expr::Kind::kUnary, line);
      n->name = "not";
      n->items.push_back(std::move(inner));
      return finish(std::move(n));
    }
    return parse_compare();
  }

  // One comparison is a kBinary; a chain of them (a < b <= c) a kCompare.
  ExprPtr parse_compare() {
    int line = cur().line;
    ExprPtr first = parse_math1();
    std::vector<std::string> ops;
    std::vector<ExprPtr> operands;
    if (!first) return nullptr;
    operands.push_back(std::move(first));
    while (true) {
      std::string op;
      if (cur().type == TokenType::kOperator &&
          (is_op("==") || is_op("!=") || is_op("<") || is_op("<=") || is_op(">") || is_op(">="))) {
        op = cur().text;
        next();
      } else if (is_name("in")) {
        op = "in";
        next();
      } else if (is_name("not") && peek().type == TokenType::kName && peek().text == "in") {
        op = "not in";
        next();
        next();
      } else {
        break;
      }
      ExprPtr right = parse_math1();
      if (!right) return nullptr;
      ops.push_back(op);
      operands.push_back(std::move(right));
    }
    if (ops.empty()) return std::move(operands[0]);
    if (ops.size() == 1) return binary(ops[0], std::move(operands[0]), std::move(operands[1]), line);
    ExprPtr chain = make(Expr::Kind::kCompare, line);
    chain->ops = std::move(ops);
    chain->items = std::move(operands);
    return finish(std::move(chain));
  }

  ExprPtr parse_math1() {
    ExprPtr e = parse_concat();
    while (e && (is_op("+") || is_op("-"))) {
      std::string op = cur().text;
      int line = cur().line;
      next();
      e = binary(op, std::move(e), parse_concat(), line);
    }
    return e;
  }

  ExprPtr parse_concat() {
    ExprPtr e = parse_math2();
    while (e && is_op("~")) {
      int line = cur().line;
      next();
      e = binary("~", std::move(e), parse_math2(), line);
    }
    return e;
  }

  ExprPtr parse_math2() {
    ExprPtr e = parse_pow();
    while (e && (is_op("*") || is_op("/") || is_op("//") || is_op("%"))) {
      std::string op = cur().text;
      int line = cur().line;
      next();
      e = binary(op, std::move(e), parse_pow(), line);
    }
    return e;
  }

  ExprPtr parse_pow() {
    ExprPtr e = parse_unary(true);
    while (e && is_op("**")) {
      int line = cur().line;
      next();
      e = binary("**", std::move(e), parse_unary(true), line);
    }
    return e;
  }

  ExprPtr parse_unary(bool with_filter) {
    DepthGuard g(recursion_);
    if (too_deep()) return nullptr;
    int line = cur().line;
    ExprPtr e;
    if (is_op("-") || is_op("+")) {
      std::string op = cur().text;
      next();
      ExprPtr inner = parse_unary(false);
      if (!inner) return nullptr;
      e = make(Expr::Kind::kUnary, line);
      e->name = op;
      e->items.push_back(std::move(inner));
      e = finish(std::move(e));
    } else {
      e = parse_primary();
    }
    if (e) e = parse_postfix(std::move(e));
    if (e && with_filter) e = parse_filter_expr(std::move(e));
    return e;
  }

  ExprPtr literal(Value v, int line) {
    ExprPtr e = make(Expr::Kind::kLiteral, line);
    e->literal = std::move(v);
    return e;
  }

  ExprPtr parse_primary() {
    const Token& t = cur();
    int line = t.line;
    switch (t.type) {
      case TokenType::kName: {
        std::string name = t.text;
        next();
        if (name == "true" || name == "True") return literal(Value::boolean(true), line);
        if (name == "false" || name == "False") return literal(Value::boolean(false), line);
        if (name == "none" || name == "None") return literal(Value::none(), line);
        ExprPtr e = make(Expr::Kind::kName, line);
        e->name = name;
        return e;
      }
      case TokenType::kString: {
        std::string s;
        while (cur().type == TokenType::kString) {
          s += cur().text;
          next();
        }
        return literal(Value::string(std::move(s)), line);
      }
      case TokenType::kInt: {
        int64_t v = t.int_value;
        next();
        return literal(Value::integer(v), line);
      }
      case TokenType::kFloat: {
        double v = t.float_value;
        next();
        return literal(Value::floating(v), line);
      }
      case TokenType::kOperator:
        if (t.text == "(") {
          next();
          ExprPtr e = parse_tuple(true, true);
          if (!e || !expect_op(")")) return nullptr;
          return e;
        }
        if (t.text == "[") {
          next();
          ExprPtr e = make(Expr::Kind::kList, line);
          while (!is_op("]")) {
            if (!e->items.empty() && !expect_op(",")) return nullptr;
            if (is_op("]")) break;
            ExprPtr item = parse_expression(true);
            if (!item) return nullptr;
            e->items.push_back(std::move(item));
          }
          next();
          return finish(std::move(e));
        }
        if (t.text == "{") {
          next();
          ExprPtr e = make(Expr::Kind::kDict, line);
          while (!is_op("}")) {
            if (!e->items.empty() && !expect_op(",")) return nullptr;
            if (is_op("}")) break;
            ExprPtr key = parse_expression(true);
            if (!key || !expect_op(":")) return nullptr;
            ExprPtr value = parse_expression(true);
            if (!value) return nullptr;
            e->items.push_back(std::move(key));
            e->items.push_back(std::move(value));
          }
          next();
          return finish(std::move(e));
        }
        break;
      default: break;
    }
    return fail("unexpected " + describe(t) + " in expression");
  }

  ExprPtr parse_postfix(ExprPtr e) {
    while (e) {
      int line = cur().line;
      if (is_op(".")) {
        next();
        if (cur().type == TokenType::kName) {
          ExprPtr a = make(Expr::Kind::kGetAttr, line);
          a->name = cur().text;
          next();
          a->items.push_back(std::move(e));
          e = finish(std::move(a));
        } else if (cur().type == TokenType::kInt) {
          ExprPtr a = make(Expr::Kind::kGetItem, line);
          a->items.push_back(std::move(e));
          a->items.push_back(literal(Value::integer(cur().int_value), line));
          next();
          e = finish(std::move(a));
        } else {
          return fail("expected an attribute name after '.', got " + describe(cur()));
        }
      } else if (is_op("[")) {
        next();
        e = parse_subscript(std::move(e), line);
      } else if (is_op("(")) {
        e = parse_call(std::move(e), Expr::Kind::kCall, line);
      } else {
        break;
      }
    }
    return e;
  }

  ExprPtr parse_subscript(ExprPtr obj, int line) {
    ExprPtr parts[3];
    bool is_slice = false;
    int part = 0;
    while (!is_op("]")) {
      if (is_op(":")) {
        if (part == 2) return fail("too many ':' in slice");
        is_slice = true;
        ++part;
        next();
        continue;
      }
      if (parts[part]) return fail("expected ']' or ':', got " + describe(cur()));
      parts[part] = parse_expression(true);
      if (!parts[part]) return nullptr;
      if (is_op(",")) return fail("unsupported: tuple subscripts");
    }
    next();
    if (!is_slice) {
      if (!parts[0]) return fail("empty subscript []");
      ExprPtr g = make(Expr::Kind::kGetItem, line);
      g->items.push_back(std::move(obj));
      g->items.push_back(std::move(parts[0]));
      return finish(std::move(g));
    }
    ExprPtr s = make(Expr::Kind::kSlice, line);
    s->items.push_back(std::move(obj));
    for (auto& p : parts) s->items.push_back(std::move(p));
    return finish(std::move(s));
  }

  bool parse_call_args(Expr& e) {
    if (!expect_op("(")) return false;
    while (!is_op(")")) {
      if ((!e.args.empty() || !e.kwargs.empty()) && !expect_op(",")) return false;
      if (is_op(")")) break;
      if (is_op("*") || is_op("**")) {
        fail("unsupported: *args / **kwargs in calls");
        return false;
      }
      if (cur().type == TokenType::kName && peek().type == TokenType::kOperator && peek().text == "=") {
        std::string key = cur().text;
        next();
        next();
        ExprPtr v = parse_expression(true);
        if (!v) return false;
        e.kwargs.emplace_back(key, std::move(v));
      } else {
        if (!e.kwargs.empty()) {
          fail("positional argument after keyword argument");
          return false;
        }
        ExprPtr v = parse_expression(true);
        if (!v) return false;
        e.args.push_back(std::move(v));
      }
    }
    next();
    return true;
  }

  ExprPtr parse_call(ExprPtr callee, Expr::Kind kind, int line) {
    ExprPtr c = make(kind, line);
    c->items.push_back(std::move(callee));
    if (!parse_call_args(*c)) return nullptr;
    return finish(std::move(c));
  }

  std::string parse_dotted_name(const char* what) {
    if (cur().type != TokenType::kName) {
      fail(std::string("expected a ") + what + " name, got " + describe(cur()));
      return "";
    }
    std::string name = cur().text;
    next();
    while (is_op(".") && peek().type == TokenType::kName) {
      next();
      name += "." + cur().text;
      next();
    }
    return name;
  }

  // One or more "| name(args)" applied to `input` (null inside {% filter %}).
  ExprPtr parse_filter_chain(ExprPtr input, bool start_inline = false) {
    bool first = true;
    while ((first && start_inline) || is_op("|")) {
      if (!(first && start_inline)) next();
      first = false;
      int line = cur().line;
      ExprPtr f = make(Expr::Kind::kFilter, line);
      f->name = parse_dotted_name("filter");
      if (f->name.empty()) return nullptr;
      if (!is_filter_name(f->name)) return fail("no filter named '" + f->name + "'");
      f->items.push_back(std::move(input));
      if (is_op("(") && !parse_call_args(*f)) return nullptr;
      input = finish(std::move(f));
      if (!input) return nullptr;
    }
    return input;
  }

  ExprPtr parse_filter_expr(ExprPtr e) {
    while (e) {
      int line = cur().line;
      if (is_op("|")) {
        e = parse_filter_chain(std::move(e));
      } else if (is_name("is")) {
        next();
        ExprPtr t = make(Expr::Kind::kTest, line);
        t->negated = accept_name("not");
        t->name = parse_dotted_name("test");
        if (t->name.empty()) return nullptr;
        if (!is_test_name(t->name)) return fail("no test named '" + t->name + "'");
        t->items.push_back(std::move(e));
        if (is_op("(")) {
          if (!parse_call_args(*t)) return nullptr;
        } else if ((cur().type == TokenType::kName && !is_name("else") && !is_name("or") && !is_name("and")) ||
                   cur().type == TokenType::kString || cur().type == TokenType::kInt ||
                   cur().type == TokenType::kFloat || is_op("[") || is_op("{")) {
          ExprPtr arg = parse_primary();
          if (arg) arg = parse_postfix(std::move(arg));
          if (!arg) return nullptr;
          t->args.push_back(std::move(arg));
        }
        e = finish(std::move(t));
      } else if (is_op("(")) {
        e = parse_call(std::move(e), Expr::Kind::kCall, line);
      } else {
        break;
      }
    }
    return e;
  }

  std::vector<Token> toks_;
  size_t pos_ = 0;
  int recursion_ = 0;
  int loop_depth_ = 0;
  Status error_;
};

}  // namespace

Result<Body> parse_template(std::string_view source) {
  AIGC_ASSIGN_OR_RETURN(std::vector<Token> tokens, tokenize(source));
  return Parser(std::move(tokens)).run();
}

}  // namespace aigc::jinja
