// The command line's one declaration (runner/cli/cli.cc): forms, conversions and the exact usage
// errors, without running anything.
#include "runner/cli/cli.h"

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
      {{"run"}, "ringfence run: expected at least one experiment FILE (see ringfence run --help)"},
      {{"run", "a", "b", "--journal", "j"},
       "ringfence run: --journal names the journal of one run; a suite writes one per "
       "experiment in --journal-dir (see ringfence run --help)"},
      {{"run", "a", "-"},
       "ringfence run: standard input (-) cannot be part of a suite (see ringfence run --help)"},
      {{"run", "a", "--tags", "web,,db"},
       "ringfence run: --tags \"web,,db\": expected tag names separated by commas (see ringfence "
       "run --help)"},
      {{"suite"}, "ringfence suite: expected exactly one suite FILE (see ringfence suite --help)"},
      {{"map"}, "ringfence map: expected exactly one map FILE (see ringfence map --help)"},
      {{"map", "m.json", "--var", "k=v"},
       "ringfence map: unknown option --var (see ringfence map --help)"},
      {{"suite", "-"},
       "ringfence suite: expected a suite file, not standard input (see ringfence suite --help)"},
      {{"suite", "s.json", "--journal", "j"},
       "ringfence suite: unknown option --journal (see ringfence suite --help)"},
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
      {{"init", "--template", "nope"},
       "ringfence init: --template \"nope\": expected one of bad-update-rehearsal, disk-fill, "
       "kill-and-restart, latency-to-dependency, pause (see ringfence init --help)"},
      {{"init", "-o"}, "ringfence init: --output needs a value (see ringfence init --help)"},
      {{"init", "x.json"},
       "ringfence init: unexpected argument x.json (see ringfence init --help)"},
      {{"faults", "latency", "slowness"},
       "ringfence faults: unknown fault type 'slowness' (types: bad_update cpu_stress disk_fill "
       "latency memory_stress network_loss network_partition process_kill process_pause) (see "
       "ringfence faults --help)"},
      {{"help", "--man", "d", "--bash-completion"},
       "ringfence help: --markdown, --man and --bash-completion exclude each other (see ringfence "
       "help --help)"},
      {{"nope"},
       "ringfence: unknown command 'nope' (commands: run convert validate suite map faults "
       "init demo report recover status watchdog host schedule scheduler history help)"},
      {{"--bogus", "run", "x"},
       "ringfence: unknown command '--bogus' (commands: run convert validate suite map faults "
       "init demo report recover status watchdog host schedule scheduler history help)"},
      {{"help", "nope"},
       "ringfence help: unknown command 'nope' (commands: run convert validate suite map "
       "faults init demo report recover status watchdog host schedule scheduler history help) (see "
       "ringfence help --help)"},
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
  EXPECT_TRUE(Parse({"status", "--json"}).json);
}

