#include "core/base/placeholders.h"

#include <map>

#include <gtest/gtest.h>

namespace ringfence {
namespace {

using ojson = nlohmann::ordered_json;
using Lines = std::vector<std::string>;

PlaceholderLookup From(std::map<std::string, std::string> values) {
  return [values](const std::string& name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

ojson Fill(const std::string& text, const PlaceholderLookup& lookup, Lines* lines = nullptr) {
  ValidationErrors errors;
  ojson out = FillPlaceholdersInString(text, lookup, "/x", errors);
  if (lines != nullptr)
    *lines = errors.Format("exp.json");
  else
    EXPECT_TRUE(errors.empty()) << errors.Format("exp.json")[0];
  return out;
}

TEST(PlaceholdersTest, ReplacesTextually) {
  auto lookup = From({{"host", "db1"}, {"port", "5432"}});
  EXPECT_EQ(Fill("${host}:${port}", lookup), ojson("db1:5432"));
  EXPECT_EQ(Fill("a ${host} b", lookup), ojson("a db1 b"));
  EXPECT_EQ(Fill("no placeholders $ here", lookup), ojson("no placeholders $ here"));
  EXPECT_EQ(Fill("", lookup), ojson(""));
}

TEST(PlaceholdersTest, WholePlaceholderBecomesNumberOrBoolean) {
  auto lookup = From({{"port", "8080"},
                      {"ratio", "0.5"},
                      {"neg", "-3"},
                      {"on", "true"},
                      {"off", "false"},
                      {"word", "null"},
                      {"list", "[1]"},
                      {"text", "abc"}});
  EXPECT_EQ(Fill("${port}", lookup), ojson(8080));
  EXPECT_EQ(Fill("${ratio}", lookup), ojson(0.5));
  EXPECT_EQ(Fill("${neg}", lookup), ojson(-3));
  EXPECT_EQ(Fill("${on}", lookup), ojson(true));
  EXPECT_EQ(Fill("${off}", lookup), ojson(false));
  EXPECT_EQ(Fill("${word}", lookup), ojson("null"));
  EXPECT_EQ(Fill("${list}", lookup), ojson("[1]"));
  EXPECT_EQ(Fill("${text}", lookup), ojson("abc"));
  EXPECT_EQ(Fill(" ${port}", lookup), ojson(" 8080"));
  EXPECT_EQ(Fill("${port}${port}", lookup), ojson("80808080"));
}

TEST(PlaceholdersTest, DoubleDollarIsALiteral) {
  auto lookup = From({{"a", "1x"}});
  EXPECT_EQ(Fill("$${a}", lookup), ojson("${a}"));
  EXPECT_EQ(Fill("$${a} ${a}", lookup), ojson("${a} 1x"));
  EXPECT_EQ(Fill("$${", lookup), ojson("${"));
  EXPECT_EQ(Fill("$$ and $", lookup), ojson("$$ and $"));
}

TEST(PlaceholdersTest, ValuesAreNotScannedAgain) {
  auto lookup = From({{"a", "${b}"}, {"b", "no"}});
  EXPECT_EQ(Fill("${a}", lookup), ojson("${b}"));
}

TEST(PlaceholdersTest, UnfilledIsAnError) {
  Lines lines;
  EXPECT_EQ(Fill("${port}", From({}), &lines), ojson("${port}"));
  EXPECT_EQ(lines, Lines{"exp.json: /x: \"${port}\": a value for placeholder 'port' (--var "
                         "port=VALUE or the environment variable port)"});
  EXPECT_EQ(Fill("${a}-${b}-${a}", From({{"b", "2"}}), &lines), ojson("${a}-${b}-${a}"));
  EXPECT_EQ(lines, Lines{"exp.json: /x: \"${a}-${b}-${a}\": a value for placeholder 'a' (--var "
                         "a=VALUE or the environment variable a)"});
}

TEST(PlaceholdersTest, MalformedIsAnError) {
  for (const char* text : {"${", "${}", "${a", "${1a}", "${a b}", "x ${ok} ${"}) {
    Lines lines;
    Fill(text, From({{"ok", "1"}}), &lines);
    ASSERT_EQ(lines.size(), 1u) << text;
    EXPECT_EQ(lines[0], "exp.json: /x: " + ojson(text).dump() +
                            ": placeholders written as ${name} (a name of letters, digits, '_', "
                            "'-' and '.'); write $${ for a literal ${");
  }
}

TEST(PlaceholdersTest, NamesMayHoldDotsAndDashes) {
  EXPECT_EQ(Fill("${svc.port-2_x}", From({{"svc.port-2_x", "7"}})), ojson(7));
}

TEST(PlaceholdersTest, ValueMustBeUtf8) {
  Lines lines;
  Fill("${bad}", From({{"bad", "\xff"}}), &lines);
  EXPECT_EQ(lines, Lines{"exp.json: /x: \"${bad}\": a value for placeholder 'bad' in UTF-8"});
}

TEST(PlaceholdersTest, FillsValuesNotKeysInTheWholeDocument) {
  ojson doc = ojson::parse(R"({"${k}": "${v}", "list": ["${v}", {"n": "${n}"}], "x": 1})");
  ValidationErrors errors;
  FillPlaceholders(doc, From({{"k", "key"}, {"v", "val"}}), "", errors);
  EXPECT_EQ(doc.dump(), R"({"${k}":"val","list":["val",{"n":"${n}"}],"x":1})");
  EXPECT_EQ(errors.Format("e"), Lines{"e: /list/1/n: \"${n}\": a value for placeholder 'n' "
                                      "(--var n=VALUE or the environment variable n)"});
}

}  // namespace
}  // namespace ringfence
