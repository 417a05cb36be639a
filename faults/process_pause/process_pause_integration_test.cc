#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include <gtest/gtest.h>

#include "core/sys/system_clock.h"
#include "core/sys/system_env.h"
#include "core/sys/system_process_table.h"
#include "core/targets/target_resolver.h"
#include "faults/process_pause/process_pause.h"
#include "tests/support/child_processes.h"
#include "tests/support/processes.h"

namespace ringfence {
namespace {

using testing::Eventually;

using testing::ChildProcesses;
using testing::ProcState;

TEST(ProcessPauseIntegrationTest, PausesTwoOfFiveRealProcessesAndResumesThem) {
  ChildProcesses children;
  const std::string marker = "3600." + testing::UniqueDigits();
  for (int i = 0; i < 5; ++i) ASSERT_GT(children.Spawn({"sleep", marker}), 0);

  auto table = MakeSystemProcessTable();
  TargetSpec spec;
  spec.name = "sleepers";
  spec.pointer = "/targets/sleepers";
  spec.process.cmdline = "^sleep " + std::string("3600\\.") + marker.substr(5) + "$";
  spec.select.mode = SelectionMode::kCount;
  spec.select.count = 2;
  // The children exec `sleep` shortly after fork returns.
  ASSERT_TRUE(Eventually([&] {
    auto m = MatchProcesses(*table, spec.process);
    return m.ok() && m->size() == 5;
  }));
  std::mt19937_64 rng(2024);
  auto targets = ResolveTargets(*table, spec, rng);
  ASSERT_TRUE(targets.ok()) << targets.status().message();
  ASSERT_EQ(targets->size(), 2u);

  ProcessPauseFactory factory;
  FaultStep step;
  step.name = "pause-sleepers";
  step.type = "process_pause";
  auto fault = factory.Create(step, spec);
  StopSource stop;
  SystemEnv system_env{*table};
  FaultEnv env{system_env, stop};
  ASSERT_TRUE(fault->Prepare(env, *targets).ok());
  std::vector<UndoRecord> undos;
  for (const auto& t : *targets) {
    auto undo = fault->PlanUndo(env, t);
    ASSERT_TRUE(undo.ok());
    undos.push_back(*undo);
    ASSERT_TRUE(fault->Inject(env, t, *undo).ok());
  }

  std::vector<pid_t> paused;
  for (const auto& t : *targets) paused.push_back(t.process.pid);
  for (pid_t pid : children.pids()) {
    const bool is_target = std::find(paused.begin(), paused.end(), pid) != paused.end();
    if (is_target) {
      EXPECT_TRUE(Eventually([&] { return ProcState(pid) == 'T'; })) << pid;
    } else {
      EXPECT_NE(ProcState(pid), 'T') << pid;
    }
  }
  auto observed = fault->Observe(env);
  EXPECT_EQ(observed["paused"], nlohmann::json(paused));
  EXPECT_EQ(observed["stopped_now"], nlohmann::json(paused));

  for (const auto& undo : undos) ASSERT_TRUE(factory.Revert(env, undo).ok());
  for (pid_t pid : paused) {
    EXPECT_TRUE(Eventually([&] { return ProcState(pid) != 'T'; })) << pid;
    EXPECT_FALSE(children.TryReap(pid, nullptr)) << "a paused process died";
  }
  // Reverting again is harmless.
  for (const auto& undo : undos) EXPECT_TRUE(factory.Revert(env, undo).ok());
}

TEST(ProcessPauseIntegrationTest, RevertAfterTheProcessExitedIsOk) {
  ChildProcesses children;
  const pid_t pid = children.Spawn({"sleep", "3600." + testing::UniqueDigits()});
  ASSERT_GT(pid, 0);
  auto table = MakeSystemProcessTable();
  auto info = table->Get(pid);
  ASSERT_TRUE(info.ok());
  Target target;
  target.process = *info;
  target.label = "pid " + std::to_string(pid);

  ProcessPauseFactory factory;
  auto fault = factory.Create(FaultStep{}, TargetSpec{});
  StopSource stop;
  SystemEnv system_env{*table};
  FaultEnv env{system_env, stop};
  auto undo = fault->PlanUndo(env, target);
  ASSERT_TRUE(undo.ok());
  ASSERT_TRUE(fault->Inject(env, target, *undo).ok());
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  ASSERT_TRUE(children.ReapWithin(pid, 5000, nullptr));
  EXPECT_TRUE(factory.Revert(env, *undo).ok());
}

}  // namespace
}  // namespace ringfence
