// `ringfence run` end to end against real child processes: what it does is checked from
// outside (waitpid, /proc/PID/stat), never from its own output alone.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

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
      {"targets",
       {{"sleepers",
         {{"process", {{"cmdline", regex}}}, {"select", nlohmann::json::parse(select)}}}}},
      {"steady_state", nlohmann::json::array()},
      {"method", nlohmann::json::parse(method)},
      {"guards", nlohmann::json::array()}};
  if (!extra.empty()) doc.update(nlohmann::json::parse(extra));
  return doc.dump(2);
}

class CliRunTest : public ::testing::Test {
 protected:
  std::vector<std::string> Run(const std::string& file, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {
        RINGFENCE_BINARY,  "run", file, "--journal", dir_.File("journal.json"), "--state-dir",
        dir_.File("state")};
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
  dir_.Write("pause.json",
             Experiment(children.cmdline_regex(), R"("all")",
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
  dir_.Write("kill.json", Experiment(children.cmdline_regex(), R"({"count": 1})",
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
  dir_.Write("pause.json",
             Experiment(children.cmdline_regex(), R"("all")",
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
    dir_.Write(
        "pause.json",
        Experiment(children.cmdline_regex(), R"("all")",
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
  dir_.Write("big.json",
             Experiment(children.cmdline_regex(), R"({"count": 5})",
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
  dir_.Write(
      "plan.json",
      Experiment(
          children.cmdline_regex(), R"({"count": 1})",
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
  dir_.Write("bad.json",
             R"({"version": 1, "title": "x", "method": [], "guards": [], "tiltle": 1})");
  ChildRun run({RINGFENCE_BINARY, "validate", dir_.File("bad.json")}, dir_.path());
  EXPECT_EQ(run.Wait(), 2);
  EXPECT_NE(run.err().find(dir_.File("bad.json") + ": /tiltle: unknown key: "), std::string::npos)
      << run.err();
}

// Issue 11: input files are checked before they are read — a FIFO blocked `run` forever and
// /dev/zero died of bad_alloc after 6–9 s. Now: exit 2 at once, the exact text, nothing run.
TEST_F(CliRunTest, InputFilesThatAreNotRegularAreRefusedAtOnce) {
  const std::string fifo = dir_.File("exp.fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  dir_.Write("big.json", std::string((1 << 20) + 10, ' '));
  const std::vector<std::pair<std::string, std::string>> cases = {
      {fifo, "a FIFO: a regular JSON file"},
      {"/dev/zero", "a character device: a regular JSON file"},
      {"/dev/null", "a character device: a regular JSON file"},
      {dir_.path(), "a directory: a regular JSON file"},
      {dir_.File("big.json"), "1048586 bytes: a file of at most 1048576 bytes (1 MiB)"},
      {dir_.File("none.json"),
       "cannot read the file (No such file or directory): a readable JSON file"}};
  for (const auto& [file, why] : cases) {
    for (const char* command : {"run", "validate"}) {
      const auto start = std::chrono::steady_clock::now();
      std::vector<std::string> argv = {RINGFENCE_BINARY, command, file};
      if (std::string(command) == "run") argv = Run(file);
      ChildRun run(argv, dir_.path());
      EXPECT_EQ(run.Wait(std::chrono::seconds(10)), 2) << file << " " << command;
      EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3)) << file;
      const std::string expected =
          file + ": /: " + why + "\n" +
          (std::string(command) == "run" ? "1 error; nothing was run\n" : "");
      EXPECT_EQ(run.err(), expected) << command;
    }
  }
  EXPECT_EQ(ReadFile(dir_.File("journal.json")), "");
}

// Issue 11: {"version": 1e400} aborted (134, out_of_range.406).
TEST_F(CliRunTest, ANumberBeyondADoubleIsAValidationError) {
  dir_.Write("big.json", R"({"version": 1e400, "title": "x", "method": [{"type": "wait",
                             "duration": "1s"}], "guards": []})");
  ChildRun run(Run(dir_.File("big.json")), dir_.path());
  EXPECT_EQ(run.Wait(), 2);
  EXPECT_EQ(run.err(), dir_.File("big.json") +
                           ": /version: 1e400: a number from -1.7976931348623157e308 to "
                           "1.7976931348623157e308\n1 error; nothing was run\n");
}

// Issue 11: a process with a 100,000-character command line appearing mid-run crashed the
// runner (139) at the next match of `^x(.)*$` under std::regex: no journal, no verdict. Under
// RE2 the match is linear and the run ends normally.
TEST_F(CliRunTest, AHugeCommandLineMidRunIsMatchedWithoutACrash) {
  SleepChildren children(1);
  nlohmann::json doc = nlohmann::json::parse(
      Experiment(children.cmdline_regex(), R"("all")",
                 R"([{"type": "process_pause", "target": "sleepers", "duration": "3s"},
          {"type": "wait", "duration": "1500ms"},
          {"type": "probe", "probe": {"type": "process_alive", "target": "bomb",
                                      "count": {"min": 1}}}])"));
  doc["targets"]["bomb"] = {{"process", {{"cmdline", "^x(.)*$"}}}, {"allow_empty", true}};
  dir_.Write("bomb.json", doc.dump(2));
  ChildRun run(Run(dir_.File("bomb.json")), dir_.path());
  ASSERT_TRUE(Eventually([&] { return SleepChildren::State(children.pids()[0]) == 'T'; }));
  // Appears after the targets were resolved: argv[0] is "x" followed by 99,999 "y"s.
  const std::string huge = "x" + std::string(99999, 'y');
  const pid_t bomb = ::fork();
  ASSERT_GE(bomb, 0);
  if (bomb == 0) {
    char* const argv[] = {const_cast<char*>(huge.c_str()), const_cast<char*>("30"), nullptr};
    ::execv("/bin/sleep", argv);
    ::_exit(127);
  }
  const int code = run.Wait();
  ::kill(bomb, SIGKILL);
  ::waitpid(bomb, nullptr, 0);
  EXPECT_EQ(code, 0) << run.err();
  EXPECT_NE(SleepChildren::State(children.pids()[0]), 'T');
  nlohmann::json j = Journal();
  EXPECT_EQ(j["status"], "passed");
  EXPECT_EQ(j["reverted_cleanly"], true);
}

// settings.max_targets (default 100): a selector matching more processes is refused at
// resolve, before anything is injected, unless raised (--max-targets).
TEST_F(CliRunTest, ASelectorMatchingMoreThanMaxTargetsIsRefused) {
  SleepChildren children(3);
  dir_.Write("many.json",
             Experiment(children.cmdline_regex(), R"({"count": 1})",
                        R"([{"type": "process_pause", "target": "sleepers", "duration": "1s"}])",
                        R"({"settings": {"max_targets": 2}})"));
  ChildRun run(Run(dir_.File("many.json")), dir_.path());
  EXPECT_EQ(run.Wait(), 2);
  EXPECT_NE(run.err().find("/targets/sleepers: cmdline " +
                           nlohmann::json(children.cmdline_regex()).dump() +
                           " matches 3 processes: at most settings.max_targets (2); narrow the "
                           "selector, or raise settings.max_targets or --max-targets"),
            std::string::npos)
      << run.err();
  for (pid_t pid : children.pids()) EXPECT_EQ(SleepChildren::State(pid), 'S');
  ChildRun raised(Run(dir_.File("many.json"), {"--max-targets", "3"}), dir_.path());
  EXPECT_EQ(raised.Wait(), 0) << raised.err();
}

}  // namespace
}  // namespace ringfence::testing
