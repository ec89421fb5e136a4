// Tests for norm.h: every optimised variant against the scalar reference on
// awkward sizes; thread-count independence.
#include "kernels/norm.h"

#include "kernels/op_test_util.h"

namespace aigc {
namespace {

constexpr double kTol = 2e-5;  // relative to the output's magnitude

class NormTest : public IsaTest {};

TEST_P(NormTest, RmsNormMatchesReference) {
  for (int64_t n : kAwkwardSizes) {
    for (bool with_weight : {false, true}) {
      const int64_t rows = 3;
      const auto in = random_floats(rows * n, uint32_t(n));
      const auto w = random_floats(n, uint32_t(n) + 1);
      std::vector<float> want(in.size()), got(in.size());
      rms_norm_ref(want.data(), in.data(), with_weight ? w.data() : nullptr, 1e-6f, rows, n);
      rms_norm(got.data(), in.data(), with_weight ? w.data() : nullptr, 1e-6f, rows, n);
      EXPECT_TRUE(all_finite(got)) << "n=" << n;
      EXPECT_LE(rel_error(got, want), kTol) << "n=" << n << " weight=" << with_weight;
    }
  }
}

TEST_P(NormTest, RmsNormInPlace) {
  auto x = random_floats(2 * 33, 7);
  std::vector<float> want(x.size());
  rms_norm_ref(want.data(), x.data(), nullptr, 1e-5f, 2, 33);
  rms_norm(x.data(), x.data(), nullptr, 1e-5f, 2, 33);
  EXPECT_LE(rel_error(x, want), kTol);
}

TEST_P(NormTest, LayerNormMatchesReference) {
  for (int64_t n : kAwkwardSizes) {
    for (bool affine : {false, true}) {
      const int64_t rows = 3;
      auto in = random_floats(rows * n, uint32_t(n) + 10);
      for (float& x : in) x += 5.0f;  // a mean far from zero
      const auto w = random_floats(n, uint32_t(n) + 11);
      const auto b = random_floats(n, uint32_t(n) + 12);
      std::vector<float> want(in.size()), got(in.size());
      layer_norm_ref(want.data(), in.data(), affine ? w.data() : nullptr, affine ? b.data() : nullptr, 1e-5f, rows,
                     n);
      layer_norm(got.data(), in.data(), affine ? w.data() : nullptr, affine ? b.data() : nullptr, 1e-5f, rows, n);
      EXPECT_TRUE(all_finite(got)) << "n=" << n;
      EXPECT_LE(rel_error(got, want), kTol) << "n=" << n << " affine=" << affine;
    }
  }
}

TEST_P(NormTest, GroupNormMatchesReference) {
  struct Shape { int64_t N, C, H, W, G; };
  for (const Shape s : {Shape{1, 4, 1, 1, 2}, Shape{2, 6, 3, 5, 3}, Shape{1, 32, 7, 9, 32}, Shape{2, 8, 17, 15, 4},
                        Shape{1, 64, 8, 8, 32}}) {
    const int64_t n = s.N * s.C * s.H * s.W;
    auto in = random_floats(n, uint32_t(n));
    for (float& x : in) x = x * 2.0f + 1.0f;
    const auto w = random_floats(s.C, 3);
    const auto b = random_floats(s.C, 4);
    std::vector<float> want(n), got(n);
    group_norm_ref(want.data(), in.data(), w.data(), b.data(), 1e-5f, s.N, s.C, s.H, s.W, s.G);
    group_norm(got.data(), in.data(), w.data(), b.data(), 1e-5f, s.N, s.C, s.H, s.W, s.G);
    EXPECT_TRUE(all_finite(got));
    EXPECT_LE(rel_error(got, want), kTol) << "C=" << s.C << " H=" << s.H << " W=" << s.W << " G=" << s.G;
  }
}

AIGC_INSTANTIATE_ISA_TEST(NormTest);

TEST(NormThreads, OneAndTwoThreadsBitIdentical) {
  const int64_t rows = 37, n = 65;
  const auto in = random_floats(rows * n, 99);
  const auto w = random_floats(n, 100);
  std::vector<float> rms1(in.size()), rms2(in.size()), ln1(in.size()), ln2(in.size());
  std::vector<float> gn1(2 * 32 * 9 * 7), gn2(gn1.size());
  const auto gin = random_floats(int64_t(gn1.size()), 101);
  const auto gw = random_floats(32, 102);
  {
    ThreadCount t(1);
    rms_norm(rms1.data(), in.data(), w.data(), 1e-6f, rows, n);
    layer_norm(ln1.data(), in.data(), w.data(), w.data(), 1e-5f, rows, n);
    group_norm(gn1.data(), gin.data(), gw.data(), gw.data(), 1e-5f, 2, 32, 9, 7, 8);
  }
  {
    ThreadCount t(2);
    rms_norm(rms2.data(), in.data(), w.data(), 1e-6f, rows, n);
    layer_norm(ln2.data(), in.data(), w.data(), w.data(), 1e-5f, rows, n);
    group_norm(gn2.data(), gin.data(), gw.data(), gw.data(), 1e-5f, 2, 32, 9, 7, 8);
  }
  EXPECT_TRUE(same_bits(rms1, rms2));
  EXPECT_TRUE(same_bits(ln1, ln2));
  EXPECT_TRUE(same_bits(gn1, gn2));
}

}  // namespace
}  // namespace aigc
