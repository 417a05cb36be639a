#include <gtest/gtest.h>

#include "core/base/process_table.h"
#include "core/sys/system_process_table.h"

namespace ringfence {
namespace {

TEST(ParseProcStatTest, CommWithSpacesAndParentheses) {
  auto stat = ParseProcStat(
      "4242 (my (odd) name) ) S 17 4242 4242 0 -1 4194560 107 0 0 0 1 2 0 0 20 0 1 0 "
      "123456 2510848 140 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n");
  ASSERT_TRUE(stat.ok()) << stat.status().message();
  EXPECT_EQ(stat->comm, "my (odd) name) ");
  EXPECT_EQ(stat->state, 'S');
  EXPECT_EQ(stat->ppid, 17);
  EXPECT_EQ(stat->flags, 4194560u);
  EXPECT_EQ(stat->start_ticks, 123456u);
}

TEST(ParseProcStatTest, KernelThreadFlags) {
  auto stat = ParseProcStat(
      "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 9 0 0 18446744073709551615 0 0 "
      "0 0 0 0 0 2147483647 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0");
  ASSERT_TRUE(stat.ok()) << stat.status().message();
  EXPECT_EQ(stat->flags & 0x00200000u, 0x00200000u);
  EXPECT_EQ(stat->start_ticks, 9u);
}

TEST(ParseProcStatTest, TruncatedLineIsInvalid) {
  auto stat = ParseProcStat("42 (sh) S 1 2 3");
  ASSERT_FALSE(stat.ok());
  EXPECT_EQ(stat.status().code(), StatusCode::kInvalidInput);
  EXPECT_EQ(stat.status().message(), "malformed /proc stat line: 42 (sh) S 1 2 3");
}

}  // namespace
}  // namespace ringfence
