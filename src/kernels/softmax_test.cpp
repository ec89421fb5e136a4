// Tests for softmax.h: optimised variants against the scalar reference, with
// and without scale and mask; fully masked rows; thread-count independence.
#include "kernels/softmax.h"

#include <limits>

#include "kernels/op_test_util.h"

namespace aigc {
namespace {

constexpr double kTol = 1e-5;  // relative to the output's magnitude

class SoftmaxTest : public IsaTest {};

TEST_P(SoftmaxTest, MatchesReference) {
  for (int64_t n : kAwkwardSizes) {
    for (bool masked : {false, true}) {
      const int64_t rows = 4;
      const auto in = random_floats(rows * n, uint32_t(n), -20.0f, 20.0f);
      auto mask = random_floats(rows * n, uint32_t(n) + 1);
      for (size_t i = 0; i < mask.size(); i += 3) mask[i] = -std::numeric_limits<float>::infinity();
      std::vector<float> want(in.size()), got(in.size());
      softmax_ref(want.data(), in.data(), masked ? mask.data() : nullptr, 0.37f, rows, n);
      softmax(got.data(), in.data(), masked ? mask.data() : nullptr, 0.37f, rows, n);
      EXPECT_TRUE(all_finite(got)) << "n=" << n;
      EXPECT_LE(rel_error(got, want), kTol) << "n=" << n << " masked=" << masked;
    }
  }
}

TEST_P(SoftmaxTest, FullyMaskedRowGivesZeros) {
  const int64_t n = 17;
  const auto in = random_floats(n, 5);
  const std::vector<float> mask(n, -std::numeric_limits<float>::infinity());
  std::vector<float> got(n, 1.0f);
  softmax(got.data(), in.data(), mask.data(), 1.0f, 1, n);
  for (float y : got) EXPECT_EQ(y, 0.0f);
}

TEST_P(SoftmaxTest, InPlaceRowsSumToOne) {
  const int64_t rows = 3, n = 1023;
  auto x = random_floats(rows * n, 6, -50.0f, 50.0f);
  softmax(x.data(), x.data(), nullptr, 1.0f, rows, n);
  for (int64_t r = 0; r < rows; ++r) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += x[r * n + i];
    EXPECT_NEAR(sum, 1.0, 1e-5);
  }
}

AIGC_INSTANTIATE_ISA_TEST(SoftmaxTest);

TEST(SoftmaxThreads, OneAndTwoThreadsBitIdentical) {
  const int64_t rows = 41, n = 63;
  const auto in = random_floats(rows * n, 7);
  std::vector<float> a(in.size()), b(in.size());
  {
    ThreadCount t(1);
    softmax(a.data(), in.data(), nullptr, 0.5f, rows, n);
  }
  {
    ThreadCount t(2);
    softmax(b.data(), in.data(), nullptr, 0.5f, rows, n);
  }
  EXPECT_TRUE(same_bits(a, b));
}

}  // namespace
}  // namespace aigc
