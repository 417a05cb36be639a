// The suite's pure parts (runner/run/suite_runner.h, runner/run/suite_file.h,
// runner/base/var_file.h): exit code precedence, journal names, folder expansion, var files and
// suite files with their errors.
#include <filesystem>

#include <gtest/gtest.h>

#include "runner/base/var_file.h"
#include "runner/run/suite_file.h"
#include "runner/run/suite_runner.h"
#include "tests/support/processes.h"

namespace ringfence {
namespace {

using testing::TempDir;

std::vector<SuiteMember> WithCodes(const std::vector<int>& codes) {
  std::vector<SuiteMember> members;
  for (int c : codes) {
    SuiteMember m;
    m.exit_code = c;
    members.push_back(m);
  }
  return members;
}

TEST(SuiteTest, TheExitCodeIsTheWorst) {
  EXPECT_EQ(SuiteExitCode({}), 0);
  EXPECT_EQ(SuiteExitCode(WithCodes({0, 0})), 0);
  EXPECT_EQ(SuiteExitCode(WithCodes({0, 1, 0})), 1);
  EXPECT_EQ(SuiteExitCode(WithCodes({1, 2, 1})), 2);
  EXPECT_EQ(SuiteExitCode(WithCodes({1, 3, 2})), 3);
  EXPECT_EQ(SuiteExitCode(WithCodes({3, 130, 1})), 130);
  EXPECT_EQ(SuiteExitCode(WithCodes({143, 3})), 143);
  EXPECT_EQ(SuiteExitCode(WithCodes({4, 130, 3, 1})), 4);
  EXPECT_EQ(SuiteExitCode(WithCodes({0, 1, 3, 4})), 4);
}

TEST(SuiteTest, JournalsAreNamedAfterTheirFilesAndNeverCollide) {
  EXPECT_EQ(SuiteJournalPaths({"a/web.json", "b/web.json", "web.json", "db.json", "x/web"}, "out"),
            (std::vector<std::string>{"out/web.journal.json", "out/web-2.journal.json",
                                      "out/web-3.journal.json", "out/db.journal.json",
                                      "out/web-4.journal.json"}));
}

TEST(SuiteTest, FoldersStandForTheirSortedJsonFiles) {
  TempDir dir;
  std::filesystem::create_directories(dir.File("f/sub"));
  for (const char* name : {"f/b.json", "f/a.json", "f/c.txt", "f/sub/d.json"})
    dir.Write(name, "{}");
  std::filesystem::create_directories(dir.File("empty"));
  std::vector<std::string> errors;
  EXPECT_EQ(
      ExpandSuiteArguments({dir.File("x.json"), dir.File("f")}, errors),
      (std::vector<std::string>{dir.File("x.json"), dir.File("f/a.json"), dir.File("f/b.json")}));
  EXPECT_TRUE(errors.empty());
  ExpandSuiteArguments({dir.File("empty")}, errors);
  EXPECT_EQ(errors, (std::vector<std::string>{dir.File("empty") +
                                              ": a folder with no *.json experiment files"}));
}

// Each case's text written to `name` is refused with exactly its errors, and nothing is set.
void ExpectRefused(TempDir& dir, const std::string& name,
                   const std::vector<std::pair<std::string, std::vector<std::string>>>& cases) {
  for (const auto& [text, expected] : cases) {
    dir.Write(name, text);
    std::map<std::string, std::string> untouched = {{"k", "v"}};
    ValidationErrors e;
    EXPECT_FALSE(ReadVarFile(dir.File(name), untouched, e)) << text;
    EXPECT_EQ(e.Format(name), expected) << text;
    EXPECT_EQ(untouched, (std::map<std::string, std::string>{{"k", "v"}}));
  }
}

TEST(SuiteTest, VarFiles) {
  TempDir dir;
  dir.Write("v.json", R"({"port": 8080, "ratio": 0.25, "on": false, "name": "web", "big": 1e3})");
  std::map<std::string, std::string> vars = {{"port", "1"}, {"kept", "yes"}};
  ValidationErrors errors;
  ASSERT_TRUE(ReadVarFile(dir.File("v.json"), vars, errors));
  EXPECT_EQ(vars, (std::map<std::string, std::string>{{"port", "8080"},
                                                      {"ratio", "0.25"},
                                                      {"on", "false"},
                                                      {"name", "web"},
                                                      {"big", "1000"},
                                                      {"kept", "yes"}}));
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {R"([1, 2])", {"v.json: /: [1,2]: a JSON object of placeholder names and their values"}},
      {R"({"a": {"b": 1}, "c": null, "a b": "x"})",
       {"v.json: /a: {\"b\":1}: a string, a number, true or false",
        "v.json: /c: null: a string, a number, true or false",
        "v.json: /a b: \"a b\": a placeholder name: a letter or '_', then letters, digits, '_', "
        "'-' or '.'"}},
      {R"({"a": 1, "a": 2})", {"v.json: /a: duplicate key: each key at most once in an object"}},
  };
  ExpectRefused(dir, "v.json", cases);
}

TEST(SuiteTest, VarFilesInYaml) {
  TempDir dir;
  const std::string yaml = "port: 8080\nratio: 0.25\non: false\nname: web\nquoted: \"007\"\n";
  const std::map<std::string, std::string> expected = {
      {"port", "8080"}, {"ratio", "0.25"}, {"on", "false"}, {"name", "web"}, {"quoted", "007"}};
  // By the name (.yaml, .yml) and, for any other name, by the content.
  for (const std::string name : {"v.yaml", "v.YML", "vars"}) {
    dir.Write(name, yaml);
    std::map<std::string, std::string> vars;
    ValidationErrors errors;
    ASSERT_TRUE(ReadVarFile(dir.File(name), vars, errors)) << name;
    EXPECT_EQ(vars, expected) << name;
  }
  // JSON content under a name that is neither is still JSON (its errors are JSON's).
  dir.Write("vars", R"({"port": 8080})");
  std::map<std::string, std::string> vars;
  ValidationErrors errors;
  ASSERT_TRUE(ReadVarFile(dir.File("vars"), vars, errors));
  EXPECT_EQ(vars, (std::map<std::string, std::string>{{"port", "8080"}}));

  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"- 1\n- 2\n", {"v.yaml: /: [1,2]: a YAML mapping of placeholder names and their values"}},
      {"a:\n  b: 1\nc: ~\n",
       {"v.yaml: /a: {\"b\":1}: a string, a number, true or false",
        "v.yaml: /c: null: a string, a number, true or false"}},
      {"a: 1\na: 2\n", {"v.yaml: /a: duplicate key: each key at most once in an object"}},
      {"a: [1, 2\nb: 3\n", {"v.yaml:2:2: syntax error: end of sequence flow not found"}},
      {"a: &x 1\nb: *x\n", {"v.yaml:1:4: an anchor: YAML without anchors and aliases"}},
      {"", {"v.yaml: /: empty file: a YAML mapping"}},
  };
  ExpectRefused(dir, "v.yaml", cases);
  ValidationErrors missing;
  EXPECT_FALSE(ReadVarFile(dir.File("none.yml"), vars, missing));
  EXPECT_EQ(missing.Format("none.yml"),
            (std::vector<std::string>{
                "none.yml: /: cannot read the file (No such file or directory): a readable YAML "
                "file"}));
}

