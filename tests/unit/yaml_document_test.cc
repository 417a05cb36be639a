#include "core/import/yaml_document.h"

#include <gtest/gtest.h>

namespace ringfence {
namespace {

using ojson = nlohmann::ordered_json;
using Lines = std::vector<std::string>;

Lines Errors(const std::string& text, int depth = 64) {
  ValidationErrors errors;
  EXPECT_FALSE(ParseYamlDocument(text, depth, errors).has_value());
  return errors.Format("exp.yaml");
}

TEST(YamlDocumentTest, ReadsScalarsAsTheCoreSchemaTypesThem) {
  ValidationErrors errors;
  auto doc = ParseYamlDocument(
      "title: t\nn: 3\nf: 0.5\nneg: -2\nyes: true\nno: false\nnothing: ~\nquoted: \"3\"\n"
      "single: 'true'\nlist: [1, a, \"b\"]\nmap: {k: v}\nblock: |\n  two\n  lines\n",
      64, errors);
  ASSERT_TRUE(doc) << errors.Format("x").front();
  EXPECT_EQ(*doc, ojson::parse(R"({"title": "t", "n": 3, "f": 0.5, "neg": -2, "yes": true,
      "no": false, "nothing": null, "quoted": "3", "single": "true", "list": [1, "a", "b"],
      "map": {"k": "v"}, "block": "two\nlines\n"})"));
  EXPECT_EQ(doc->begin().key(), "title");  // document order is kept
}

TEST(YamlDocumentTest, RefusesWithLineAndColumn) {
  EXPECT_EQ(Errors("title: t\nmethod:\n  - type: action\n   name: x\n"),
            Lines{"exp.yaml:4:4: syntax error: end of sequence not found"});
  EXPECT_EQ(Errors("a: &x 1\nb: *x\n"),
            Lines{"exp.yaml:1:4: an anchor: YAML without anchors and aliases"});
  EXPECT_EQ(Errors("a: !!python/object x\n"),
            Lines{"exp.yaml:1:4: tag tag:yaml.org,2002:python/object: YAML without tags"});
  EXPECT_EQ(Errors("a: 1\n---\nb: 2\n"),
            Lines{"exp.yaml:2:1: a second YAML document: exactly one document"});
  EXPECT_EQ(Errors("a: 1\na: 2\n"),
            Lines{"exp.yaml: /a: duplicate key: each key at most once in an object"});
  EXPECT_EQ(Errors("a: {b: {c: 1}}\n", 2),
            Lines{"exp.yaml: /: nesting deeper than 2 levels: at most 2 levels of arrays and "
                  "objects"});
  EXPECT_EQ(Errors(""), Lines{"exp.yaml: /: empty file: a YAML mapping"});
}

TEST(YamlDocumentTest, DeepNestingIsRefusedWithoutRecursion) {
  std::string deep(100000, '[');
  EXPECT_EQ(Errors(deep).size(), 1u);
}

TEST(YamlDocumentTest, KnowsYamlPathsByExtension) {
  EXPECT_TRUE(IsYamlPath("exp.yaml"));
  EXPECT_TRUE(IsYamlPath("a/b/EXP.YML"));
  EXPECT_FALSE(IsYamlPath("exp.json"));
  EXPECT_FALSE(IsYamlPath("-"));
}

}  // namespace
}  // namespace ringfence
