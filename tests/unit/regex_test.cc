#include "core/base/regex.h"

#include <chrono>
#include <string>

#include <gtest/gtest.h>

namespace ringfence {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

TEST(RegexTest, SearchesUnanchored) {
  EXPECT_TRUE(Regex("sleep 3600$").Search("/bin/sleep 3600"));
  EXPECT_FALSE(Regex("^sleep").Search("/bin/sleep 3600"));
  EXPECT_TRUE(Regex("\\d+").Search("port 8080"));
  EXPECT_TRUE(Regex().Search("anything"));
  EXPECT_TRUE(Regex("").Search(""));
}

// std::regex took 18 s and over 30 s for these (issue 11); RE2 is linear in the text.
TEST(RegexTest, CatastrophicBacktrackingPatternsAreFast) {
  const auto start = Clock::now();
  EXPECT_TRUE(Regex("(a+)+$").Search(std::string(28, 'a')));
  EXPECT_FALSE(Regex("^(a+)+$").Search(std::string(28, 'a') + "b"));
  EXPECT_TRUE(Regex("(a|aa)+$").Search(std::string(40, 'a')));
  EXPECT_FALSE(Regex("^(a|aa)+$").Search(std::string(40, 'a') + "b"));
  EXPECT_LT(SecondsSince(start), 1.0);
}

// std::regex overflowed the stack (exit 139) on both.
TEST(RegexTest, DeepPatternsAndLongTextsDoNotCrash) {
  const Regex deep(std::string(30000, '('));
  EXPECT_FALSE(deep.ok());
  EXPECT_FALSE(deep.Search("((("));
  EXPECT_EQ(deep.error().size() < 100, true) << deep.error();
  // Balanced, it compiles: RE2 parses and compiles without recursion.
  const Regex nested(std::string(30000, '(') + "a" + std::string(30000, ')'));
  EXPECT_TRUE(nested.Search("xay")) << nested.error();
  const auto start = Clock::now();
  EXPECT_TRUE(Regex("^x(.)*$").Search("x" + std::string(100000, 'y')));
  EXPECT_TRUE(Regex("^x(.)*$").Search("x" + std::string(10'000'000, 'y')));
  EXPECT_LT(SecondsSince(start), 5.0);
}

TEST(RegexTest, CompileErrorsAreRe2sTextCut) {
  EXPECT_EQ(Regex("demo(").error(), "missing ): demo(");
  EXPECT_EQ(Regex("[").error(), "missing ]: [");
  // No backreferences and no lookaround (RE2 syntax).
  EXPECT_EQ(Regex("(a)\\1").error(), "invalid escape sequence: \\1");
  EXPECT_EQ(Regex("a(?=b)").error(), "invalid perl operator: (?=");
  EXPECT_EQ(Regex(std::string(100, '(')).error(), "missing ): " + std::string(39, '(') + "…");
  EXPECT_TRUE(Regex("ok").error().empty());
}

TEST(RegexTest, ProgramsOverTheMemoryLimitAreRefused) {
  const Regex huge("((((a{100}){100}){100}){100}");
  EXPECT_FALSE(huge.ok());
  EXPECT_FALSE(huge.error().empty());
}

TEST(RegexTest, ComparesByPattern) {
  EXPECT_EQ(Regex("a+"), "a+");
  EXPECT_EQ(Regex("a+"), std::string("a+"));
  std::optional<Regex> maybe = "x";
  EXPECT_EQ(maybe, "x");
}

}  // namespace
}  // namespace ringfence
