// The LLM forward pass on Q8_0 and Q4_K weights against the PyTorch reference
// run on the DEQUANTIZED weights (tools/reference/quantized_llm_ref.py, run at
// build time), and `aigc quantize` against quants.py's bytes; each at every
// ISA (scalar, AVX2, AVX-512) this CPU has.
//
// Where the error comes from, and the tolerances that follow:
// - A batch of at least matmul_gemm_min_tokens tokens runs matmul's GEMM
//   path. Scalar: weights dequantized to F32 exactly as the reference
//   dequantizes them, F32 activations; only float32 arithmetic differs:
//   1e-4 relative, as for F32 weights (llm_test.cpp). AVX2 and AVX-512:
//   gemm_q8 rounds the activations to 8 bits per 32 elements; the reference
//   runs with the same rounding too (logits_gemm_q8), and the bounds are as
//   for the dot path below, with gemm_q8_rel_err for act_quant_rel_err.
// - One token at a time runs the dot-product path, which rounds every matrix
//   product's input to Q8_0 (Q8_0 weights) or Q8_K (Q4_K weights). The
//   reference measures what that rounding costs (act_quant_rel_err, 2.4e-2 to
//   3.4e-2 of the largest logit on these random, untrained models, which
//   amplify any perturbation layer after layer) and also runs with the same
//   rounding (logits_act_quant). The C++ logits must be closer to that rounded
//   run than the rounded run is to the exact one (measured: 0.35 to 0.5 of
//   it; what remains comes from inputs that float32 noise puts on the other
//   side of a rounding boundary, amplified the same way), and within twice
//   the rounding cost of the exact reference.
// - Greedy continuation, teacher-forced on the reference's tokens: at every
//   step whose top-two margin in the reference exceeds twice the largest
//   logit error allowed above, the C++ argmax must be the reference's; steps
//   closer than that are near-ties, where either choice is right.
// - Perplexity (windows of 32 tokens) within kPplRel of the reference run
//   that rounds as the path the windows take.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <nlohmann/json.hpp>

#include "kernels/matmul.h"
#include "kernels/op_test_util.h"
#include "text/llm/llm.h"

