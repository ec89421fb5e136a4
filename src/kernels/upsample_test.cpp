// Tests for upsample.h: every nearest-2x variant equals the scalar reference
// bit for bit on odd sizes; bilinear keeps constants and equals its
// reference; thread-count independence.
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

TEST(UpsampleBilinear, ConstantStaysConstantAndThreadsAgree) {
  const std::vector<float> in(3 * 5 * 7, 2.5f);
  std::vector<float> out(3 * 11 * 4);
  upsample_bilinear(out.data(), in.data(), 3, 5, 7, 11, 4);
  for (float y : out) EXPECT_EQ(y, 2.5f);
  const auto x = random_floats(3 * 5 * 7, 2);
  std::vector<float> want(3 * 10 * 14), got(want.size());
  upsample_bilinear_ref(want.data(), x.data(), 3, 5, 7, 10, 14);
  {
    ThreadCount t(2);
    upsample_bilinear(got.data(), x.data(), 3, 5, 7, 10, 14);
  }
  EXPECT_TRUE(same_bits(got, want));
}

}  // namespace
}  // namespace aigc
