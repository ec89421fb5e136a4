// Tests for rope.h: optimised variants against the scalar reference for both
// modes; NeoX equals normal mode on a de-interleaved layout; position 0 is
// the identity; thread-count independence.
#include "kernels/rope.h"

#include "kernels/op_test_util.h"

#include <cmath>

namespace aigc {
namespace {

constexpr double kTol = 2e-6;  // relative to the output's magnitude

std::vector<int32_t> random_positions(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> dist(0, 4095);
  std::vector<int32_t> p(static_cast<size_t>(n));
  for (int32_t& x : p) x = dist(rng);
  return p;
}

class RopeTest : public IsaTest {};

TEST_P(RopeTest, MatchesReference) {
  for (int64_t d : {2, 4, 6, 14, 16, 18, 30, 34, 64, 66, 128}) {
    for (RopeMode mode : {RopeMode::kNormal, RopeMode::kNeox}) {
      for (float freq_scale : {1.0f, 0.25f}) {
        const int64_t T = 5, H = 3;
        const auto x = random_floats(T * H * d, uint32_t(d));
        const auto pos = random_positions(T, uint32_t(d));
        auto want = x, got = x;
        rope_ref(want.data(), pos.data(), mode, 10000.0f, freq_scale, T, H, d);
        rope(got.data(), pos.data(), mode, 10000.0f, freq_scale, T, H, d);
        EXPECT_TRUE(all_finite(got));
        EXPECT_LE(rel_error(got, want), kTol) << "d=" << d << " neox=" << (mode == RopeMode::kNeox);
      }
    }
  }
}

// Partial rotation (n_rot < head_dim) with llama3-style frequency factors:
// the optimised variant matches the reference, the dimensions past n_rot pass
// through unchanged, and pair i turns by exactly the angle the formula gives.
TEST_P(RopeTest, PartialRotationWithFrequencyFactors) {
  for (RopeMode mode : {RopeMode::kNormal, RopeMode::kNeox}) {
    const int64_t T = 4, H = 2, d = 40, n_rot = 26;
    std::vector<float> factors(n_rot / 2);
    for (size_t i = 0; i < factors.size(); ++i) factors[i] = 1.0f + 0.5f * float(i);
    const RopeParams p{mode, 500000.0f, 0.5f, n_rot, factors.data()};
    const auto x = random_floats(T * H * d, 11);
    const auto pos = random_positions(T, 12);
    auto want = x, got = x;
    rope_ref(want.data(), pos.data(), p, T, H, d);
    rope(got.data(), pos.data(), p, T, H, d);
    EXPECT_LE(rel_error(got, want), kTol);
    for (int64_t t = 0; t < T; ++t)
      for (int64_t h = 0; h < H; ++h) {
        const int64_t base = (t * H + h) * d;
        for (int64_t j = n_rot; j < d; ++j) EXPECT_EQ(got[size_t(base + j)], x[size_t(base + j)]);
        // pair 3: its angle from the formula, independently of rope_ref
        const int64_t i = 3;
        const int64_t ia = mode == RopeMode::kNormal ? 2 * i : i, ib = mode == RopeMode::kNormal ? 2 * i + 1 : i + n_rot / 2;
        const double theta = pos[size_t(t)] * 0.5 * std::pow(500000.0, -2.0 * i / n_rot) / factors[i];
        const double a = x[size_t(base + ia)], b = x[size_t(base + ib)];
        EXPECT_NEAR(want[size_t(base + ia)], a * std::cos(theta) - b * std::sin(theta), 1e-5);
        EXPECT_NEAR(want[size_t(base + ib)], a * std::sin(theta) + b * std::cos(theta), 1e-5);
      }
  }
}

AIGC_INSTANTIATE_ISA_TEST(RopeTest);

TEST(RopeModes, NeoxIsNormalOnDeinterleavedPairs) {
  const int64_t T = 4, H = 2, d = 10, half = d / 2;
  const auto x = random_floats(T * H * d, 1);
  const auto pos = random_positions(T, 2);
  auto neox = x;
  std::vector<float> inter(x.size());  // pair i of neox, (x[i], x[i+half]), placed at (2i, 2i+1)
  for (int64_t r = 0; r < T * H; ++r) {
    for (int64_t i = 0; i < half; ++i) {
      inter[r * d + 2 * i] = x[r * d + i];
      inter[r * d + 2 * i + 1] = x[r * d + i + half];
    }
  }
  rope_ref(neox.data(), pos.data(), RopeMode::kNeox, 500.0f, 1.0f, T, H, d);
  rope_ref(inter.data(), pos.data(), RopeMode::kNormal, 500.0f, 1.0f, T, H, d);
  for (int64_t r = 0; r < T * H; ++r) {
    for (int64_t i = 0; i < half; ++i) {
      EXPECT_EQ(neox[r * d + i], inter[r * d + 2 * i]);
      EXPECT_EQ(neox[r * d + i + half], inter[r * d + 2 * i + 1]);
    }
  }
}

TEST(RopeModes, PositionZeroIsIdentity) {
  const auto x = random_floats(3 * 8, 3);
  const std::vector<int32_t> pos = {0};
  auto y = x;
  rope(y.data(), pos.data(), RopeMode::kNormal, 10000.0f, 1.0f, 1, 3, 8);
  EXPECT_TRUE(same_bits(x, y));
}

TEST(RopeThreads, OneAndTwoThreadsBitIdentical) {
  const int64_t T = 33, H = 4, d = 64;
  const auto x = random_floats(T * H * d, 4);
  const auto pos = random_positions(T, 5);
  for (RopeMode mode : {RopeMode::kNormal, RopeMode::kNeox}) {
    auto a = x, b = x;
    {
      ThreadCount t(1);
      rope(a.data(), pos.data(), mode, 10000.0f, 1.0f, T, H, d);
    }
    {
      ThreadCount t(2);
      rope(b.data(), pos.data(), mode, 10000.0f, 1.0f, T, H, d);
    }
    EXPECT_TRUE(same_bits(a, b));
  }
}

}  // namespace
}  // namespace aigc
