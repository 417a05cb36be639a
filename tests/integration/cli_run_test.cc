// `ringfence run` end to end against real child processes: what it does is checked from
// outside (waitpid, /proc/PID/stat), never from its own output alone.
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/processes.h"

namespace ringfence::testing {
namespace {

std::string Experiment(const std::string& regex, const std::string& select,
                       const std::string& method, const std::string& extra = "") {
  nlohmann::json doc = {
      {"version", 1},
      {"title", "integration"},
      {"targets", {{"sleepers", {{"process", {{"cmdline", regex}}}, {"select", nlohmann::json::parse(select)}}}}},
      {"steady_state", nlohmann::json::array()},
      {"method", nlohmann::json::parse(method)},
      {"guards", nlohmann::json::array()}};
  if (!extra.empty()) doc.update(nlohmann::json::parse(extra));
  return doc.dump(2);
}

class CliRunTest : public ::testing::Test {
 protected:
  std::vector<std::string> Run(const std::string& file, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {RINGFENCE_BINARY, "run", file, "--journal",
                                     dir_.File("journal.json"), "--state-dir", dir_.File("state")};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }
  nlohmann::json Journal() { return nlohmann::json::parse(ReadFile(dir_.File("journal.json"))); }
  TempDir dir_;
};

TEST_F(CliRunTest, KillsExactlyCountTargets) {
  SleepChildren children(5);
  dir_.Write("kill.json", Experiment(children.cmdline_regex(), R"({"count": 2})",
                                     R"([{"type": "process_kill", "target": "sleepers",
                                          "params": {"signal": "SIGKILL"}, "duration": "100ms"}])"));
  ChildRun run(Run(dir_.File("kill.json"), {"--seed", "4"}), dir_.path());
  ASSERT_EQ(run.Wait(), 0) << run.err();
  int dead = 0;
  for (pid_t pid : children.pids()) {
    int status = 0;
    if (Eventually([&] { return children.Exited(pid, &status); }, std::chrono::milliseconds(500))) {
      ++dead;
      EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    }
  }
  EXPECT_EQ(dead, 2);
  nlohmann::json j = Journal();
  EXPECT_EQ(j["status"], "passed");
  EXPECT_EQ(j["seed"], 4);
  EXPECT_EQ(j["faults"][0]["targets"].size(), 2u);
  EXPECT_EQ(j["reverted_cleanly"], true);
}

TEST_F(CliRunTest, PausesThenResumes) {
  SleepChildren children(3);
  dir_.Write("pause.json", Experiment(children.cmdline_regex(), R"("all")",
                                      R"([{"type": "process_pause", "target": "sleepers", "duration": "1s"}])"));
  ChildRun run(Run(dir_.File("pause.json")), dir_.path());
  EXPECT_TRUE(Eventually([&] {
    return std::all_of(children.pids().begin(), children.pids().end(),
                       [](pid_t p) { return SleepChildren::State(p) == 'T'; });
  }));
  ASSERT_EQ(run.Wait(), 0) << run.err();
  for (pid_t pid : children.pids()) EXPECT_NE(SleepChildren::State(pid), 'T') << pid;
  EXPECT_EQ(Journal()["faults"][0]["revert_ok"], true);
  for (const auto& t : Journal()["faults"][0]["targets"]) {
    EXPECT_EQ(t["verified"], true) << t.dump();
    EXPECT_EQ(t["verification"].get<std::string>().find("pid "), 0u) << t.dump();
  }
}

// Issue 11, proof of every revert, end to end: the restart_command "succeeds" (/bin/true) but
// nothing matching the selector runs again, so the revert is not verified: exit 4 with the
// manual undo, the journal's target says verified: false and what was found.
TEST_F(CliRunTest, ARevertThatDoesNotVerifyExits4WithTheManualUndo) {
  SleepChildren children(1);
  dir_.Write("kill.json",
             Experiment(children.cmdline_regex(), R"({"count": 1})",
                        R"([{"type": "process_kill", "target": "sleepers",
                             "params": {"signal": "SIGKILL", "restart_command": ["/bin/true"]},
                             "duration": "100ms"}])",
                        R"({"settings": {"revert_attempts": 2}})"));
  ChildRun run(Run(dir_.File("kill.json")), dir_.path());
  ASSERT_EQ(run.Wait(), 4) << run.out() << run.err();
  EXPECT_NE((run.out() + run.err()).find("/bin/true"), std::string::npos) << run.out() << run.err();
  nlohmann::json j = Journal();
  EXPECT_EQ(j["reverted_cleanly"], false);
  const nlohmann::json t = j["faults"][0]["targets"][0];
  EXPECT_EQ(t["revert_ok"], false);
  EXPECT_EQ(t["verified"], false);
  EXPECT_EQ(t["verification"],
            "no live process matching the selector runs after the restart_command");
  ASSERT_EQ(j["manual_undo"].size(), 1u);
  EXPECT_NE(j["manual_undo"][0].get<std::string>().find("/bin/true"), std::string::npos);
}

