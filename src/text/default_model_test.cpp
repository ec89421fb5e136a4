// The shipped default text model (models/text/, trained by
// scripts/train_default_models) against the reference its evaluation wrote
// from the same weights in PyTorch (evaluate_text_model.py, the Q8_0 weights
// dequantized, float32): the same token ids for a prompt, a chat turn and a
// held-out excerpt; the same greedy continuations for as long as the
// reference's best logit leads the second by more than kMargin (Q8_0
// activation rounding may swap near-ties); the excerpt's perplexity within
// 1% relative.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "text/chat_template.h"
#include "text/generate.h"
#include "text/llm/llm.h"
#include "text/tokenizer/tokenizer.h"

namespace aigc {
namespace {

const std::string kModelDir = std::string(AIGC_SOURCE_DIR) + "/models/text/";
constexpr const char* kModel = "aigc-kjv-3m-q8_0";
constexpr double kMargin = 0.2;  // logits

struct Shipped {
  std::unique_ptr<LlmModel> model;
  std::optional<Tokenizer> tokenizer;
  nlohmann::json ref;
};

Shipped load_shipped() {
  Shipped s;
  auto model = LlmModel::load(kModelDir + kModel + ".gguf");
  EXPECT_TRUE(model.ok()) << model.status().to_string();
  if (!model.ok()) return s;
  s.model = std::move(model).value();
  auto tok = Tokenizer::from_gguf(s.model->file());
  EXPECT_TRUE(tok.ok()) << tok.status().to_string();
  if (tok.ok()) s.tokenizer.emplace(std::move(tok).value());
  std::ifstream in(kModelDir + kModel + ".reference.json");
  EXPECT_TRUE(in.good()) << kModelDir << kModel << ".reference.json";
  s.ref = nlohmann::json::parse(in);
  return s;
}

// How many leading steps of the reference's greedy run are decisive: each
// step before and including it has its best logit ahead by more than kMargin.
size_t decisive_steps(const nlohmann::json& margins) {
  size_t n = 0;
  while (n < margins.size() && margins[n].get<double>() > kMargin) ++n;
  return n;
}

std::vector<int32_t> ids(const nlohmann::json& j) { return j.get<std::vector<int32_t>>(); }

TEST(DefaultTextModel, LoadsAsALlamaWithItsTokenizer) {
  Shipped s = load_shipped();
  ASSERT_TRUE(s.model && s.tokenizer);
  EXPECT_EQ(s.model->file().get_string("general.architecture").value(), "llama");
  EXPECT_EQ(s.tokenizer->n_vocab(), 4096);
  auto prompt = s.tokenizer->encode(s.ref["prompt"].get<std::string>(), /*add_special=*/true, false);
  ASSERT_TRUE(prompt.ok());
  EXPECT_EQ(*prompt, ids(s.ref["prompt_ids"]));
  auto excerpt = s.tokenizer->encode(s.ref["excerpt"]["text"].get<std::string>(), false, false);
  ASSERT_TRUE(excerpt.ok());
  EXPECT_EQ(*excerpt, ids(s.ref["excerpt"]["ids"]));
}

TEST(DefaultTextModel, GreedyContinuationMatchesTheReference) {
  Shipped s = load_shipped();
  ASSERT_TRUE(s.model && s.tokenizer);
  const std::vector<int32_t> want = ids(s.ref["greedy"]);
  const size_t n = decisive_steps(s.ref["greedy_margins"]);
  ASSERT_GE(n, 4u) << "the reference's continuation has a near-tie early; nothing to compare";
  GenerateOptions options;
  options.n_predict = int(n);
  options.sampling.temperature = 0;
  LlmContext ctx(*s.model, 256);
  auto r = generate(ctx, *s.tokenizer, ids(s.ref["prompt_ids"]), options, {});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->tokens, std::vector<int32_t>(want.begin(), want.begin() + long(n)));
}

TEST(DefaultTextModel, ChatTurnRendersAndAnswersAsTheReference) {
  Shipped s = load_shipped();
  ASSERT_TRUE(s.model && s.tokenizer);
  auto tmpl = ChatTemplate::parse(s.model->file().get_string("tokenizer.chat_template").value());
  ASSERT_TRUE(tmpl.ok()) << tmpl.status().to_string();
  ChatInput input;
  input.bos_token = s.tokenizer->token_to_piece(s.tokenizer->bos_id(), true);
  input.eos_token = s.tokenizer->token_to_piece(s.tokenizer->eos_id(), true);
  input.add_generation_prompt = true;
  input.messages.push_back({{"role", "user"}, {"content", s.ref["chat_user"].get<std::string>()}});
  auto rendered = tmpl->apply(input);
  ASSERT_TRUE(rendered.ok()) << rendered.status().to_string();
  auto prompt = s.tokenizer->encode(*rendered, /*add_special=*/false, /*parse_special=*/true);
  ASSERT_TRUE(prompt.ok());
  EXPECT_EQ(*prompt, ids(s.ref["chat_prompt_ids"]));

  const std::vector<int32_t> want = ids(s.ref["chat_greedy"]);
  const size_t n = decisive_steps(s.ref["chat_greedy_margins"]);
  ASSERT_GE(n, 4u) << "the reference's answer has a near-tie early; nothing to compare";
  GenerateOptions options;
  options.n_predict = int(n);
  options.sampling.temperature = 0;
  LlmContext ctx(*s.model, 256);
  auto r = generate(ctx, *s.tokenizer, *prompt, options, {});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  // generate() stops at EOS without returning it
  std::vector<int32_t> expected(want.begin(), want.begin() + long(n));
  const bool ends = !expected.empty() && expected.back() == s.tokenizer->eos_id();
  if (ends) expected.pop_back();
  EXPECT_EQ(r->tokens, expected);
  if (ends) {
    EXPECT_EQ(r->stop_reason, "eos");
  }
}

TEST(DefaultTextModel, ExcerptPerplexityMatchesTheReference) {
  Shipped s = load_shipped();
  ASSERT_TRUE(s.model && s.tokenizer);
  const auto& e = s.ref["excerpt"];
  const std::vector<int32_t> tokens = ids(e["ids"]);
  const int n_ctx = e["n_ctx"].get<int>();
  const int n_vocab = s.tokenizer->n_vocab();
  LlmContext ctx(*s.model, n_ctx);
  double nll = 0;
  int count = 0;
  std::vector<float> logits;
  for (size_t w0 = 0; w0 + size_t(n_ctx) <= tokens.size(); w0 += size_t(n_ctx)) {
    std::vector<BatchToken> batch;
    for (int j = 0; j < n_ctx; ++j)
      batch.push_back({j == 0 ? s.tokenizer->bos_id() : tokens[w0 + size_t(j)], 0, j, true});
    ASSERT_TRUE(ctx.decode(batch, &logits).ok());
    for (int j = n_ctx / 2; j < n_ctx - 1; ++j) {
      const float* row = logits.data() + size_t(j) * size_t(n_vocab);
      double mx = row[0], sum = 0;
      for (int i = 0; i < n_vocab; ++i) mx = std::max(mx, double(row[i]));
      for (int i = 0; i < n_vocab; ++i) sum += std::exp(double(row[i]) - mx);
      nll -= double(row[tokens[w0 + size_t(j) + 1]]) - mx - std::log(sum);
      ++count;
    }
  }
  ASSERT_GT(count, 0);
  const double ppl = std::exp(nll / count), want = e["perplexity"].get<double>();
  EXPECT_NEAR(ppl, want, 0.01 * want);
}

}  // namespace
}  // namespace aigc
