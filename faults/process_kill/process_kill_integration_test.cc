#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "core/sys/system_clock.h"
#include "core/sys/system_env.h"
#include "core/sys/system_process_table.h"
#include "core/targets/target_resolver.h"
#include "faults/process_kill/process_kill.h"
#include "tests/support/child_processes.h"
#include "tests/support/processes.h"

namespace ringfence {
namespace {

using testing::Eventually;

using nlohmann::json;
using testing::ChildProcesses;
using testing::ProcState;

// A selector for exactly the `sleep <marker>` children of this test.
TargetSpec SleepersSpec(const std::string& marker) {
  TargetSpec spec;
  spec.name = "sleepers";
  spec.pointer = "/targets/sleepers";
  std::string escaped;
  for (char c : marker) {
    if (c == '.') escaped += '\\';
    escaped += c;
  }
  spec.process.cmdline = "^sleep " + escaped + "$";
  return spec;
}

bool WaitForMatches(ProcessTable& table, const TargetSpec& spec, size_t n) {
  return Eventually([&] {
    auto m = MatchProcesses(table, spec.process);
    return m.ok() && m->size() == n;
  });
}

struct InjectedRun {
  std::vector<UndoRecord> undos;
  json observed;
  bool expectation_met = false;
};

InjectedRun KillTargets(ProcessKillFactory& factory, ProcessTable& table, const TargetSpec& spec,
                        const std::vector<Target>& targets, json params) {
  FaultStep step;
  step.name = "kill-sleepers";
  step.type = "process_kill";
  step.params = std::move(params);
  auto fault = factory.Create(step, spec);
  StopSource stop;
  SystemEnv system_env{table};
  FaultEnv env{system_env, stop};
  InjectedRun run;
  EXPECT_TRUE(fault->Prepare(env, targets).ok());
  for (const auto& t : targets) {
    auto undo = fault->PlanUndo(env, t);
    EXPECT_TRUE(undo.ok());
    if (!undo.ok()) continue;
    run.undos.push_back(*undo);
    Status s = fault->Inject(env, t, *undo);
    EXPECT_TRUE(s.ok()) << s.message();
  }
  run.observed = fault->Observe(env);
  run.expectation_met = fault->ExpectationMet();
  for (const auto& undo : run.undos) EXPECT_TRUE(factory.Revert(env, undo).ok());
  return run;
}

TEST(ProcessKillIntegrationTest, KillsExactlyTwoOfFive) {
  ChildProcesses children;
  const std::string marker = "3600." + testing::UniqueDigits();
  for (int i = 0; i < 5; ++i) ASSERT_GT(children.Spawn({"sleep", marker}), 0);
  auto table = MakeSystemProcessTable();
  TargetSpec spec = SleepersSpec(marker);
  spec.select.mode = SelectionMode::kCount;
  spec.select.count = 2;
  ASSERT_TRUE(WaitForMatches(*table, spec, 5));
  std::mt19937_64 rng(99);
  auto targets = ResolveTargets(*table, spec, rng);
  ASSERT_TRUE(targets.ok()) << targets.status().message();
  ASSERT_EQ(targets->size(), 2u);

  ProcessKillFactory factory;
  InjectedRun run = KillTargets(factory, *table, spec, *targets, {{"signal", "SIGTERM"}});

  std::vector<pid_t> killed;
  for (const auto& t : *targets) killed.push_back(t.process.pid);
  EXPECT_EQ(
      run.observed,
      (json{{"killed", killed}, {"signal", "SIGTERM"}, {"escalated_to_sigkill", json::array()}}));
  int dead = 0, alive = 0;
  for (pid_t pid : children.pids()) {
    const bool is_target = std::find(killed.begin(), killed.end(), pid) != killed.end();
    int status = 0;
    if (is_target) {
      ASSERT_TRUE(children.ReapWithin(pid, 5000, &status)) << pid;
      EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) << pid;
      ++dead;
    } else {
      EXPECT_FALSE(children.TryReap(pid, &status)) << pid;
      EXPECT_NE(ProcState(pid), 'Z') << pid;
      ++alive;
    }
  }
  EXPECT_EQ(dead, 2);
  EXPECT_EQ(alive, 3);
}

TEST(ProcessKillIntegrationTest, GraceEscalatesWhenSigtermIsIgnored) {
  ChildProcesses children;
  const std::string marker = "3600." + testing::UniqueDigits();
  // An ignored signal stays ignored across exec: this sleep ignores SIGTERM.
  const pid_t pid = children.Spawn({"sh", "-c", "trap '' TERM; exec sleep " + marker});
  ASSERT_GT(pid, 0);
  auto table = MakeSystemProcessTable();
  TargetSpec spec = SleepersSpec(marker);
  ASSERT_TRUE(WaitForMatches(*table, spec, 1));
  std::mt19937_64 rng(1);
  auto targets = ResolveTargets(*table, spec, rng);
  ASSERT_TRUE(targets.ok()) << targets.status().message();

  ProcessKillFactory factory;
  InjectedRun run =
      KillTargets(factory, *table, spec, *targets, {{"signal", "SIGTERM"}, {"grace", "200ms"}});
  EXPECT_EQ(run.observed["escalated_to_sigkill"], json{pid});
  int status = 0;
  ASSERT_TRUE(children.ReapWithin(pid, 5000, &status));
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

// Keeps one `sleep <marker>` running: whenever it dies, starts another (at most `max_starts`).
// Its children are its own: it reaps them, and the destructor kills and reaps the last one.
class Supervisor {
 public:
  Supervisor(std::string marker, int max_starts)
      : marker_(std::move(marker)), max_starts_(max_starts), thread_([this] { Run(); }) {}
  ~Supervisor() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      if (current_ > 0) kill(current_, SIGKILL);
    }
    thread_.join();
  }
  int starts() {
    std::lock_guard<std::mutex> lock(mu_);
    return starts_;
  }