// Suites (docs/suites.md): one FILE stays one run; several, or a suite option, make a suite.
TEST(CliTest, SuiteOptions) {
  const CommandLine one = Parse({"run", "a.json", "--var-file", "v1.json", "--var-file=v2.json"});
  ASSERT_EQ(one.error, "");
  EXPECT_FALSE(one.suite.suite);
  EXPECT_EQ(one.run.file, "a.json");
  EXPECT_EQ(one.suite.var_files, (std::vector<std::string>{"v1.json", "v2.json"}));
  const CommandLine many = Parse({"run", "a.json", "dir/", "--journal-dir", "out", "--fail-fast",
                                  "--tags", "web,db", "--skip-tags=slow"});
  ASSERT_EQ(many.error, "");
  EXPECT_TRUE(many.suite.suite);
  EXPECT_EQ(many.suite.files, (std::vector<std::string>{"a.json", "dir/"}));
  EXPECT_EQ(many.suite.journal_dir, "out");
  EXPECT_TRUE(many.suite.fail_fast);
  EXPECT_EQ(many.suite.tags, (std::vector<std::string>{"web", "db"}));
  EXPECT_EQ(many.suite.skip_tags, (std::vector<std::string>{"slow"}));
  EXPECT_TRUE(Parse({"run", "a.json", "--tags", "web"}).suite.suite);
  const CommandLine suite = Parse({"suite", "s.json", "--var", "k=v", "--fail-fast", "--seed=3"});
  ASSERT_EQ(suite.error, "");
  EXPECT_EQ(suite.command, "suite");
  EXPECT_EQ(suite.suite.files, (std::vector<std::string>{"s.json"}));
  EXPECT_TRUE(suite.suite.fail_fast);
  EXPECT_EQ(suite.run.seed, 3u);
  EXPECT_EQ(suite.run.vars.at("k"), "v");
  const CommandLine map = Parse({"map", "m.json", "--dry-run", "--journal", "j.json"});
  ASSERT_EQ(map.error, "");
  EXPECT_EQ(map.command, "map");
  EXPECT_EQ(map.map.file, "m.json");
  EXPECT_TRUE(map.map.dry_run);
  EXPECT_EQ(map.map.journal, "j.json");
  const CommandLine validate = Parse({"validate", "--templates", "a.json", "--var-file", "v.json"});
  ASSERT_EQ(validate.error, "");
  EXPECT_TRUE(validate.templates);
  EXPECT_EQ(validate.var_files, (std::vector<std::string>{"v.json"}));
  EXPECT_EQ(Parse({"demo", "--suite", "s.json"}).demo.suite, "s.json");
}

TEST(CliTest, QuietAndVerboseCount) {
  EXPECT_EQ(Parse({"status"}).verbosity, 0);
  EXPECT_EQ(Parse({"-q", "status"}).verbosity, -1);
  EXPECT_EQ(Parse({"status", "-qq"}).verbosity, -2);
  EXPECT_EQ(Parse({"status", "--verbose", "-v"}).verbosity, 2);
  EXPECT_EQ(Parse({"-v", "run", "x.json", "--quiet"}).verbosity, 0);
  EXPECT_EQ(Parse({"faults", "latency", "disk_fill"}).fault_types,
            (std::vector<std::string>{"latency", "disk_fill"}));
  const CommandLine init = Parse({"init"});
  ASSERT_EQ(init.error, "");
  EXPECT_EQ(init.init.template_name, "kill-and-restart");
  EXPECT_EQ(init.init.output, "experiment.json");
  const CommandLine pause = Parse({"init", "--template=pause", "-o", "-"});
  ASSERT_EQ(pause.error, "");
  EXPECT_EQ(pause.init.template_name, "pause");
  EXPECT_EQ(pause.init.output, "-");
  EXPECT_EQ(Parse({"init", "--output", "x.json"}).init.output, "x.json");
  EXPECT_EQ(Parse({"help", "--man", "/tmp/m"}).man_dir, "/tmp/m");
  EXPECT_TRUE(Parse({"help", "--bash-completion"}).bash_completion);
}

TEST(CliTest, HelpListsEveryOptionWithItsDescription) {
  const std::string run = HelpText("run");
  EXPECT_EQ(run.rfind("usage: ringfence run FILE... [--journal P] ", 0), 0u) << run;
  EXPECT_NE(run.find("  --journal P               where the journal goes"), std::string::npos)
      << run;
  EXPECT_NE(run.find("[--var k=v]..."), std::string::npos) << run;
  EXPECT_NE(run.find("--log-format text|json"), std::string::npos) << run;
  EXPECT_NE(HelpText("").find("  recover   [--state-dir D]"), std::string::npos) << HelpText("");
  EXPECT_EQ(HelpText("nope"), "");
  const std::string md = MarkdownTables();
  EXPECT_NE(md.find("| `run` | `FILE... [--journal P] "), std::string::npos) << md;
  EXPECT_NE(md.find("| `--progress auto\\|always\\|never` |"), std::string::npos) << md;
}

}  // namespace
}  // namespace ringfence