TEST(SuiteTest, SuiteFileResolvesPathsAndLayersVars) {
  TempDir dir;
  std::filesystem::create_directories(dir.File("s/vars"));
  dir.Write("s/vars/shared.json",
            R"({"a": "shared-file", "b": "shared-file", "c": "shared-file"})");
  dir.Write("s/own.json", R"({"a": "own-file", "d": "own-file"})");
  dir.Write("s/suite.json", R"({"version": 1, "title": "t", "fail_fast": true,
    "tags": ["web"], "skip_tags": ["slow"], "journal_dir": "j",
    "var_files": ["vars/shared.json"], "vars": {"b": "shared", "c": "shared"},
    "experiments": [{"file": "one.json", "var_files": ["own.json"], "vars": {"c": "own"}},
                    {"file": "/abs/two.json"}]})");
  ValidationErrors errors;
  std::vector<std::pair<std::string, ValidationErrors>> var_errors;
  auto suite = LoadSuiteFile(dir.File("s/suite.json"), errors, var_errors);
  ASSERT_TRUE(suite) << (errors.empty() ? "" : errors.Format("s")[0]);
  EXPECT_EQ(suite->title, "t");
  EXPECT_TRUE(suite->fail_fast);
  EXPECT_EQ(suite->journal_dir, "j");
  EXPECT_EQ(suite->tags, (std::vector<std::string>{"web"}));
  EXPECT_EQ(suite->skip_tags, (std::vector<std::string>{"slow"}));
  ASSERT_EQ(suite->experiments.size(), 2u);
  EXPECT_EQ(suite->experiments[0].file, dir.File("s/one.json"));
  EXPECT_EQ(suite->experiments[1].file, "/abs/two.json");
  EXPECT_EQ(suite->experiments[0].vars,
            (std::map<std::string, std::string>{
                {"a", "own-file"}, {"b", "shared"}, {"c", "own"}, {"d", "own-file"}}));
  EXPECT_EQ(
      suite->experiments[1].vars,
      (std::map<std::string, std::string>{{"a", "shared-file"}, {"b", "shared"}, {"c", "shared"}}));
}

