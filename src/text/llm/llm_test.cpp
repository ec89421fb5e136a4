// LLM forward pass against the PyTorch reference (tools/reference/llm_ref.py,
// run at build time into the build tree): logits within 1e-4 relative error
// (F32 weights), identical greedy continuations, the same perplexity to 4
// significant digits, and batches split or interleaved across sequences
// giving the same logits as one sequence alone, and the same bits on any
// thread count; each at every ISA (scalar, AVX2, AVX-512) this CPU has.
#include "text/llm/llm.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <utility>

#include "core/fp16.h"
#include "core/threads.h"
#include "kernels/matmul.h"
#include "kernels/op_test_util.h"

namespace aigc {
namespace {

const char* kCases[] = {"llama", "llama-tied-scaled", "qwen2", "qwen3", "llama3-freqs", "llama-partial-rot"};

struct Case {
  std::unique_ptr<LlmModel> model;
  nlohmann::json expected;
};

Case load_case(const std::string& name) {
  const std::string dir = std::string(AIGC_BUILD_TESTDATA_DIR) + "/llm/";
  Case c;
  auto model = LlmModel::load(dir + name + ".gguf");
  EXPECT_TRUE(model.ok()) << model.status().to_string();
  if (model.ok()) c.model = std::move(model).value();
  std::ifstream in(dir + name + ".json");
  EXPECT_TRUE(in.good()) << dir + name + ".json";
  c.expected = nlohmann::json::parse(in);
  return c;
}

// max |a - b| / max |b| over all logits.
double relative_error(const std::vector<float>& got, const std::vector<std::vector<double>>& want, int n_vocab) {
  double max_diff = 0, max_ref = 0;
  for (size_t t = 0; t < want.size(); ++t)
    for (int i = 0; i < n_vocab; ++i) {
      max_diff = std::max(max_diff, std::fabs(double(got[t * size_t(n_vocab) + size_t(i)]) - want[t][size_t(i)]));
      max_ref = std::max(max_ref, std::fabs(want[t][size_t(i)]));
    }
  return max_diff / max_ref;
}

std::vector<BatchToken> sequence(const std::vector<int>& tokens, int seq, int pos0, bool all_logits) {
  std::vector<BatchToken> b;
  for (size_t i = 0; i < tokens.size(); ++i)
    b.push_back({tokens[i], seq, pos0 + int(i), all_logits || i + 1 == tokens.size()});
  return b;
}

int argmax(const float* row, int n) {
  int best = 0;
  for (int i = 1; i < n; ++i)
    if (row[i] > row[best]) best = i;
  return best;
}

class LlmReference : public CaseIsaTest {};

TEST_P(LlmReference, PromptLogitsMatch) {
  Case c = load_case(test_case());
  ASSERT_TRUE(c.model);
  const int n_vocab = c.model->hparams().n_vocab;
  const auto prompt = c.expected["prompt"].get<std::vector<int>>();
  const auto want = c.expected["logits"].get<std::vector<std::vector<double>>>();
  LlmContext ctx(*c.model, 128);
  std::vector<float> logits;
  ASSERT_TRUE(ctx.decode(sequence(prompt, 0, 0, true), &logits).ok());
  ASSERT_EQ(logits.size(), prompt.size() * size_t(n_vocab));
  const double err = relative_error(logits, want, n_vocab);
  EXPECT_LE(err, 1e-4) << "max relative error " << err;
}

TEST_P(LlmReference, TokenByTokenMatchesOneBatch) {
  Case c = load_case(test_case());
  ASSERT_TRUE(c.model);
  const int n_vocab = c.model->hparams().n_vocab;
  const auto prompt = c.expected["prompt"].get<std::vector<int>>();
  const auto want = c.expected["logits"].get<std::vector<std::vector<double>>>();
  LlmContext ctx(*c.model, 128);
  std::vector<float> all, one;
  for (size_t i = 0; i < prompt.size(); ++i) {
    ASSERT_TRUE(ctx.decode(sequence({prompt[i]}, 0, int(i), true), &one).ok());
    all.insert(all.end(), one.begin(), one.end());
  }
  EXPECT_LE(relative_error(all, want, n_vocab), 1e-4);
}

TEST_P(LlmReference, InterleavedSequencesMatchAlone) {
  Case c = load_case(test_case());
  ASSERT_TRUE(c.model);
  const int n_vocab = c.model->hparams().n_vocab;
  const auto prompt = c.expected["prompt"].get<std::vector<int>>();
  const auto want = c.expected["logits"].get<std::vector<std::vector<double>>>();
  // Sequence 1 holds a different prefix; sequence 0 the prompt. Both decode in the same batches.
  LlmContext ctx(*c.model, 128, 2);
  std::vector<int> other(prompt.rbegin(), prompt.rend());
  std::vector<float> logits;
  const size_t half = prompt.size() / 2;
  std::vector<BatchToken> b1 = sequence(std::vector<int>(prompt.begin(), prompt.begin() + long(half)), 0, 0, false);
  std::vector<BatchToken> o1 = sequence(other, 1, 0, false);
  b1.insert(b1.begin(), o1.begin(), o1.end());
  ASSERT_TRUE(ctx.decode(b1, &logits).ok());
  // Second batch: the rest of the prompt with logits, and one more token of sequence 1 in between.
  std::vector<BatchToken> b2 = sequence(std::vector<int>(prompt.begin() + long(half), prompt.end()), 0, int(half), true);
  b2.insert(b2.begin() + 1, BatchToken{3, 1, int(other.size()), false});
  ASSERT_TRUE(ctx.decode(b2, &logits).ok());
  ASSERT_EQ(logits.size(), (prompt.size() - half) * size_t(n_vocab));
  std::vector<std::vector<double>> want_tail(want.begin() + long(half), want.end());
  EXPECT_LE(relative_error(logits, want_tail, n_vocab), 1e-4);
}

TEST_P(LlmReference, GreedyContinuationIdentical) {
  Case c = load_case(test_case());
  ASSERT_TRUE(c.model);
  const int n_vocab = c.model->hparams().n_vocab;
  auto tokens = c.expected["prompt"].get<std::vector<int>>();
  const auto want = c.expected["greedy"].get<std::vector<int>>();
  LlmContext ctx(*c.model, 128);
  std::vector<float> logits;
  ASSERT_TRUE(ctx.decode(sequence(tokens, 0, 0, false), &logits).ok());
  std::vector<int> got;
  for (size_t i = 0; i < want.size(); ++i) {
    const int next = argmax(logits.data(), n_vocab);
    got.push_back(next);
    ASSERT_TRUE(ctx.decode(sequence({next}, 0, int(tokens.size()), true), &logits).ok());
    tokens.push_back(next);
  }
  EXPECT_EQ(got, want);
}

TEST_P(LlmReference, PerplexityMatchesToFourDigits) {
  Case c = load_case(test_case());
  ASSERT_TRUE(c.model);
  const int n_vocab = c.model->hparams().n_vocab;
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
    ASSERT_TRUE(ctx.decode(sequence(window, 0, 0, true), &logits).ok());
    for (int j = n_ctx / 2; j < n_ctx - 1; ++j) {
      const float* row = logits.data() + size_t(j) * size_t(n_vocab);
      double mx = row[0], sum = 0;
      for (int i = 0; i < n_vocab; ++i) mx = std::max(mx, double(row[i]));
      for (int i = 0; i < n_vocab; ++i) sum += std::exp(double(row[i]) - mx);
      nll -= double(row[window[size_t(j) + 1]]) - mx - std::log(sum);
      ++count;
    }
  }
  const double ppl = std::exp(nll / count), want = p["value"].get<double>();
  EXPECT_NEAR(ppl / want, 1.0, 5e-5) << "perplexity " << ppl << " vs reference " << want;
}

// Bit-identical logits whatever the thread count, both ways the pass runs:
// the whole prompt in one batch (through the GEMM) and three tokens at a time
// (one parallel region of dot products).
TEST_P(LlmReference, SameLogitsOnAnyThreadCount) {
  Case c = load_case(test_case());
  ASSERT_TRUE(c.model);
  const auto prompt = c.expected["prompt"].get<std::vector<int>>();
  ASSERT_GE(int64_t(prompt.size()), matmul_gemm_min_tokens(c.model->weights().layers[0].wq.dtype));
  auto run = [&](int threads) {
    set_num_threads(threads);
    std::vector<float> batch, by_three, part;
    LlmContext one_batch(*c.model, 128);
    EXPECT_TRUE(one_batch.decode(sequence(prompt, 0, 0, true), &batch).ok());
    LlmContext three_at_a_time(*c.model, 128);
    for (size_t i = 0; i < prompt.size(); i += 3) {
      const std::vector<int> piece(prompt.begin() + long(i), prompt.begin() + long(std::min(i + 3, prompt.size())));
      EXPECT_TRUE(three_at_a_time.decode(sequence(piece, 0, int(i), true), &part).ok());
      by_three.insert(by_three.end(), part.begin(), part.end());
    }
    return std::make_pair(batch, by_three);
  };
  const int threads_before = num_threads();
  const auto want = run(1);
  for (int threads : {2, 3}) {
    const auto got = run(threads);
    EXPECT_TRUE(got.first == want.first) << threads << " threads, one batch";
    EXPECT_TRUE(got.second == want.second) << threads << " threads, three tokens at a time";
  }
  set_num_threads(threads_before);
}

AIGC_INSTANTIATE_CASE_ISA_TEST(LlmReference, kCases);

TEST(LlmModel, MissingFileIsAnError) {
  auto m = LlmModel::load("/nonexistent/model.gguf");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("/nonexistent/model.gguf"), std::string::npos);
}

