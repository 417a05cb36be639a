// The command line's one declaration (runner/cli.cc): forms, conversions and the exact usage
// errors, without running anything.
#include "runner/cli.h"

#include <gtest/gtest.h>

namespace ringfence {
namespace {

CommandLine Parse(std::vector<std::string> args) { return ParseCommandLine(args); }

TEST(CliTest, BothValueFormsAndTheLastOneWins) {
  const CommandLine line =
      Parse({"run", "x.json", "--journal=a.json", "--seed", "7", "--journal", "b.json", "--var=k=v",
             "--var", "n=1", "--watchdog-grace=250ms", "--max-targets=3", "--dry-run"});
  ASSERT_EQ(line.error, "");
  EXPECT_EQ(line.command, "run");
  EXPECT_EQ(line.run.file, "x.json");
  EXPECT_EQ(line.run.journal, "b.json");
  EXPECT_EQ(line.run.seed, 7u);
  EXPECT_EQ(line.run.vars, (std::map<std::string, std::string>{{"k", "v"}, {"n", "1"}}));
  EXPECT_EQ(line.run.watchdog_grace, std::chrono::milliseconds(250));
  EXPECT_EQ(line.run.max_targets, 3);
  EXPECT_TRUE(line.run.dry_run);
}

TEST(CliTest, DoubleDashEndsTheOptions) {
  const CommandLine line = Parse({"run", "--journal", "j.json", "--", "--dry-run"});
  ASSERT_EQ(line.error, "");
  EXPECT_EQ(line.run.file, "--dry-run");
  EXPECT_FALSE(line.run.dry_run);
  const CommandLine validate = Parse({"validate", "a.json", "--", "-b.json", "--var"});
  ASSERT_EQ(validate.error, "");
  EXPECT_EQ(validate.files, (std::vector<std::string>{"a.json", "-b.json", "--var"}));
}

TEST(CliTest, DashIsStandardInputAndOnlyOnce) {
  EXPECT_EQ(Parse({"run", "-"}).run.file, "-");
  EXPECT_EQ(Parse({"run", "x.json", "--inventory", "-"}).run.inventory, "-");
  EXPECT_EQ(Parse({"demo", "--scenario=-"}).demo.scenario, "-");
  EXPECT_EQ(Parse({"recover", "--inventory", "-"}).inventory, "-");
  EXPECT_EQ(Parse({"validate", "a.json", "-"}).files, (std::vector<std::string>{"a.json", "-"}));
  EXPECT_EQ(Parse({"run", "-", "--inventory=-"}).error,
            "ringfence run: standard input (-) can be read only once (see ringfence run --help)");
  EXPECT_EQ(Parse({"validate", "-", "-"}).error,
            "ringfence validate: standard input (-) can be read only once (see ringfence "
            "validate --help)");
}

TEST(CliTest, GlobalOptionsStandAnywhere) {
  EXPECT_EQ(Parse({"--log-format", "json", "status"}).log_format, LogFormat::kJson);
  EXPECT_EQ(Parse({"status", "--log-format=json"}).log_format, LogFormat::kJson);
  EXPECT_TRUE(Parse({"run", "--seed", "x", "--version"}).version);
  const CommandLine help = Parse({"run", "--seed", "x", "--help"});
  EXPECT_EQ(help.error, "");
  EXPECT_TRUE(help.help);
  EXPECT_EQ(help.help_command, "run");
  EXPECT_EQ(Parse({"help", "recover"}).help_command, "recover");
  EXPECT_TRUE(Parse({"help", "--markdown"}).markdown);
  EXPECT_EQ(Parse({"status", "--log-format", "xml"}).error,
            "ringfence: --log-format expects text or json");
  EXPECT_EQ(Parse({"status", "--log-format"}).error,
            "ringfence: --log-format expects text or json");
}

// The texts of usage errors, word for word (docs/cli.md "Usage errors").
TEST(CliTest, UsageErrorsWordForWord) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"run", "x.json", "--bogus"},
       "ringfence run: unknown option --bogus (see ringfence run --help)"},
      {{"run", "x.json", "--bogus=1"},
       "ringfence run: unknown option --bogus (see ringfence run --help)"},
      {{"run", "x.json", "--journal"},
       "ringfence run: --journal needs a value (see ringfence run --help)"},
      {{"run", "x.json", "--journal="},
       "ringfence run: --journal needs a value (see ringfence run --help)"},
      {{"run"}, "ringfence run: expected exactly one experiment FILE (see ringfence run --help)"},
      {{"run", "a", "b"},
       "ringfence run: expected exactly one experiment FILE (see ringfence run --help)"},
      {{"run", "x", "--seed", "-1"},
       "ringfence run: --seed \"-1\": expected an unsigned integer (see ringfence run --help)"},
      {{"run", "x", "--seed=-1"},
       "ringfence run: --seed \"-1\": expected an unsigned integer (see ringfence run --help)"},
      {{"run", "x", "--var", "=v"},
       "ringfence run: --var \"=v\": expected name=value (see ringfence run --help)"},
      {{"run", "x", "--secret", "hunter2"},
       "ringfence run: --secret: expected name=value (see ringfence run --help)"},
      {{"run", "x", "--progress", "sometimes"},
       "ringfence run: --progress \"sometimes\": expected auto, always or never (see ringfence run "
       "--help)"},
      {{"run", "x", "--watchdog-grace", "50ms"},
       "ringfence run: --watchdog-grace \"50ms\": expected a duration of at least 100ms (see "
       "ringfence run --help)"},
      {{"run", "x", "--max-targets", "0"},
       "ringfence run: --max-targets \"0\": expected a whole number of at least 1 (see ringfence "
       "run --help)"},
      {{"run", "x", "--push-binary", "rf"},
       "ringfence run: --push-binary \"rf\": expected an absolute path on the hosts (see "
       "ringfence run --help)"},
      {{"demo", "--fleet-size", "65"},
       "ringfence demo: --fleet-size \"65\": expected an integer from 1 to 64 (see ringfence demo "
       "--help)"},
      {{"demo", "--dry-run"},
       "ringfence demo: unknown option --dry-run (see ringfence demo --help)"},
      {{"demo", "x.json"},
       "ringfence demo: unexpected argument x.json (see ringfence demo --help)"},
      {{"status", "run"},
       "ringfence status: unexpected argument run (see ringfence status --help)"},
      {{"validate"},
       "ringfence validate: expected at least one experiment FILE (see ringfence validate --help)"},
      {{"watchdog", "--grace", "1s"},
       "ringfence watchdog: expected --ledger PATH (see ringfence watchdog --help)"},
      {{"host"},
       "ringfence host: expected an action (version, begin, match, prepare, plan, inject, observe, "
       "revert, verify, heartbeat, end, session, watchdog) (see ringfence host --help)"},
      {{"host", "dance"}, "ringfence host: unknown action dance (see ringfence host --help)"},
      {{"host", "end", "--grace", "5ms"},
       "ringfence host: --grace \"5ms\": at least 100ms (see ringfence host --help)"},
      {{"nope"},
       "ringfence: unknown command 'nope' (commands: run validate faults demo recover status "
       "watchdog host schedule scheduler history help)"},
      {{"--bogus", "run", "x"},
       "ringfence: unknown command '--bogus' (commands: run validate faults demo recover status "
       "watchdog host schedule scheduler history help)"},
      {{"help", "nope"},
       "ringfence help: unknown command 'nope' (commands: run validate faults demo recover status "
       "watchdog host schedule scheduler history help) (see ringfence help --help)"},
  };
  for (const auto& [args, error] : cases) {
    EXPECT_EQ(Parse(args).error, error) << args[0] << " " << (args.size() > 1 ? args[1] : "");
  }
}