TEST(SuiteTest, SuiteFileErrorsWordForWord) {
  TempDir dir;
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {R"([])",
       {"s.json: /: []: an object with one of version, title, description, journal_dir, "
        "fail_fast, tags, skip_tags, vars, var_files, experiments"}},
      {R"({})",
       {"s.json: /version: missing: 1",
        "s.json: /experiments: missing: a non-empty array of experiment objects"}},
      {R"({"version": 2, "experiments": [], "tags": ["", 3], "title": 1})",
       {"s.json: /version: 2: 1", "s.json: /tags/0: \"\": a non-empty string",
        "s.json: /tags/1: 3: a non-empty string", "s.json: /title: 1: a non-empty string",
        "s.json: /experiments: []: a non-empty array of experiment objects"}},
      {R"({"version": 1, "experiments": [{"file": "a.json", "seed": 1}]})",
       {"s.json: /experiments/0/seed: unknown key: one of file, vars, var_files"}},
      {R"({"version": 1,)", {"s.json:1:15: syntax error: "}},
  };
  for (const auto& [text, expected] : cases) {
    dir.Write("s.json", text);
    ValidationErrors errors;
    std::vector<std::pair<std::string, ValidationErrors>> var_errors;
    EXPECT_FALSE(LoadSuiteFile(dir.File("s.json"), errors, var_errors)) << text;
    std::vector<std::string> lines = errors.Format("s.json");
    if (expected.size() == 1 && expected[0].find("syntax error") != std::string::npos) {
      ASSERT_EQ(lines.size(), 1u);
      EXPECT_EQ(lines[0].rfind(expected[0], 0), 0u) << lines[0];
      continue;
    }
    EXPECT_EQ(lines, expected) << text;
  }
  dir.Write("s.json",
            R"({"version": 1, "var_files": ["nope.json"], "experiments": [{"file": "a"}]})");
  ValidationErrors errors;
  std::vector<std::pair<std::string, ValidationErrors>> var_errors;
  EXPECT_FALSE(LoadSuiteFile(dir.File("s.json"), errors, var_errors));
  EXPECT_TRUE(errors.empty());
  ASSERT_EQ(var_errors.size(), 1u);
  EXPECT_EQ(var_errors[0].first, dir.File("nope.json"));
  EXPECT_EQ(var_errors[0].second.Format("nope.json"),
            (std::vector<std::string>{"nope.json: /: cannot read the file (No such file or "
                                      "directory): a readable JSON file"}));
}

}  // namespace
}  // namespace ringfence
