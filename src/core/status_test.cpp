// Tests for Status, Result and the error-propagation macros.
#include "core/status.h"

#include <gtest/gtest.h>

namespace aigc {
namespace {

Result<int> parse_positive(int v) {
  if (v <= 0) return Status::invalid_argument("value " + std::to_string(v) + " is not positive");
  return v;
}

Result<int> doubled(int v) {
  int x = 0;
  AIGC_ASSIGN_OR_RETURN(x, parse_positive(v));
  return 2 * x;
}

TEST(Status, OkAndError) {
  EXPECT_TRUE(Status().ok());
  Status s = Status::corruption("f.gguf: bad magic");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_EQ(s.to_string(), "Corruption: f.gguf: bad magic");
}

TEST(Status, AssignOrReturnPropagates) {
  EXPECT_EQ(*doubled(4), 8);
  Result<int> r = doubled(-1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "value -1 is not positive");
}

}  // namespace
}  // namespace aigc
