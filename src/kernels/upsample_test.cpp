// Tests for upsample.h: every variant equals the scalar reference bit for
// bit on odd sizes; thread-count independence.
#include "kernels/upsample.h"

#include "kernels/op_test_util.h"

namespace aigc {
namespace {

class UpsampleTest : public IsaTest {};

TEST_P(UpsampleTest, Nearest2xMatchesReference) {
  for (int64_t w : kAwkwardSizes) {
    for (int64_t h : {1, 3, 4}) {
      const int64_t planes = 3;
      const auto in = random_floats(planes * h * w, uint32_t(w * 10 + h));
      std::vector<float> want(4 * in.size()), got(4 * in.size(), -1.0f);
      upsample_nearest2x_ref(want.data(), in.data(), planes, h, w);
      upsample_nearest2x(got.data(), in.data(), planes, h, w);
      EXPECT_TRUE(same_bits(got, want)) << "h=" << h << " w=" << w;
    }
  }
}

AIGC_INSTANTIATE_ISA_TEST(UpsampleTest);

TEST(UpsampleThreads, OneAndTwoThreadsBitIdentical) {
  const auto in = random_floats(4 * 9 * 11, 1);
  std::vector<float> a(4 * in.size()), b(4 * in.size());
  {
    ThreadCount t(1);
    upsample_nearest2x(a.data(), in.data(), 4, 9, 11);
  }
  {
    ThreadCount t(2);
    upsample_nearest2x(b.data(), in.data(), 4, 9, 11);
  }
  EXPECT_TRUE(same_bits(a, b));
}

}  // namespace
}  // namespace aigc
