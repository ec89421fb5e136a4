// Tests for elementwise.h: every variant must equal the scalar reference
// exactly (single IEEE operations), in place too.
#include "kernels/elementwise.h"

#include "kernels/op_test_util.h"

namespace aigc {
namespace {

class ElementwiseTest : public IsaTest {};

TEST_P(ElementwiseTest, ExactlyMatchesReference) {
  for (int64_t n : kAwkwardSizes) {
    const auto a = random_floats(n, uint32_t(n));
    const auto b = random_floats(n, uint32_t(n) + 1);
    std::vector<float> want(n), got(n);
    elementwise_add_ref(want.data(), a.data(), b.data(), n);
    elementwise_add(got.data(), a.data(), b.data(), n);
    EXPECT_TRUE(same_bits(got, want)) << "add n=" << n;
    elementwise_mul_ref(want.data(), a.data(), b.data(), n);
    elementwise_mul(got.data(), a.data(), b.data(), n);
    EXPECT_TRUE(same_bits(got, want)) << "mul n=" << n;
    elementwise_scale_ref(want.data(), a.data(), 0.3f, n);
    elementwise_scale(got.data(), a.data(), 0.3f, n);
    EXPECT_TRUE(same_bits(got, want)) << "scale n=" << n;
    const auto rows = random_floats(3 * n, uint32_t(n) + 2);
    std::vector<float> want_rows(rows.size()), got_rows = rows;
    add_bias_ref(want_rows.data(), rows.data(), b.data(), 3, n);
    add_bias(got_rows.data(), got_rows.data(), b.data(), 3, n);  // in place
    EXPECT_TRUE(same_bits(got_rows, want_rows)) << "add_bias n=" << n;
  }
}

TEST_P(ElementwiseTest, LargeInPlaceAcrossChunks) {
  const int64_t n = 70001;
  auto a = random_floats(n, 1);
  const auto b = random_floats(n, 2);
  std::vector<float> want(n);
  elementwise_add_ref(want.data(), a.data(), b.data(), n);
  {
    ThreadCount t(2);
    elementwise_add(a.data(), a.data(), b.data(), n);
  }
  EXPECT_TRUE(same_bits(a, want));
}

AIGC_INSTANTIATE_ISA_TEST(ElementwiseTest);

}  // namespace
}  // namespace aigc
