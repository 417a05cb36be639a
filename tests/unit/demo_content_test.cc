#include <gtest/gtest.h>

#include "core/demo_content.h"

namespace ringfence {
namespace {

using Problem = DemoContentParse::Problem;

TEST(DemoContentTest, ParsesRecordsSkippingCommentsAndBlankLines) {
  DemoContentParse p = ParseContent("# channel file\n\na,b,c\r\n  \nd,e,f\n#x,y\n", 3);
  EXPECT_EQ(p.problem, Problem::kNone);
  EXPECT_EQ(p.message, "");
  ASSERT_EQ(p.content.records.size(), 2u);
  EXPECT_EQ(p.content.records[0], (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(p.content.records[1], (std::vector<std::string>{"d", "e", "f"}));
}

TEST(DemoContentTest, EmptyTextHasNoRecords) {
  DemoContentParse p = ParseContent("", 20);
  EXPECT_EQ(p.problem, Problem::kNone);
  EXPECT_TRUE(p.content.records.empty());
}

TEST(DemoContentTest, LastLineWithoutNewlineAndEmptyFieldsCount) {
  DemoContentParse p = ParseContent("a,,c", 3);
  EXPECT_EQ(p.problem, Problem::kNone);
  ASSERT_EQ(p.content.records.size(), 1u);
  EXPECT_EQ(p.content.records[0], (std::vector<std::string>{"a", "", "c"}));
}

TEST(DemoContentTest, ExtraFieldIsTheOutOfBoundsRead) {
  DemoContentParse p = ParseContent("# ok\na,b\nc,d\ne,f,g\nh\n", 2);
  EXPECT_EQ(p.problem, Problem::kTooManyFields);
  EXPECT_EQ(p.record, 3);
  EXPECT_EQ(p.fields_found, 3);
  EXPECT_TRUE(p.content.records.empty());
  EXPECT_EQ(p.message,
            "content interpreter: record 3 has 3 fields, the reader supplies 2: "
            "out-of-bounds read");
}

TEST(DemoContentTest, MissingFieldIsRejected) {
  DemoContentParse p = ParseContent("a,b\nc\ne,f,g\n", 2);
  EXPECT_EQ(p.problem, Problem::kTooFewFields);
  EXPECT_EQ(p.record, 2);
  EXPECT_EQ(p.fields_found, 1);
  EXPECT_TRUE(p.content.records.empty());
  EXPECT_EQ(p.message,
            "content interpreter: record 2 has 1 fields, expected 2: rejected, keeping the "
            "previous content");
}

}  // namespace
}  // namespace ringfence
