// GaussianRng: the stream is a function of (seed, index) only, and its
// samples are standard normal (moments and quantiles within statistical
// bounds for 2^20 samples).
#include "image/gaussian_rng.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace aigc {
namespace {

TEST(GaussianRng, StreamDoesNotDependOnHowItIsCut) {
  const int64_t n = 1001;
  std::vector<float> whole(n), pieces(n);
  GaussianRng a(42);
  a.fill(whole.data(), n);
  GaussianRng b(42);
  int64_t at = 0;
  for (int64_t len : {1, 2, 3, 7, 0, 100, 5, 883}) {
    b.fill(pieces.data() + at, len);
    at += len;
  }
  ASSERT_EQ(at, n);
  EXPECT_EQ(b.position(), uint64_t(n));
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_EQ(whole[i], pieces[i]) << "sample " << i;
    ASSERT_EQ(whole[i], a.sample_at(uint64_t(i))) << "sample " << i;
  }
}

TEST(GaussianRng, SeedsGiveDifferentStreams) {
  std::vector<float> x(64), y(64);
  GaussianRng(1).fill(x.data(), 64);
  GaussianRng(2).fill(y.data(), 64);
  int same = 0;
  for (int i = 0; i < 64; ++i) same += x[i] == y[i];
  EXPECT_EQ(same, 0);
}

TEST(GaussianRng, SamplesAreStandardNormal) {
  const int64_t n = int64_t(1) << 20;
  std::vector<float> x(n);
  GaussianRng(12345).fill(x.data(), n);
  double sum = 0, sum2 = 0, sum4 = 0;
  for (float v : x) {
    ASSERT_TRUE(std::isfinite(v));
    sum += v;
    sum2 += double(v) * v;
    sum4 += double(v) * v * v * v;
  }
  const double mean = sum / n, var = sum2 / n - mean * mean, kurt = sum4 / n;
  // 6 standard errors: mean sd 1/sqrt(n), variance sd sqrt(2/n), 4th moment sd sqrt(96/n).
  EXPECT_NEAR(mean, 0.0, 6.0 / std::sqrt(double(n)));
  EXPECT_NEAR(var, 1.0, 6.0 * std::sqrt(2.0 / n));
  EXPECT_NEAR(kurt, 3.0, 6.0 * std::sqrt(96.0 / n));
  // Quantiles of N(0, 1): Phi^-1(0.025, 0.16, 0.5, 0.84, 0.975), within 0.01.
  std::sort(x.begin(), x.end());
  const double p[] = {0.025, 0.158655, 0.5, 0.841345, 0.975};
  const double q[] = {-1.959964, -1.0, 0.0, 1.0, 1.959964};
  for (int i = 0; i < 5; ++i) EXPECT_NEAR(x[int64_t(p[i] * n)], q[i], 0.01) << "quantile " << p[i];
  // Neighbouring samples (the two of a Box-Muller pair, and across pairs) are uncorrelated.
  double lag1 = 0;
  GaussianRng(12345).fill(x.data(), n);
  for (int64_t i = 0; i + 1 < n; ++i) lag1 += double(x[i]) * x[i + 1];
  EXPECT_NEAR(lag1 / (n - 1), 0.0, 6.0 / std::sqrt(double(n)));
}

}  // namespace
}  // namespace aigc
