// Tests for the sampling chain: each stage against probabilities computed by
// hand, and seeded determinism.
#include "text/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace aigc {
namespace {

SamplingParams plain(float temperature) {
  SamplingParams p;
  p.temperature = temperature;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.seed = 42;
  return p;
}

std::vector<double> frequencies(Sampler& s, const std::vector<float>& logits, int draws) {
  std::vector<double> f(logits.size());
  for (int i = 0; i < draws; ++i) f[size_t(s.sample(logits.data()))] += 1.0 / draws;
  return f;
}

TEST(Sampler, GreedyPicksArgmaxLowestIdOnTies) {
  Sampler s(plain(0.0f), 4);
  EXPECT_EQ(s.sample(std::vector<float>{1, 3, 3, 2}.data()), 1);
}

TEST(Sampler, TemperatureOneFollowsSoftmax) {
  Sampler s(plain(1.0f), 3);
  const std::vector<float> logits = {std::log(0.1f), std::log(0.2f), std::log(0.7f)};
  auto f = frequencies(s, logits, 40000);
  EXPECT_NEAR(f[0], 0.1, 0.01);
  EXPECT_NEAR(f[1], 0.2, 0.01);
  EXPECT_NEAR(f[2], 0.7, 0.01);
}

TEST(Sampler, TemperatureSharpens) {
  // At T = 0.5 the probabilities are proportional to p^2: 0.01, 0.04, 0.49 -> /0.54.
  Sampler s(plain(0.5f), 3);
  const std::vector<float> logits = {std::log(0.1f), std::log(0.2f), std::log(0.7f)};
  auto f = frequencies(s, logits, 40000);
  EXPECT_NEAR(f[2], 0.49 / 0.54, 0.01);
  EXPECT_NEAR(f[1], 0.04 / 0.54, 0.01);
}

TEST(Sampler, TopKOneIsGreedy) {
  SamplingParams p = plain(1.0f);
  p.top_k = 1;
  Sampler s(p, 3);
  auto f = frequencies(s, {0.5f, 0.7f, 0.6f}, 1000);
  EXPECT_NEAR(f[1], 1.0, 1e-9);  // every draw
}

TEST(Sampler, TopPKeepsSmallestNucleus) {
  SamplingParams p = plain(1.0f);
  p.top_p = 0.85f;  // probabilities 0.6, 0.3, 0.1: keep the first two
  Sampler s(p, 3);
  auto f = frequencies(s, {std::log(0.6f), std::log(0.3f), std::log(0.1f)}, 40000);
  EXPECT_EQ(f[2], 0.0);
  EXPECT_NEAR(f[0], 2.0 / 3.0, 0.01);
}

TEST(Sampler, MinPDropsUnlikelyTokens) {
  SamplingParams p = plain(1.0f);
  p.min_p = 0.5f;  // keep p >= 0.5 * 0.5: tokens 0 and 1
  Sampler s(p, 3);
  auto f = frequencies(s, {std::log(0.5f), std::log(0.3f), std::log(0.2f)}, 40000);
  EXPECT_EQ(f[2], 0.0);
  EXPECT_NEAR(f[0], 0.625, 0.01);
}

TEST(Sampler, RepetitionPenaltyDividesPositiveLogits) {
  SamplingParams p = plain(0.0f);
  p.repeat_penalty = 2.0f;
  Sampler s(p, 2);
  s.accept(0);
  EXPECT_EQ(s.sample(std::vector<float>{2.0f, 1.9f}.data()), 1);  // 2/2 = 1 < 1.9
}

TEST(Sampler, FrequencyAndPresencePenalties) {
  SamplingParams p = plain(0.0f);
  p.frequency_penalty = 0.3f;
  p.presence_penalty = 0.5f;
  Sampler s(p, 2);
  s.accept(0);
  EXPECT_EQ(s.sample(std::vector<float>{2.0f, 1.1f}.data()), 0);  // 2 - 0.3 - 0.5 = 1.2 > 1.1
  s.accept(0);
  EXPECT_EQ(s.sample(std::vector<float>{2.0f, 1.1f}.data()), 1);  // 2 - 0.6 - 0.5 = 0.9 < 1.1
}

TEST(Sampler, LogitBiasAndAllowedMask) {
  SamplingParams p = plain(0.0f);
  p.logit_bias = {{2, -std::numeric_limits<float>::infinity()}};
  Sampler s(p, 3);
  EXPECT_EQ(s.sample(std::vector<float>{0, 1, 5}.data()), 1);
  std::vector<bool> allowed = {true, false, false};
  EXPECT_EQ(s.sample(std::vector<float>{0, 1, 5}.data(), &allowed), 0);
  std::vector<bool> none = {false, false, false};
  EXPECT_EQ(s.sample(std::vector<float>{0, 1, 5}.data(), &none), -1);
}

TEST(Sampler, SameSeedSameTokens) {
  const std::vector<float> logits = {0.1f, 0.4f, 0.3f, 0.2f, 0.0f};
  SamplingParams p = plain(1.0f);
  Sampler a(p, 5), b(p, 5);
  std::vector<int> ta, tb;
  for (int i = 0; i < 50; ++i) {
    ta.push_back(a.sample(logits.data()));
    tb.push_back(b.sample(logits.data()));
  }
  EXPECT_EQ(ta, tb);
  a.reset();
  std::vector<int> tc;
  for (int i = 0; i < 50; ++i) tc.push_back(a.sample(logits.data()));
  EXPECT_EQ(ta, tc);
  p.seed = 43;
  Sampler c(p, 5);
  std::vector<int> td;
  for (int i = 0; i < 50; ++i) td.push_back(c.sample(logits.data()));
  EXPECT_NE(ta, td);
}

}  // namespace
}  // namespace aigc
