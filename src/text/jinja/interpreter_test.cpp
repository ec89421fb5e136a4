// Interpreter tests: hostile templates stay bounded (steps, output, depth)
// and fail with a Status; plus Python-compatible value printing.
#include "text/jinja/interpreter.h"

#include <gtest/gtest.h>

#include "text/jinja/template.h"

namespace aigc::jinja {
namespace {

Result<std::string> render(const std::string& source, const RenderLimits& limits = {}) {
  AIGC_ASSIGN_OR_RETURN(Template t, Template::parse(source));
  return t.render(ValueDict{}, limits);
}

void expect_error(const std::string& source, const std::string& needle, const RenderLimits& limits = {}) {
  Result<std::string> r = render(source, limits);
  ASSERT_FALSE(r.ok()) << source << " rendered " << r->size() << " bytes";
  EXPECT_NE(r.status().message().find(needle), std::string::npos) << source << ": " << r.status().message();
}

TEST(JinjaLimits, NestedLoopsHitTheStepLimit) {
  RenderLimits limits;
  limits.max_steps = 100000;
  expect_error("{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}", "steps", limits);
}

TEST(JinjaLimits, RangeIsCapped) { expect_error("{{ range(1000000) | length }}", "range"); }

TEST(JinjaLimits, MacroRecursionIsBounded) {
  expect_error("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "nest deeper");
}

TEST(JinjaLimits, OutputIsBounded) {
  RenderLimits limits;
  limits.max_output_bytes = 1000;
  expect_error("{% for i in range(10000) %}abcdef{% endfor %}", "output exceeds", limits);
}

TEST(JinjaLimits, StringDoublingIsBounded) {
  expect_error("{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
               "too long");
  expect_error("{{ 'x' * 1000000000000 }}", "too long");
  expect_error("{% set ns = namespace(l=[1]) %}{% for i in range(64) %}{% set ns.l = ns.l + ns.l %}{% endfor %}",
               "too long");
}

TEST(JinjaLimits, ReplaceBlowupIsRefusedBeforeBuilding) {
  RenderLimits limits;
  limits.max_output_bytes = 1 << 16;
  expect_error("{% set s = 'a' * 60000 %}{{ s.replace('a', s) }}", "too long", limits);
}

TEST(JinjaLimits, DeepExpressionsAreRefusedAtParse) {
  std::string deep = "{{ " + std::string(5000, '-') + "1 }}";
  EXPECT_FALSE(Template::parse(deep).ok());
  std::string nots = "{{ ";
  for (int i = 0; i < 5000; ++i) nots += "not ";
  EXPECT_FALSE(Template::parse(nots + "1 }}").ok());
  std::string chain = "{{ 1";
  for (int i = 0; i < 5000; ++i) chain += " + 1";
  EXPECT_FALSE(Template::parse(chain + " }}").ok());
  std::string filters = "{{ 'a'";
  for (int i = 0; i < 5000; ++i) filters += " | trim";
  EXPECT_FALSE(Template::parse(filters + " }}").ok());
  std::string parens = "{{ " + std::string(300, '(') + "1" + std::string(300, ')') + " }}";
  EXPECT_FALSE(Template::parse(parens).ok());
}

TEST(JinjaLimits, DeepStatementsAreRefusedAtParse) {
  std::string s;
  for (int i = 0; i < 5000; ++i) s += "{% if true %}";
  EXPECT_FALSE(Template::parse(s).ok());
}

TEST(JinjaLimits, DeepValuesAreRefused) {
  expect_error("{% set ns = namespace(l=[]) %}{% for i in range(1000) %}{% set ns.l = [ns.l] %}{% endfor %}{{ ns.l }}",
               "nests deeper");
}

TEST(JinjaLimits, NamespaceCyclesAreRefused) {
  expect_error("{% set a = namespace() %}{% set a.self = [a] %}", "namespace inside a namespace");
}

TEST(JinjaErrors, SyntaxErrorsNameTheLine) {
  Result<Template> t = Template::parse("a\nb\n{{ 1 + }}");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("line 3"), std::string::npos) << t.status().message();
  for (const char* bad : {"{{ x", "{% if x %}", "{# open", "{{ 'unterminated }}", "{% endfor %}", "{{ a.  }}",
                          "{% for %}", "{{ x | }}", "{% raw %}x", "{{ '\\x4' }}", "{{ 99999999999999999999 }}",
                          "{% break %}", "{% set %}", "{{ ) }}", "{{ [1, 2 }}", "{% macro %}"}) {
    EXPECT_FALSE(Template::parse(bad).ok()) << bad;
  }
}

TEST(JinjaErrors, RuntimeErrorsNameTheLine) {
  Result<std::string> r = render("ok\n{{ missing.attr }}");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("line 2"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("'missing' is undefined"), std::string::npos) << r.status().message();
}

TEST(JinjaValue, FloatReprMatchesPython) {
  EXPECT_EQ(float_repr(1.0), "1.0");
  EXPECT_EQ(float_repr(0.1), "0.1");
  EXPECT_EQ(float_repr(1e16), "1e+16");
  EXPECT_EQ(float_repr(1e15), "1000000000000000.0");
  EXPECT_EQ(float_repr(1e-4), "0.0001");
  EXPECT_EQ(float_repr(1e-5), "1e-05");
  EXPECT_EQ(float_repr(-2.5e-300), "-2.5e-300");
  EXPECT_EQ(float_repr(123.456), "123.456");
  EXPECT_EQ(float_repr(-0.0), "-0.0");
}

TEST(JinjaValue, ReprAndJson) {
  Value v = Value::list({Value::string("it's"), Value::none(), Value::boolean(true), Value::floating(2.0)});
  EXPECT_EQ(repr(v), "[\"it's\", None, True, 2.0]");
  JsonFormat f;
  Result<std::string> j = to_json(v, f);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(*j, "[\"it's\", null, true, 2.0]");
  f.ensure_ascii = true;
  EXPECT_EQ(*to_json(Value::string("é😀"), f), "\"\\u00e9\\ud83d\\ude00\"");
  EXPECT_FALSE(to_json(Value::undefined("x"), JsonFormat{}).ok());
}

}  // namespace
}  // namespace aigc::jinja
