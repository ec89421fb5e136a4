// Grammar: a context-free grammar over bytes, and GrammarMatcher, which
// follows a byte string through it so that generation can be constrained
// (only tokens whose bytes keep the output inside the grammar are allowed).
//
// A grammar is a list of rules; a rule is a list of alternatives; an
// alternative is a sequence of elements, each a set of bytes or a reference to
// a rule. Rules must not be left-recursive (the JSON-schema compiler only
// writes right recursion). Working on bytes, not code points, lets byte-level
// tokens that hold part of a UTF-8 character be matched exactly.
//
// GrammarMatcher keeps the set of parse stacks that the bytes so far allow
// (as llama.cpp's grammar engine does). Copyable: copy it to try a token
// without committing. Not thread-safe; copies are independent.
#pragma once

#include <bitset>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace aigc {

struct GrammarElement {
  std::bitset<256> bytes;  // used when rule < 0
  int rule = -1;           // >= 0: a reference to rule `rule`
};

class Grammar {
 public:
  // Adds an empty rule and returns its index (rule 0 is the start rule).
  int add_rule(std::string name);
  void add_alternative(int rule, std::vector<GrammarElement> sequence);

  static GrammarElement literal_byte(uint8_t b);
  static GrammarElement byte_range(uint8_t lo, uint8_t hi);
  static GrammarElement ref(int rule);
  // The bytes of `s` as a sequence of single-byte elements.
  static std::vector<GrammarElement> literal(std::string_view s);

  int n_rules() const { return int(rules_.size()); }
  const std::string& rule_name(int rule) const { return names_[size_t(rule)]; }
  const std::vector<std::vector<GrammarElement>>& alternatives(int rule) const { return rules_[size_t(rule)]; }

 private:
  std::vector<std::string> names_;
  std::vector<std::vector<std::vector<GrammarElement>>> rules_;
};

class GrammarMatcher {
 public:
  // Starts at rule 0 of `grammar`, which must outlive the matcher.
  explicit GrammarMatcher(const Grammar& grammar);

  // Consumes one byte; false (and the matcher unchanged) if the grammar does not allow it.
  bool accept_byte(uint8_t b);
  // Consumes all bytes or none; false if some byte is not allowed.
  bool accept_bytes(std::string_view s);
  // Whether `s` could be consumed now (does not change the matcher).
  bool can_accept(std::string_view s) const;
  // Whether the bytes so far form a complete sentence of the grammar.
  bool is_complete() const;
  // Whether no byte at all can follow (complete and nothing more allowed).
  bool is_finished() const;

 private:
  struct Frame {
    int rule, alt, pos;
    bool operator==(const Frame&) const = default;
    auto operator<=>(const Frame&) const = default;
  };
  using Stack = std::vector<Frame>;

  // Appends to `out` every stack reachable from `s` whose top is a byte set
  // (or the empty stack, meaning complete), expanding references and popping
  // finished alternatives.
  void expand(Stack s, std::vector<Stack>& out, int depth) const;
  void normalise(std::vector<Stack>& stacks) const;  // sort + dedupe
  std::vector<Stack> advance(const std::vector<Stack>& stacks, uint8_t b) const;

  const Grammar* grammar_;
  std::vector<Stack> stacks_;
};

}  // namespace aigc
