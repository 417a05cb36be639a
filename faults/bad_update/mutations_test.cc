#include "faults/bad_update/mutations.h"

#include <gtest/gtest.h>

namespace ringfence {
namespace {

const std::string kGood = "# content\na,b,c\n\nd,e,f\ng,h,i\n";

TEST(MutationsTest, ExtraFieldGivesOneRecordOneFieldTooMany) {
  auto bad = Mutate(kGood, {"extra_field", 0, 2});
  ASSERT_TRUE(bad.ok()) << bad.status().message();
  EXPECT_EQ(*bad, "# content\na,b,c\n\nd,e,f,f\ng,h,i\n");
}

TEST(MutationsTest, ExtraFieldKeepsWindowsLineEnds) {
  auto bad = Mutate("a,b\r\nc,d\r\n", {"extra_field", 0, 1});
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(*bad, "a,b,b\r\nc,d\r\n");
}

TEST(MutationsTest, ExtraFieldRefusesAFileWithoutRecords) {
  auto bad = Mutate("# only a comment\n\n", {"extra_field", 0, 1});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "it has no records to add a field to");
  auto past = Mutate(kGood, {"extra_field", 0, 4});
  ASSERT_FALSE(past.ok());
  EXPECT_EQ(past.status().message(), "it has 3 records; record 4 was asked for");
}

TEST(MutationsTest, TruncateKeepsTheFirstHalf) {
  auto bad = Mutate("0123456789", {"truncate"});
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(*bad, "01234");
}

TEST(MutationsTest, CorruptBytesIsSeededAndChangesBytes) {
  std::string good(1000, 'a');
  auto one = Mutate(good, {"corrupt_bytes", 7});
  auto again = Mutate(good, {"corrupt_bytes", 7});
  auto other = Mutate(good, {"corrupt_bytes", 8});
  ASSERT_TRUE(one.ok() && again.ok() && other.ok());
  EXPECT_EQ(*one, *again);
  EXPECT_NE(*one, *other);
  EXPECT_EQ(one->size(), good.size());
  EXPECT_NE(*one, good);
}

TEST(MutationsTest, EmptyAndOversize) {
  auto empty = Mutate(kGood, {"empty"});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, "");
  MutationSpec big{"oversize"};
  big.oversize_bytes = 100;
  auto over = Mutate(kGood, big);
  ASSERT_TRUE(over.ok());
  EXPECT_GE(over->size(), 100u);
  EXPECT_EQ(over->substr(0, kGood.size()), kGood);
  big.oversize_bytes = 10;
  auto too_small = Mutate(kGood, big);
  ASSERT_FALSE(too_small.ok());
  EXPECT_EQ(too_small.status().message(), "it is already 29 bytes, not below oversize_bytes");
}

TEST(MutationsTest, AnEmptyArtifactTakesNoByteMutation) {
  for (const char* name : {"truncate", "corrupt_bytes", "empty", "oversize"}) {
    auto bad = Mutate("", {name});
    ASSERT_FALSE(bad.ok()) << name;
    EXPECT_EQ(bad.status().message(), "it is empty");
  }
  EXPECT_EQ(Mutate("x", {"shuffle"}).status().message(), "unknown mutation shuffle");
}

}  // namespace
}  // namespace ringfence
