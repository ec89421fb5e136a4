// Tests for activation.h: optimised variants against the scalar reference on
// awkward sizes and a wide input range; thread-count independence.
#include "kernels/activation.h"

#include "kernels/op_test_util.h"

namespace aigc {
namespace {

constexpr double kTol = 1e-5;  // relative to the output's magnitude

using UnaryFn = void (*)(float*, const float*, int64_t);

struct Unary {
  const char* name;
  UnaryFn ref;
  UnaryFn fast;
};

const Unary kUnaries[] = {
    {"silu", silu_ref, silu},
    {"gelu_tanh", gelu_tanh_ref, gelu_tanh},
    {"gelu_erf", gelu_erf_ref, gelu_erf},
    {"quick_gelu", quick_gelu_ref, quick_gelu},
};

class ActivationTest : public IsaTest {};

TEST_P(ActivationTest, UnaryMatchesReference) {
  for (const Unary& op : kUnaries) {
    for (int64_t n : kAwkwardSizes) {
      for (float range : {1.0f, 8.0f, 100.0f}) {
        const auto in = random_floats(n, uint32_t(n), -range, range);
        std::vector<float> want(n), got(n);
        op.ref(want.data(), in.data(), n);
        op.fast(got.data(), in.data(), n);
        EXPECT_TRUE(all_finite(got)) << op.name << " n=" << n;
        EXPECT_LE(rel_error(got, want), kTol) << op.name << " n=" << n << " range=" << range;
      }
    }
  }
}

TEST_P(ActivationTest, UnaryInPlace) {
  for (const Unary& op : kUnaries) {
    auto x = random_floats(33, 1);
    std::vector<float> want(x.size());
    op.ref(want.data(), x.data(), 33);
    op.fast(x.data(), x.data(), 33);
    EXPECT_LE(rel_error(x, want), kTol) << op.name;
  }
}

TEST_P(ActivationTest, SwigluMatchesReference) {
  for (int64_t n : kAwkwardSizes) {
    const auto a = random_floats(n, uint32_t(n), -10.0f, 10.0f);
    const auto b = random_floats(n, uint32_t(n) + 1);
    std::vector<float> want(n), got(n);
    swiglu_ref(want.data(), a.data(), b.data(), n);
    swiglu(got.data(), a.data(), b.data(), n);
    EXPECT_TRUE(all_finite(got)) << "n=" << n;
    EXPECT_LE(rel_error(got, want), kTol) << "n=" << n;
  }
}

TEST_P(ActivationTest, GegluMatchesReference) {
  for (int64_t n : kAwkwardSizes) {
    const auto a = random_floats(n, uint32_t(n) + 2);
    const auto gate = random_floats(n, uint32_t(n) + 3, -8.0f, 8.0f);
    std::vector<float> want(n), got(n);
    geglu_ref(want.data(), a.data(), gate.data(), n);
    geglu(got.data(), a.data(), gate.data(), n);
    EXPECT_TRUE(all_finite(got)) << "n=" << n;
    EXPECT_LE(rel_error(got, want), kTol) << "n=" << n;
  }
}

AIGC_INSTANTIATE_ISA_TEST(ActivationTest);

TEST(ActivationThreads, OneAndTwoThreadsBitIdentical) {
  const int64_t n = 100003;  // several chunks and a tail
  const auto in = random_floats(n, 3, -6.0f, 6.0f);
  for (const Unary& op : kUnaries) {
    std::vector<float> a(n), b(n);
    {
      ThreadCount t(1);
      op.fast(a.data(), in.data(), n);
    }
    {
      ThreadCount t(2);
      op.fast(b.data(), in.data(), n);
    }
    EXPECT_TRUE(same_bits(a, b)) << op.name;
  }
}

}  // namespace
}  // namespace aigc
