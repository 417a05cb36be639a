// ParseUntrustedJson (core/base/json_fields.h): the nesting bound, counted outside strings only,
// and the parser's reasons word for word.
#include <string>

#include <gtest/gtest.h>

#include "core/base/json_fields.h"

namespace ringfence {
namespace {

std::string Nested(int levels) { return std::string(levels, '[') + std::string(levels, ']'); }

TEST(UntrustedJsonTest, NestingUpToTheBoundIsReadAndDeeperIsRefused) {
  EXPECT_TRUE(ParseUntrustedJson(Nested(64)).ok());
  EXPECT_EQ(ParseUntrustedJson(Nested(65)).status().message(), "nesting deeper than 64 levels");
  EXPECT_EQ(ParseUntrustedJson("{\"a\": " + Nested(64) + "}").status().message(),
            "nesting deeper than 64 levels");
  EXPECT_EQ(ParseUntrustedJson(Nested(3), 2).status().message(), "nesting deeper than 2 levels");
  // Brackets in strings (an escaped quote included) are text, not nesting.
  auto in_string = ParseUntrustedJson("[\"\\\"" + std::string(100, '[') + "\"]", 2);
  ASSERT_TRUE(in_string.ok()) << in_string.status().message();
  EXPECT_EQ((*in_string)[0], "\"" + std::string(100, '['));
}

TEST(UntrustedJsonTest, WhatIsNotJsonSaysWhy) {
  EXPECT_EQ(ParseUntrustedJson("{\"a\": }").status().message(),
            "not JSON (parse error at line 1, column 7: syntax error while parsing value - "
            "unexpected '}'; expected '[', '{', or a literal)");
  EXPECT_EQ(ParseUntrustedJson("[1, 2").status().message(),
            "not JSON (parse error at line 1, column 6: syntax error while parsing array - "
            "unexpected end of input; expected ']')");
}

// A journal's long sample lists: many objects in one array are all read, in order.
TEST(UntrustedJsonTest, ManyObjectsInOneArray) {
  std::string text = "{\"samples\": [";
  for (int i = 0; i < 100000; ++i) text += (i ? ",{\"v\":" : "{\"v\":") + std::to_string(i) + "}";
  text += "]}";
  auto parsed = ParseUntrustedJson(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  ASSERT_EQ((*parsed)["samples"].size(), 100000u);
  EXPECT_EQ((*parsed)["samples"][99999]["v"], 99999);
}

}  // namespace
}  // namespace ringfence