TEST(CliTest, ParsedCommandsCarryTheirOptions) {
  const CommandLine recover = Parse({"recover", "--state-dir=/s", "--run", "r1", "--secret",
                                     "token=abcd", "--inventory", "inv.json"});
  ASSERT_EQ(recover.error, "");
  EXPECT_EQ(recover.state_dir, "/s");
  EXPECT_EQ(recover.run_id, "r1");
  EXPECT_EQ(recover.inventory, "inv.json");
  EXPECT_FALSE(recover.secrets.empty());
  EXPECT_NE(Parse({"status"}).state_dir, "");  // DefaultStateDir()
  const CommandLine host = Parse({"host", "begin", "--run=r1", "--grace", "2s"});
  ASSERT_EQ(host.error, "");
  EXPECT_EQ(host.host.action, "begin");
  EXPECT_EQ(host.host.run_id, "r1");
  EXPECT_EQ(host.host.grace, std::chrono::milliseconds(2000));
  EXPECT_NE(host.host.state_dir, "");
  const CommandLine watchdog = Parse({"watchdog", "--ledger=/s/runs/r.ledger", "--grace=500ms"});
  ASSERT_EQ(watchdog.error, "");
  EXPECT_EQ(watchdog.ledger, "/s/runs/r.ledger");
  EXPECT_EQ(watchdog.grace, std::chrono::milliseconds(500));
  const CommandLine demo = Parse({"demo", "--fleet-size=3", "--seed", "9", "--journal", "j"});
  ASSERT_EQ(demo.error, "");
  EXPECT_EQ(demo.demo.fleet_size, 3);
  EXPECT_EQ(demo.demo.run.seed, 9u);
  EXPECT_EQ(demo.demo.run.journal, "j");
  EXPECT_TRUE(Parse({"faults", "--json"}).json);
}

TEST(CliTest, HelpListsEveryOptionWithItsDescription) {
  const std::string run = HelpText("run");
  EXPECT_EQ(run.rfind("usage: ringfence run FILE [--journal P] ", 0), 0u) << run;
  EXPECT_NE(run.find("  --journal P               where the journal goes"), std::string::npos)
      << run;
  EXPECT_NE(run.find("[--var k=v]..."), std::string::npos) << run;
  EXPECT_NE(run.find("--log-format text|json"), std::string::npos) << run;
  EXPECT_NE(HelpText("").find("  recover   [--state-dir D]"), std::string::npos) << HelpText("");
  EXPECT_EQ(HelpText("nope"), "");
  const std::string md = MarkdownTables();
  EXPECT_NE(md.find("| `run` | `FILE [--journal P] "), std::string::npos) << md;
  EXPECT_NE(md.find("| `--progress auto\\|always\\|never` |"), std::string::npos) << md;
}

}  // namespace
}  // namespace ringfence
