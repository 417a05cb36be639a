#include "core/base/json_path.h"

#include <gtest/gtest.h>

namespace ringfence {
namespace {

using json = nlohmann::json;

std::vector<json> Select(const std::string& path, const json& doc) {
  Result<JsonPath> p = JsonPath::Parse(path);
  EXPECT_TRUE(p.ok()) << path << ": " << p.status().message();
  return p.ok() ? p->Select(doc) : std::vector<json>{};
}

TEST(JsonPathTest, SelectsMembersElementsWildcardsAndDescendants) {
  const json doc = json::parse(R"({"a": {"b": [1, 2, 3]}, "c": [{"name": "x"}, {"name": "y"}],
                                    "d": {"name": "z"}, "odd key": true})");
  EXPECT_EQ(Select("$", doc), std::vector<json>{doc});
  EXPECT_EQ(Select("$.a.b[0]", doc), std::vector<json>{1});
  EXPECT_EQ(Select("$.a.b[-1]", doc), std::vector<json>{3});
  EXPECT_EQ(Select("$.a.b[*]", doc), (std::vector<json>{1, 2, 3}));
  EXPECT_EQ(Select("$.c[*].name", doc), (std::vector<json>{"x", "y"}));
  EXPECT_EQ(Select("$..name", doc), (std::vector<json>{"x", "y", "z"}));
  EXPECT_EQ(Select("$['odd key']", doc), std::vector<json>{true});
  EXPECT_EQ(Select("$.d.*", doc), std::vector<json>{"z"});
  EXPECT_TRUE(Select("$.missing.b", doc).empty());
  EXPECT_TRUE(Select("$.a.b[7]", doc).empty());
}

TEST(JsonPathTest, RefusesWhatItDoesNotSupportWithWhere) {
  EXPECT_EQ(JsonPath::Parse("a.b").status().message(), "expected '$' at 1");
  EXPECT_EQ(JsonPath::Parse("$.").status().message(), "expected a member name at 3");
  EXPECT_EQ(JsonPath::Parse("$.a[?(@.b)]").status().message(),
            "expected an index, '*' or a quoted name at 5");
  EXPECT_EQ(JsonPath::Parse("$.a[1:2]").status().message(), "expected ']' at 6");
  EXPECT_EQ(JsonPath::Parse("$['a").status().message(), "unterminated quoted name at 4");
  EXPECT_EQ(JsonPath::Parse("$" + std::string(2000, 'a')).status().message(),
            "longer than 1024 characters");
}

}  // namespace
}  // namespace ringfence
