#include <gtest/gtest.h>

#include "demo/demo_content.h"
#include "faults/bad_update/mutations.h"

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

// bad_update's extra_field mutation makes exactly the pattern the demo service crashes on.
TEST(DemoContentTest, ExtraFieldMutationGivesTheRecordOneFieldTooMany) {
  const std::string good = "# content\na,b,c\n\nd,e,f\ng,h,i\n";
  auto bad = Mutate(good, {"extra_field", 0, 2});
  ASSERT_TRUE(bad.ok()) << bad.status().message();
  DemoContentParse parsed = ParseContent(*bad, 3);
  EXPECT_EQ(parsed.problem, Problem::kTooManyFields);
  EXPECT_EQ(parsed.record, 2);
  EXPECT_EQ(ParseContent(good, 3).problem, Problem::kNone);
}

}  // namespace
}  // namespace ringfence
