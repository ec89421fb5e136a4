// Grammar and GrammarMatcher: byte-level CFG matching with a set of stacks.
#include "text/grammar/grammar.h"

#include <algorithm>

#include "core/assert.h"

namespace aigc {

namespace {
// Bound on reference expansion without consuming a byte; a deeper chain means
// a left-recursive (or absurd) grammar, which the compiler never writes.
constexpr int kMaxExpandDepth = 512;
// Bound on live stacks; ambiguous grammars beyond this are cut, never hang.
constexpr size_t kMaxStacks = 4096;
}  // namespace

int Grammar::add_rule(std::string name) {
  names_.push_back(std::move(name));
  rules_.emplace_back();
  return int(rules_.size()) - 1;
}

void Grammar::add_alternative(int rule, std::vector<GrammarElement> sequence) {
  rules_[size_t(rule)].push_back(std::move(sequence));
}

GrammarElement Grammar::literal_byte(uint8_t b) {
  GrammarElement e;
  e.bytes.set(b);
  return e;
}

GrammarElement Grammar::byte_range(uint8_t lo, uint8_t hi) {
  GrammarElement e;
  for (int b = lo; b <= hi; ++b) e.bytes.set(size_t(b));
  return e;
}

GrammarElement Grammar::ref(int rule) {
  GrammarElement e;
  e.rule = rule;
  return e;
}

std::vector<GrammarElement> Grammar::literal(std::string_view s) {
  std::vector<GrammarElement> seq;
  for (char c : s) seq.push_back(literal_byte(uint8_t(c)));
  return seq;
}

GrammarMatcher::GrammarMatcher(const Grammar& grammar) : grammar_(&grammar) {
  AIGC_ASSERT(grammar.n_rules() > 0);
  for (int a = 0; a < int(grammar.alternatives(0).size()); ++a) expand(Stack{{0, a, 0}}, stacks_, 0);
  normalise(stacks_);
}

void GrammarMatcher::expand(Stack s, std::vector<Stack>& out, int depth) const {
  if (depth > kMaxExpandDepth || out.size() >= kMaxStacks) return;
  while (!s.empty()) {
    const Frame top = s.back();
    const auto& seq = grammar_->alternatives(top.rule)[size_t(top.alt)];
    if (top.pos == int(seq.size())) {  // alternative finished: return to the parent
      s.pop_back();
      continue;
    }
    const GrammarElement& e = seq[size_t(top.pos)];
    if (e.rule < 0) break;  // a byte set on top: ready
    s.back().pos++;         // the parent continues after the reference
    if (s.back().pos == int(seq.size())) s.pop_back();  // tail call: nothing left in the parent
    const int n_alt = int(grammar_->alternatives(e.rule).size());
    for (int a = 0; a < n_alt; ++a) {
      Stack child = s;
      child.push_back({e.rule, a, 0});
      expand(std::move(child), out, depth + 1);
    }
    return;
  }
  out.push_back(std::move(s));
}

void GrammarMatcher::normalise(std::vector<Stack>& stacks) const {
  std::sort(stacks.begin(), stacks.end());
  stacks.erase(std::unique(stacks.begin(), stacks.end()), stacks.end());
}

std::vector<GrammarMatcher::Stack> GrammarMatcher::advance(const std::vector<Stack>& stacks, uint8_t b) const {
  std::vector<Stack> next;
  for (const Stack& s : stacks) {
    if (s.empty()) continue;
    const Frame& top = s.back();
    const GrammarElement& e = grammar_->alternatives(top.rule)[size_t(top.alt)][size_t(top.pos)];
    if (!e.bytes.test(b)) continue;
    Stack moved = s;
    moved.back().pos++;
    expand(std::move(moved), next, 0);
  }
  normalise(next);
  return next;
}

bool GrammarMatcher::accept_byte(uint8_t b) {
  std::vector<Stack> next = advance(stacks_, b);
  if (next.empty()) return false;
  stacks_ = std::move(next);
  return true;
}

bool GrammarMatcher::accept_bytes(std::string_view s) {
  std::vector<Stack> cur = stacks_;
  for (char c : s) {
    cur = advance(cur, uint8_t(c));
    if (cur.empty()) return false;
  }
  stacks_ = std::move(cur);
  return true;
}

bool GrammarMatcher::can_accept(std::string_view s) const {
  std::vector<Stack> cur = stacks_;
  for (char c : s) {
    cur = advance(cur, uint8_t(c));
    if (cur.empty()) return false;
  }
  return true;
}

bool GrammarMatcher::is_complete() const {
  return std::any_of(stacks_.begin(), stacks_.end(), [](const Stack& s) { return s.empty(); });
}

bool GrammarMatcher::is_finished() const {
  return std::all_of(stacks_.begin(), stacks_.end(), [](const Stack& s) { return s.empty(); });
}

}  // namespace aigc