namespace aigc {
namespace {

constexpr double kGemmRel = 1e-4;
constexpr double kPplRel = 5e-3;

const char* kCases[] = {"llama-q8_0", "llama-q4_k", "qwen2-q4_k"};

std::string data_dir() { return std::string(AIGC_BUILD_TESTDATA_DIR) + "/llm/"; }

struct Case {
  std::unique_ptr<LlmModel> model;
  nlohmann::json expected;
  int n_vocab = 0;
};

Case load_case(const std::string& name) {
  Case c;
  auto model = LlmModel::load(data_dir() + name + ".gguf");
  EXPECT_TRUE(model.ok()) << model.status().to_string();
  if (model.ok()) c.model = std::move(model).value();
  if (c.model) c.n_vocab = c.model->hparams().n_vocab;
  std::ifstream in(data_dir() + name + ".json");
  EXPECT_TRUE(in.good()) << data_dir() + name + ".json";
  c.expected = nlohmann::json::parse(in);
  return c;
}

using Rows = std::vector<std::vector<double>>;

double max_abs(const Rows& rows) {
  double m = 0;
  for (const auto& r : rows)
    for (double v : r) m = std::max(m, std::fabs(v));
  return m;
}

// max |got - want| / max |want|.
double relative_error(const std::vector<float>& got, const Rows& want, int n_vocab) {
  double max_diff = 0;
  for (size_t t = 0; t < want.size(); ++t)
    for (int i = 0; i < n_vocab; ++i)
      max_diff = std::max(max_diff, std::fabs(double(got[t * size_t(n_vocab) + size_t(i)]) - want[t][size_t(i)]));
  return max_diff / max_abs(want);
}

std::vector<BatchToken> sequence(const std::vector<int>& tokens, int pos0, bool all_logits) {
  std::vector<BatchToken> b;
  for (size_t i = 0; i < tokens.size(); ++i) b.push_back({tokens[i], 0, pos0 + int(i), all_logits || i + 1 == tokens.size()});
  return b;
}

int argmax(const float* row, int n) { return int(std::max_element(row, row + n) - row); }

// Logits of every prompt position, decoding one token at a time.
std::vector<float> token_by_token(LlmContext& ctx, const std::vector<int>& prompt) {
  std::vector<float> all, one;
  for (size_t i = 0; i < prompt.size(); ++i) {
    Status s = ctx.decode(sequence({prompt[i]}, int(i), true), &one);
    EXPECT_TRUE(s.ok()) << s.to_string();
    all.insert(all.end(), one.begin(), one.end());
  }
  return all;
}

class LlmQuantReference : public CaseIsaTest {};

// How a batch of n_tokens rounds the activations (see the top of the file):
// the name of the reference run that rounds the same way ("" for none) and
// that rounding's cost (0 for none).
struct Rounding {
  std::string logits_key, ppl_key;
  double rel_err;
};

Rounding rounding_of(const Case& c, size_t n_tokens) {
  const DType w_type = c.model->weights().layers[0].wq.dtype;
  if (int64_t(n_tokens) < matmul_gemm_min_tokens(w_type))
    return {"logits_act_quant", "value_act_quant", c.expected["act_quant_rel_err"].get<double>()};
  if (matmul_quantizes_activations(w_type, int64_t(n_tokens)))
    return {"logits_gemm_q8", "value_gemm_q8", c.expected["gemm_q8_rel_err"].get<double>()};
  return {"", "value", 0.0};
}

// The relative logit error a batch of n_tokens may have against the exact reference.
double batched_prompt_rel(const Case& c, size_t n_tokens) {
  const Rounding r = rounding_of(c, n_tokens);
  return r.logits_key.empty() ? kGemmRel : 2 * r.rel_err;
}

TEST_P(LlmQuantReference, BatchedPromptMatchesDequantizedReference) {
  Case c = load_case(test_case());
  ASSERT_TRUE(c.model);
  const auto prompt = c.expected["prompt"].get<std::vector<int>>();
  LlmContext ctx(*c.model, 128);
  std::vector<float> logits;
  ASSERT_TRUE(ctx.decode(sequence(prompt, 0, true), &logits).ok());
  ASSERT_EQ(logits.size(), prompt.size() * size_t(c.n_vocab));
  const double allowed = batched_prompt_rel(c, prompt.size());
  const double err = relative_error(logits, c.expected["logits"].get<Rows>(), c.n_vocab);
  EXPECT_LE(err, allowed) << "max relative error " << err;
  if (const Rounding r = rounding_of(c, prompt.size()); !r.logits_key.empty()) {
    const double err_rounded = relative_error(logits, c.expected[r.logits_key].get<Rows>(), c.n_vocab);
    EXPECT_LE(err_rounded, r.rel_err) << "vs the reference with inputs rounded as this path rounds them ("
                                      << r.logits_key << "): " << err_rounded << ", the rounding costs " << r.rel_err;
  }
  // The same logits against the model before quantization: within what quantizing the weights costs.
  const double wq = c.expected["weight_quant_rel_err"].get<double>();
  const double err_f32 = relative_error(logits, c.expected["logits_f32"].get<Rows>(), c.n_vocab);
  EXPECT_LE(err_f32, wq * (1 + 1e-3) + allowed) << "vs the F32 model: " << err_f32 << ", quantization costs " << wq;
}

TEST_P(LlmQuantReference, TokenByTokenWithinActivationRounding) {
  Case c = load_case(test_case());
  ASSERT_TRUE(c.model);
  const auto prompt = c.expected["prompt"].get<std::vector<int>>();
  LlmContext ctx(*c.model, 128);
  const std::vector<float> logits = token_by_token(ctx, prompt);
  ASSERT_EQ(logits.size(), prompt.size() * size_t(c.n_vocab));
  const double err_rounded = relative_error(logits, c.expected["logits_act_quant"].get<Rows>(), c.n_vocab);
  const double rounding = c.expected["act_quant_rel_err"].get<double>();
  EXPECT_LE(err_rounded, rounding) << "vs the reference with rounded inputs: " << err_rounded << ", the rounding costs "
                                   << rounding;
  const double err = relative_error(logits, c.expected["logits"].get<Rows>(), c.n_vocab);
  EXPECT_LE(err, 2 * rounding) << "vs the exact reference: " << err << ", the rounding costs " << rounding;
}

TEST_P(LlmQuantReference, GreedyAgreesWhereMarginsAllow) {
  Case c = load_case(test_case());
  ASSERT_TRUE(c.model);
  auto tokens = c.expected["prompt"].get<std::vector<int>>();
  const auto greedy = c.expected["greedy"].get<std::vector<int>>();
  const auto margins = c.expected["greedy_margins"].get<std::vector<double>>();
  const double max_logit = max_abs(c.expected["logits"].get<Rows>());
  // The largest logit error allowed: the batched prompt's for step 0, the dot path's after.
  const double rounding = c.expected["act_quant_rel_err"].get<double>();
  LlmContext ctx(*c.model, 128);
  std::vector<float> logits;
  ASSERT_TRUE(ctx.decode(sequence(tokens, 0, false), &logits).ok());
  int checked = 0;
  for (size_t i = 0; i < greedy.size(); ++i) {
    const double bound = (i == 0 ? batched_prompt_rel(c, tokens.size()) : 2 * rounding) * max_logit;
    if (margins[i] > 2 * bound) {
      EXPECT_EQ(argmax(logits.data(), c.n_vocab), greedy[i]) << "step " << i << ", reference margin " << margins[i];
      ++checked;
    }
    ASSERT_TRUE(ctx.decode(sequence({greedy[i]}, int(tokens.size()), true), &logits).ok());
    tokens.push_back(greedy[i]);
  }
  EXPECT_GE(checked, 1) << "every step was a near-tie";
  std::printf("  %d of %zu greedy steps decisive\n", checked, greedy.size());
}

TEST_P(LlmQuantReference, PerplexityClose) {
  Case c = load_case(test_case());
  ASSERT_TRUE(c.model);
  const auto& p = c.expected["perplexity"];
  const auto tokens = p["tokens"].get<std::vector<int>>();
  const int n_ctx = p["n_ctx"].get<int>(), bos = p["bos"].get<int>();
  LlmContext ctx(*c.model, n_ctx);
  double nll = 0;
  int count = 0;
  std::vector<float> logits;
  for (size_t w0 = 0; w0 + size_t(n_ctx) <= tokens.size(); w0 += size_t(n_ctx)) {
    std::vector<int> window(tokens.begin() + long(w0), tokens.begin() + long(w0) + n_ctx);
    window[0] = bos;
    ASSERT_TRUE(ctx.decode(sequence(window, 0, true), &logits).ok());
    for (int j = n_ctx / 2; j < n_ctx - 1; ++j) {
      const float* row = logits.data() + size_t(j) * size_t(c.n_vocab);
      double mx = row[0], sum = 0;
      for (int i = 0; i < c.n_vocab; ++i) mx = std::max(mx, double(row[i]));
      for (int i = 0; i < c.n_vocab; ++i) sum += std::exp(double(row[i]) - mx);
      nll -= double(row[window[size_t(j) + 1]]) - mx - std::log(sum);
      ++count;
    }
  }
  const std::string key = rounding_of(c, size_t(n_ctx)).ppl_key;
  const double ppl = std::exp(nll / count), want = p[key].get<double>();
  EXPECT_NEAR(ppl / want, 1.0, kPplRel) << "perplexity " << ppl << " vs the reference's " << key << " " << want
                                        << " (exact inputs: " << p["value"].get<double>() << ")";
}

// `aigc quantize` of the F32 model writes the same tensors, byte for byte, as quants.py.
TEST_P(LlmQuantReference, QuantizeCommandMatchesPython) {
  const std::string ours = data_dir() + test_case() + ".aigc.gguf";
  if (!std::ifstream(ours).good())
    GTEST_SKIP() << ours << " is absent: it is written by `aigc quantize` when the whole project is built";
  auto a = GgufFile::open(ours);
  auto b = GgufFile::open(data_dir() + test_case() + ".gguf");
  ASSERT_TRUE(a.ok()) << a.status().to_string();
  ASSERT_TRUE(b.ok()) << b.status().to_string();
  ASSERT_EQ(a->tensors().size(), b->tensors().size());
  for (const GgufTensorInfo& want : b->tensors()) {
    const GgufTensorInfo* got = a->find_tensor(want.name);
    ASSERT_NE(got, nullptr) << want.name;
    EXPECT_EQ(got->tensor.dtype, want.tensor.dtype) << want.name;
    EXPECT_EQ(got->tensor.shape_string(), want.tensor.shape_string()) << want.name;
    ASSERT_EQ(got->nbytes, want.nbytes) << want.name;
    EXPECT_EQ(std::memcmp(got->tensor.data, want.tensor.data, want.nbytes), 0) << want.name << ": bytes differ";
  }
}

AIGC_INSTANTIATE_CASE_ISA_TEST(LlmQuantReference, kCases);

}  // namespace
}  // namespace aigc