 private:
  void Run() {
    const pid_t parent = getpid();
    for (;;) {
      pid_t child = 0;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopping_ || starts_ >= max_starts_) return;
        child = fork();
        if (child == 0) {
          prctl(PR_SET_PDEATHSIG, SIGKILL);
          if (getppid() != parent) _exit(127);
          execlp("sleep", "sleep", marker_.c_str(), static_cast<char*>(nullptr));
          _exit(127);
        }
        if (child < 0) return;
        current_ = child;
        ++starts_;
      }
      waitpid(child, nullptr, 0);
      std::lock_guard<std::mutex> lock(mu_);
      current_ = 0;
    }
  }

  std::string marker_;
  int max_starts_;
  std::mutex mu_;
  bool stopping_ = false;
  pid_t current_ = 0;
  int starts_ = 0;
  std::thread thread_;
};

TEST(ProcessKillIntegrationTest, DetectsTheReplacementStartedByASupervisor) {
  const std::string marker = "3600." + testing::UniqueDigits();
  Supervisor supervisor(marker, 3);
  auto table = MakeSystemProcessTable();
  TargetSpec spec = SleepersSpec(marker);
  ASSERT_TRUE(WaitForMatches(*table, spec, 1));
  std::mt19937_64 rng(1);
  auto targets = ResolveTargets(*table, spec, rng);
  ASSERT_TRUE(targets.ok()) << targets.status().message();
  const pid_t original = (*targets)[0].process.pid;

  ProcessKillFactory factory;
  InjectedRun run = KillTargets(factory, *table, spec, *targets,
                                {{"signal", "SIGTERM"}, {"expect_restart_within", "5s"}});
  EXPECT_EQ(run.observed["killed"], json{original});
  ASSERT_EQ(run.observed["replacements"].size(), 1u) << run.observed.dump();
  EXPECT_NE(run.observed["replacements"][0]["pid"], original);
  EXPECT_GE(run.observed["replacements"][0]["restart_ms"].get<long long>(), 0);
  EXPECT_EQ(run.observed["restarted"], true);
  EXPECT_TRUE(run.expectation_met);
  EXPECT_EQ(supervisor.starts(), 2);
}

TEST(ProcessKillIntegrationTest, NoSupervisorMeansNoRestart) {
  ChildProcesses children;
  const std::string marker = "3600." + testing::UniqueDigits();
  const pid_t pid = children.Spawn({"sleep", marker});
  ASSERT_GT(pid, 0);
  auto table = MakeSystemProcessTable();
  TargetSpec spec = SleepersSpec(marker);
  ASSERT_TRUE(WaitForMatches(*table, spec, 1));
  std::mt19937_64 rng(1);
  auto targets = ResolveTargets(*table, spec, rng);
  ASSERT_TRUE(targets.ok());

  ProcessKillFactory factory;
  InjectedRun run = KillTargets(factory, *table, spec, *targets,
                                {{"signal", "SIGKILL"}, {"expect_restart_within", "300ms"}});
  EXPECT_EQ(run.observed["replacements"], json::array());
  EXPECT_EQ(run.observed["restarted"], false);
  EXPECT_FALSE(run.expectation_met);
  EXPECT_TRUE(children.ReapWithin(pid, 5000, nullptr));
}

}  // namespace
}  // namespace ringfence