TEST(LlmContext, RejectsBadBatch) {
  Case c = load_case("llama");
  ASSERT_TRUE(c.model);
  LlmContext ctx(*c.model, 16);
  std::vector<float> logits;
  EXPECT_FALSE(ctx.decode(std::vector<BatchToken>{{-1, 0, 0, true}}, &logits).ok());
  EXPECT_FALSE(ctx.decode(std::vector<BatchToken>{{1, 0, 16, true}}, &logits).ok());
  EXPECT_FALSE(ctx.decode(std::vector<BatchToken>{{1, 1, 0, true}}, &logits).ok());
  EXPECT_FALSE(ctx.decode(std::vector<BatchToken>{}, &logits).ok());
}

// Keys and values land at (seq, layer, head, pos): F32 exactly, F16 as
// fp32_to_fp16 rounds them; nothing else in the cache changes.
TEST(KvCache, StoresKeysAndValuesInItsType) {
  const int n_seq = 2, n_layer = 3, n_head_kv = 2, n_ctx = 5, hd = 4;
  const float key[hd] = {1.0f, -2.5f, 0.1f, 65504.0f}, value[hd] = {3.0f, 1e-8f, -0.3f, 7.0f};
  for (DType type : {DType::F32, DType::F16}) {
    KvCache cache(n_seq, n_layer, n_head_kv, n_ctx, hd, type);
    EXPECT_EQ(cache.bytes(), size_t(2 * n_seq * n_layer * n_head_kv * n_ctx * hd) * (type == DType::F16 ? 2 : 4));
    cache.store(1, 2, 1, 3, key, value);
    for (int seq = 0; seq < n_seq; ++seq)
      for (int layer = 0; layer < n_layer; ++layer)
        for (int head = 0; head < n_head_kv; ++head)
          for (int pos = 0; pos < n_ctx; ++pos)
            for (int i = 0; i < hd; ++i) {
              const bool stored = seq == 1 && layer == 2 && head == 1 && pos == 3;
              const size_t at = size_t(pos * hd + i);
              float k, v;
              if (type == DType::F32) {
                k = static_cast<const float*>(cache.keys(seq, layer, head))[at];
                v = static_cast<const float*>(cache.values(seq, layer, head))[at];
              } else {
                k = fp16_to_fp32(static_cast<const uint16_t*>(cache.keys(seq, layer, head))[at]);
                v = fp16_to_fp32(static_cast<const uint16_t*>(cache.values(seq, layer, head))[at]);
              }
              const float want_k = !stored ? 0.0f : type == DType::F32 ? key[i] : fp16_to_fp32(fp32_to_fp16(key[i]));
              const float want_v =
                  !stored ? 0.0f : type == DType::F32 ? value[i] : fp16_to_fp32(fp32_to_fp16(value[i]));
              ASSERT_EQ(k, want_k) << dtype_name(type) << " key at " << seq << "," << layer << "," << head << "," << pos;
              ASSERT_EQ(v, want_v) << dtype_name(type) << " value at " << seq << "," << layer << "," << head << "," << pos;
            }
  }
}

}  // namespace
}  // namespace aigc