TEST_F(CliRunTest, SigtermMidPauseRevertsAndExits143) {
  SleepChildren children(2);
  dir_.Write("pause.json", Experiment(children.cmdline_regex(), R"("all")",
                                      R"([{"type": "process_pause", "target": "sleepers", "duration": "10m"}])"));
  ChildRun run(Run(dir_.File("pause.json")), dir_.path());
  ASSERT_TRUE(Eventually([&] {
    return std::all_of(children.pids().begin(), children.pids().end(),
                       [](pid_t p) { return SleepChildren::State(p) == 'T'; });
  }));
  run.Signal(SIGTERM);
  EXPECT_EQ(run.Wait(), 143) << run.err();
  for (pid_t pid : children.pids()) EXPECT_NE(SleepChildren::State(pid), 'T') << pid;
  nlohmann::json j = Journal();
  EXPECT_EQ(j["status"], "interrupted");
  EXPECT_EQ(j["reason"], "interrupted by SIGTERM");
  EXPECT_EQ(j["reverted_cleanly"], true);
}

TEST_F(CliRunTest, SigintAndSighupRevertAndExitWithTheirCodes) {
  for (int signo : {SIGINT, SIGHUP}) {
    SleepChildren children(2);
    dir_.Write("pause.json", Experiment(children.cmdline_regex(), R"("all")",
                                        R"([{"type": "process_pause", "target": "sleepers", "duration": "10m"}])"));
    ChildRun run(Run(dir_.File("pause.json")), dir_.path());
    ASSERT_TRUE(Eventually([&] {
      return std::all_of(children.pids().begin(), children.pids().end(),
                         [](pid_t p) { return SleepChildren::State(p) == 'T'; });
    }));
    run.Signal(signo);
    if (signo == SIGINT) run.Signal(SIGINT);  // a second Ctrl-C must not skip the revert
    EXPECT_EQ(run.Wait(), 128 + signo) << run.err();
    for (pid_t pid : children.pids()) EXPECT_NE(SleepChildren::State(pid), 'T') << pid;
    EXPECT_EQ(Journal()["status"], "interrupted");
    EXPECT_EQ(Journal()["reverted_cleanly"], true);
  }
}

TEST_F(CliRunTest, FailingMethodProbeStillReverts) {
  SleepChildren children(2);
  dir_.Write("fail.json",
             Experiment(children.cmdline_regex(), R"("all")",
                        R"([{"type": "process_pause", "target": "sleepers", "duration": "10m"},
                            {"type": "probe", "probe": {"name": "always-false", "type": "command", "argv": ["false"]}}])"));
  ChildRun run(Run(dir_.File("fail.json")), dir_.path());
  EXPECT_EQ(run.Wait(), 1) << run.err();
  for (pid_t pid : children.pids()) EXPECT_NE(SleepChildren::State(pid), 'T') << pid;
  nlohmann::json j = Journal();
  EXPECT_EQ(j["status"], "failed");
  EXPECT_EQ(j["faults"][0]["revert_ok"], true);
}

TEST_F(CliRunTest, CountLargerThanMatchesTouchesNothing) {
  SleepChildren children(2);
  dir_.Write("big.json", Experiment(children.cmdline_regex(), R"({"count": 5})",
                                    R"([{"type": "process_pause", "target": "sleepers", "duration": "1s"}])"));
  ChildRun run(Run(dir_.File("big.json")), dir_.path());
  EXPECT_EQ(run.Wait(), 2);
  EXPECT_NE(run.err().find("/targets/sleepers/select/count: 5: at most the 2 processes that match"),
            std::string::npos)
      << run.err();
  for (pid_t pid : children.pids()) EXPECT_EQ(SleepChildren::State(pid), 'S');
}

TEST_F(CliRunTest, DryRunPrintsThePlanAndTouchesNothing) {
  SleepChildren children(3);
  dir_.Write("plan.json", Experiment(children.cmdline_regex(), R"({"count": 1})",
                                     R"([{"type": "process_pause", "name": "freeze", "target": "sleepers", "duration": "30s"}])"));
  ChildRun run(Run(dir_.File("plan.json"), {"--dry-run", "--seed", "1"}), dir_.path());
  ASSERT_EQ(run.Wait(), 0) << run.err();
  EXPECT_NE(run.out().find("freeze (process_pause) on target 'sleepers': starts 0s after its step, "
                           "active for 30s, 1 target:"),
            std::string::npos)
      << run.out();
  EXPECT_NE(run.out().find("undo: kill -CONT "), std::string::npos) << run.out();
  EXPECT_NE(run.out().find("dry run: nothing was injected"), std::string::npos);
  for (pid_t pid : children.pids()) EXPECT_EQ(SleepChildren::State(pid), 'S');
  EXPECT_EQ(ReadFile(dir_.File("journal.json")), "");
}

TEST_F(CliRunTest, InvalidExperimentExits2) {
  dir_.Write("bad.json", R"({"version": 1, "title": "x", "method": [], "guards": [], "tiltle": 1})");
  ChildRun run({RINGFENCE_BINARY, "validate", dir_.File("bad.json")}, dir_.path());
  EXPECT_EQ(run.Wait(), 2);
  EXPECT_NE(run.err().find(dir_.File("bad.json") + ": /tiltle: unknown key: "), std::string::npos)
      << run.err();
}

}  // namespace
}  // namespace ringfence::testing
