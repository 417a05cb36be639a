// The real binary's command-line forms (docs/cli.md): `--opt=value`, `--`, `-` for standard
// input (with a file's bounds), the help of each command, and usage errors with exit 2.
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/processes.h"

namespace ringfence::testing {
namespace {

const char* kExperiment = R"({"version": 1, "title": "forms", "steady_state": [],
  "method": [{"type": "wait", "duration": "10ms"}], "guards": []})";

class CliFormsTest : public ::testing::Test {
 protected:
  // `command` through sh, for standard input redirections; exec keeps the exit code.
  ChildRun Shell(const std::string& command) {
    return ChildRun({"/bin/sh", "-c", "exec " + command}, dir_.path());
  }
  std::string Binary() const { return RINGFENCE_BINARY; }
  TempDir dir_;
};

// Issue 12: `ringfence run --journal=x.json …` was refused ("unknown option --journal=x.json").
TEST_F(CliFormsTest, RunTakesJoinedValuesAndAFileAfterDoubleDash) {
  dir_.Write("exp.json", kExperiment);
  ChildRun run({Binary(), "run", "--journal=" + dir_.File("j.json"),
                "--state-dir=" + dir_.File("state"), "--seed=5", "--", dir_.File("exp.json")},
               dir_.path());
  ASSERT_EQ(run.Wait(), 0) << run.err();
  const auto journal = nlohmann::json::parse(ReadFile(dir_.File("j.json")));
  EXPECT_EQ(journal["status"], "passed");
  EXPECT_EQ(journal["seed"], 5);
}

TEST_F(CliFormsTest, DashReadsTheExperimentFromStandardInput) {
  dir_.Write("exp.json", kExperiment);
  ChildRun run = Shell(Binary() + " run - --journal=" + dir_.File("j.json") + " --state-dir " +
                       dir_.File("state") + " < " + dir_.File("exp.json"));
  ASSERT_EQ(run.Wait(), 0) << run.err();
  const auto journal = nlohmann::json::parse(ReadFile(dir_.File("j.json")));
  EXPECT_EQ(journal["status"], "passed");
  ChildRun validate = Shell("cat " + dir_.File("exp.json") + " | " + Binary() + " validate -");
  EXPECT_EQ(validate.Wait(), 0) << validate.err();
  EXPECT_EQ(validate.out(), "-: ok (1 steps, 0 faults)\n");
}

// Standard input has a file's bounds: a pipe that goes on, or a redirected file, over 1 MiB is
// refused with the file's texts; an invalid document is reported under the name "-".
TEST_F(CliFormsTest, StandardInputKeepsTheBoundsOfAFile) {
  dir_.Write("big.json", std::string((1 << 20) + 10, ' '));
  ChildRun file = Shell(Binary() + " validate - < " + dir_.File("big.json"));
  EXPECT_EQ(file.Wait(), 2);
  EXPECT_EQ(file.err(), "-: /: 1048586 bytes: a file of at most 1048576 bytes (1 MiB)\n");
  ChildRun endless = Shell(Binary() + " validate - < /dev/zero");
  EXPECT_EQ(endless.Wait(std::chrono::seconds(20)), 2);
  EXPECT_EQ(endless.err(),
            "-: /: more than 1048576 bytes: a file of at most 1048576 bytes (1 MiB)\n");
  ChildRun bad = Shell("echo '{\"tiltle\": 1}' | " + Binary() + " run - --state-dir " +
                       dir_.File("state") + " --journal " + dir_.File("j.json"));
  EXPECT_EQ(bad.Wait(), 2);
  EXPECT_EQ(bad.err().rfind("-: /tiltle: unknown key: ", 0), 0u) << bad.err();
  EXPECT_EQ(ReadFile(dir_.File("j.json")), "");
}

TEST_F(CliFormsTest, HelpPrintsACommandsOptionsWithDescriptions) {
  ChildRun help({Binary(), "help", "recover"}, dir_.path());
  ASSERT_EQ(help.Wait(), 0);
  ChildRun flag({Binary(), "recover", "--help"}, dir_.path());
  ASSERT_EQ(flag.Wait(), 0);
  EXPECT_EQ(help.out(), flag.out());
  EXPECT_EQ(help.out().rfind("usage: ringfence recover [--state-dir D] [--run ID] [--inventory F] "
                             "[--secret k=v]...\n",
                             0),
            0u)
      << help.out();
  EXPECT_NE(help.out().find("  --run ID                  only this run's ledger\n"),
            std::string::npos)
      << help.out();
  ChildRun markdown({Binary(), "help", "--markdown"}, dir_.path());
  ASSERT_EQ(markdown.Wait(), 0);
  EXPECT_NE(markdown.out().find("| `--journal P` | where the journal goes"), std::string::npos);
}

TEST_F(CliFormsTest, UsageErrorsExit2WithTheirText) {
  ChildRun unknown({Binary(), "run", "x.json", "--jounral=j.json"}, dir_.path());
  EXPECT_EQ(unknown.Wait(), 2);
  EXPECT_EQ(unknown.err(), "ringfence run: unknown option --jounral (see ringfence run --help)\n");
  ChildRun command({Binary(), "rnu"}, dir_.path());
  EXPECT_EQ(command.Wait(), 2);
  EXPECT_EQ(
      command.err(),
      "ringfence: unknown command 'rnu' (commands: run convert validate suite map faults init "
      "demo report recover status watchdog host schedule scheduler history help)\n");
  ChildRun missing({Binary(), "status", "--state-dir"}, dir_.path());
  EXPECT_EQ(missing.Wait(), 2);
  EXPECT_EQ(missing.err(),
            "ringfence status: --state-dir needs a value (see ringfence status --help)\n");
}

}  // namespace
}  // namespace ringfence::testing
