// Man pages and bash completion generated from the CLI declaration (runner/cli/cli_generators.h).
// That they render without a groff warning and complete in a real bash is checked on the
// installed files (tests/package/installed_test.sh).
#include "runner/cli/cli_generators.h"

#include <gtest/gtest.h>

#include "runner/cli/cli_description.h"

namespace ringfence {
namespace {

CliInfo Tiny() {
  CliInfo cli;
  cli.version = "9.9.9";
  cli.exit_codes = "exit codes: 0 passed; 2 invalid input;\n  130 / 143 interrupted\n";
  CliOptionInfo global{
      {"--log-format"}, "text|json", "--log-format text|json", "logs", false, false, false};
  cli.global_options.push_back(global);
  CliCommandInfo go{"go", "do it", "FILE [--mode a|b] [--out P]", {}};
  go.options.push_back({{}, "FILE", "FILE", "the file", true, false, false});
  go.options.push_back({{"--mode"},
                        "a|b",
                        "--mode a|b",
                        ".starts with a dot \\ and a backslash",
                        false,
                        false,
                        false});
  go.options.push_back({{"--output", "-o"}, "P", "--output P", "where", false, false, false});
  go.options.push_back(
      {{"--dry-run"}, "", "--dry-run", "nothing \u2026 at all", false, false, false});
  cli.commands.push_back(go);
  CliCommandInfo faults{"faults", "list", "[TYPE...]", {}};
  faults.options.push_back({{}, "[TYPE...]", "[TYPE...]", "types", true, false, false});
  cli.commands.push_back(faults);
  return cli;
}

TEST(CliGeneratorsTest, OneManPagePerCommandAndAnOverview) {
  const auto pages = ManPages(Tiny());
  ASSERT_EQ(pages.size(), 3u);
  EXPECT_TRUE(pages.contains("ringfence.1"));
  EXPECT_TRUE(pages.contains("ringfence-go.1"));
  EXPECT_TRUE(pages.contains("ringfence-faults.1"));
  const std::string& overview = pages.at("ringfence.1");
  EXPECT_NE(overview.find(".TH RINGFENCE 1 \"\" \"ringfence 9.9.9\" \"ringfence manual\"\n"),
            std::string::npos)
      << overview;
  EXPECT_NE(overview.find(".TP\n.B go\ndo it\n.BR ringfence\\-go (1).\n"), std::string::npos)
      << overview;
  EXPECT_NE(overview.find(".BR ringfence\\-go (1),\n.BR ringfence\\-faults (1)\n"),
            std::string::npos)
      << overview;
}

TEST(CliGeneratorsTest, CommandPageHasTheDeclaredOptionsEscapedForRoff) {
  const std::string page = ManPages(Tiny()).at("ringfence-go.1");
  EXPECT_NE(page.find(".TH RINGFENCE\\-GO 1 "), std::string::npos) << page;
  EXPECT_NE(page.find(".SH NAME\nringfence\\-go \\- do it\n"), std::string::npos) << page;
  EXPECT_NE(page.find(".SH SYNOPSIS\n.B ringfence go\nFILE [\\-\\-mode a|b] [\\-\\-out P]\n"),
            std::string::npos)
      << page;
  EXPECT_NE(page.find(".TP\n\\fIFILE\\fR\nthe file\n"), std::string::npos) << page;
  // A line must not start with a control character; a backslash is \e.
  EXPECT_NE(page.find(".TP\n\\fB\\-\\-mode\\fR \\fIa|b\\fR\n\\&.starts with a dot \\e and a "
                      "backslash\n"),
            std::string::npos)
      << page;
  EXPECT_NE(page.find(".TP\n\\fB\\-o\\fR, \\fB\\-\\-output\\fR \\fIP\\fR\nwhere\n"),
            std::string::npos)
      << page;
  // groff reads Latin-1: UTF-8 is written as \[uXXXX].
  EXPECT_NE(page.find(".TP\n\\fB\\-\\-dry\\-run\\fR\nnothing \\[u2026] at all\n"),
            std::string::npos)
      << page;
  EXPECT_NE(page.find(".SH EXIT STATUS\n.TP\n.B 0\npassed\n.TP\n.B 2\ninvalid input\n.TP\n"
                      ".B 130 / 143\ninterrupted\n"),
            std::string::npos)
      << page;
}

TEST(CliGeneratorsTest, CompletionKnowsCommandsOptionsValuesAndFiles) {
  const std::string script = BashCompletion(Tiny(), {"latency", "disk_fill"}, {"pause"});
  EXPECT_NE(script.find("complete -F _ringfence ringfence\n"), std::string::npos);
  EXPECT_NE(script.find("      go|faults) cmd="), std::string::npos) << script;
  EXPECT_NE(script.find("    *:--log-format) _ringfence_words 'text json'; return ;;\n"),
            std::string::npos)
      << script;
  EXPECT_NE(script.find("    go:--mode) _ringfence_words 'a b'; return ;;\n"), std::string::npos)
      << script;
  EXPECT_NE(script.find("    go:--output|go:-o) _ringfence_files; return ;;\n"), std::string::npos)
      << script;
  EXPECT_NE(script.find("      go) _ringfence_words '--mode --output -o --dry-run "
                        "--log-format' ;;\n"),
            std::string::npos)
      << script;
  EXPECT_NE(script.find("    go) _ringfence_files ;;\n"), std::string::npos) << script;
  EXPECT_NE(script.find("    faults) _ringfence_words 'latency disk_fill' ;;\n"), std::string::npos)
      << script;
  EXPECT_EQ(script.find("go:--dry-run)"), std::string::npos) << "a flag takes no value";
}

}  // namespace
}  // namespace ringfence
