// WeightStore: lookups, shape checks and their messages, owned tensors.
#include "image/weights.h"

#include <gtest/gtest.h>

namespace aigc {
namespace {

TEST(WeightStore, GetChecksPresenceAndShape) {
  WeightStore store("UNet");
  float data[6] = {};
  store.add("a.weight", make_tensor(DType::F32, {2, 3}, data));
  ASSERT_TRUE(store.get("a.weight", {2, 3}).ok());
  Result<Tensor> wrong = store.get("a.weight", {3, 2});
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("UNet: tensor 'a.weight' has shape [2, 3], expected [3, 2]"),
            std::string::npos)
      << wrong.status().message();
  Result<Tensor> missing = store.get("b.weight");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("missing tensor 'b.weight'"), std::string::npos);
}

TEST(WeightStore, OwnedTensorsAreZeroedAndReplaceViews) {
  WeightStore store;
  float data[4] = {1, 2, 3, 4};
  store.add("w", make_tensor(DType::F32, {4}, data));
  Tensor owned = store.add_owned("w", DType::F16, {2, 2});
  EXPECT_EQ(owned.dtype, DType::F16);
  EXPECT_EQ(store.find("w")->data, owned.data);
  EXPECT_EQ(owned.ptr<uint16_t>()[3], 0);
}

}  // namespace
}  // namespace aigc
