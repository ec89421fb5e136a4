// Tests for the generation loop on the reference llama model: greedy output
// equals the PyTorch reference's continuation, stop strings cut the text,
// grammar-constrained output parses and validates, and a cached prefix is
// reused without changing the result.
#include "text/generate.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "text/grammar/json_schema.h"
#include "text/tokenizer/streaming_decoder.h"

namespace aigc {
namespace {

struct Fixture {
  std::unique_ptr<LlmModel> model;
  std::optional<Tokenizer> tokenizer;
  std::vector<int32_t> prompt, greedy;
};

Fixture load() {
  const std::string dir = std::string(AIGC_BUILD_TESTDATA_DIR) + "/llm/";
  Fixture f;
  auto m = LlmModel::load(dir + "llama.gguf");
  EXPECT_TRUE(m.ok()) << m.status().to_string();
  if (!m.ok()) return f;
  f.model = std::move(m).value();
  auto t = Tokenizer::from_gguf(f.model->file());
  EXPECT_TRUE(t.ok()) << t.status().to_string();
  if (t.ok()) f.tokenizer.emplace(std::move(t).value());
  std::ifstream in(dir + "llama.json");
  const auto j = nlohmann::json::parse(in);
  f.prompt = j["prompt"].get<std::vector<int32_t>>();
  f.greedy = j["greedy"].get<std::vector<int32_t>>();
  return f;
}

// The text a stream of `ids` decodes to (random byte tokens are not always
// valid UTF-8; the stream replaces what is not).
std::string stream_text(const Tokenizer& tok, const std::vector<int32_t>& ids) {
  StreamingDecoder d(tok);
  std::string s;
  for (int32_t id : ids) s += *d.push(id);
  return s + d.finish();
}

GenerateOptions greedy_options(int n) {
  GenerateOptions o;
  o.n_predict = n;
  o.sampling.temperature = 0;
  return o;
}

TEST(Generate, GreedyMatchesReferenceAndStreamsEverything) {
  Fixture f = load();
  ASSERT_TRUE(f.model && f.tokenizer);
  LlmContext ctx(*f.model, 128);
  std::string streamed;
  auto r = generate(ctx, *f.tokenizer, f.prompt, greedy_options(int(f.greedy.size())),
                    [&](std::string_view s) { streamed += s; return true; });
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->tokens, f.greedy);
  EXPECT_EQ(r->text, stream_text(*f.tokenizer, f.greedy));
  EXPECT_EQ(streamed, r->text);
  EXPECT_EQ(r->n_generated, int(f.greedy.size()));
  EXPECT_EQ(r->stop_reason, "length");
}

TEST(Generate, StopStringEndsTextBeforeIt) {
  Fixture f = load();
  ASSERT_TRUE(f.model && f.tokenizer);
  const std::string full = stream_text(*f.tokenizer, f.greedy);
  ASSERT_GT(full.size(), 8u);
  GenerateOptions o = greedy_options(int(f.greedy.size()));
  o.stop = {full.substr(full.size() / 2, 3)};
  LlmContext ctx(*f.model, 128);
  std::string streamed;
  auto r = generate(ctx, *f.tokenizer, f.prompt, o, [&](std::string_view s) { streamed += s; return true; });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stop_reason, "stop");
  EXPECT_EQ(r->text, full.substr(0, full.find(o.stop[0])));
  EXPECT_EQ(streamed, r->text);
}

TEST(Generate, CachedPrefixIsReused) {
  Fixture f = load();
  ASSERT_TRUE(f.model && f.tokenizer);
  LlmContext ctx(*f.model, 128);
  std::vector<int32_t> cached;
  GenerateOptions o = greedy_options(4);
  o.cached_tokens = &cached;
  auto first = generate(ctx, *f.tokenizer, f.prompt, o, nullptr);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->n_prompt_evaluated, int(f.prompt.size()));
  // Continue from the prompt + the greedy tokens: only the new tail is evaluated.
  std::vector<int32_t> longer = f.prompt;
  longer.insert(longer.end(), f.greedy.begin(), f.greedy.begin() + 6);
  auto second = generate(ctx, *f.tokenizer, longer, o, nullptr);
  ASSERT_TRUE(second.ok());
  EXPECT_LT(second->n_prompt_evaluated, int(longer.size()));
  LlmContext fresh(*f.model, 128);
  auto alone = generate(fresh, *f.tokenizer, longer, greedy_options(4), nullptr);
  ASSERT_TRUE(alone.ok());
  EXPECT_EQ(second->text, alone->text);
}

TEST(Generate, JsonSchemaOutputValidates) {
  Fixture f = load();
  ASSERT_TRUE(f.model && f.tokenizer);
  auto g = grammar_from_json_schema(nlohmann::ordered_json::parse(
      R"({"type": "object", "properties": {"n": {"type": "integer"}, "tag": {"type": "string", "enum": ["red", "blue"]}},
          "required": ["n", "tag"]})"));
  ASSERT_TRUE(g.ok());
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    GenerateOptions o;
    o.n_predict = 120;
    o.sampling.temperature = 1.0f;
    o.sampling.seed = seed;
    o.grammar = &*g;
    LlmContext ctx(*f.model, 256);
    auto r = generate(ctx, *f.tokenizer, f.prompt, o, nullptr);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    auto v = nlohmann::json::parse(r->text, nullptr, false);
    ASSERT_FALSE(v.is_discarded()) << "not JSON: " << r->text << " (" << r->stop_reason << ")";
    EXPECT_TRUE(v["n"].is_number_integer()) << r->text;
    EXPECT_TRUE(v["tag"] == "red" || v["tag"] == "blue") << r->text;
  }
}

TEST(Generate, PromptLongerThanContext) {
  Fixture f = load();
  ASSERT_TRUE(f.model && f.tokenizer);
  LlmContext ctx(*f.model, 8);
  auto r = generate(ctx, *f.tokenizer, f.prompt, greedy_options(2), nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("--truncate"), std::string::npos);
  GenerateOptions o = greedy_options(2);
  o.truncate = true;
  auto t = generate(ctx, *f.tokenizer, f.prompt, o, nullptr);
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ(t->n_prompt, 4);
}

}  // namespace
}  // namespace aigc
