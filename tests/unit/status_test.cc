#include "core/base/status.h"

#include <cerrno>

#include <gtest/gtest.h>

namespace ringfence {
namespace {

TEST(StatusTest, ErrnoMapsToCodes) {
  EXPECT_EQ(Status::FromErrno(EPERM, "kill").code(), StatusCode::kPermission);
  EXPECT_EQ(Status::FromErrno(ESRCH, "kill").code(), StatusCode::kNotFound);
  EXPECT_EQ(Status::FromErrno(EIO, "read").message(), "read: Input/output error");
}

TEST(StatusTest, ResultHoldsValueOrStatus) {
  Result<int> good(3);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 3);
  Result<int> bad(Status::NotFound("gone"));
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "gone");
}

}  // namespace
}  // namespace ringfence
