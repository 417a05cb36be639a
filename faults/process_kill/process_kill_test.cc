#include "faults/process_kill/process_kill.h"

#include <signal.h>

#include <gtest/gtest.h>

#include "tests/support/fake_clock.h"
#include "tests/support/fake_env.h"
#include "tests/support/fake_process_table.h"

namespace ringfence {
namespace {

using testing::FakeClock;
using testing::FakeProcessTable;
using Call = FakeProcessTable::SignalCall;
using nlohmann::json;

class ProcessKillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    info_ = table_.Add(4242, "worker", "worker --id 1");
    target_ = TargetFor(info_);
    step_.name = "kill-worker";
    step_.type = "process_kill";
    step_.target = "workers";
    spec_.name = "workers";
    spec_.pointer = "/targets/workers";
    spec_.process.name = "worker";
  }

  static Target TargetFor(const ProcessInfo& p) {
    Target t;
    t.process = p;
    t.label = "pid " + std::to_string(p.pid) + " (" + p.name + ")";
    return t;
  }

  std::unique_ptr<Fault> Create(json params) {
    json full = {{"signal", "SIGTERM"}};
    for (auto& [k, v] : params.items()) full[k] = v;
    step_.params = full;
    return factory_.Create(step_, spec_);
  }

  // PlanUndo then Inject, as the engine does.
  UndoRecord PlanAndInject(Fault& fault, const Target& target,
                           StatusCode expected = StatusCode::kOk) {
    auto undo = fault.PlanUndo(env_, target);
    EXPECT_TRUE(undo.ok());
    EXPECT_EQ(fault.Inject(env_, target, *undo).code(), expected);
    return *undo;
  }

  // A supervisor: whenever a worker dies, a new one starts `delay` later (as seen in its start
  // time), with the next free pid.
  void SuperviseWithRestartAfter(std::chrono::milliseconds delay) {
    table_.OnSignalExit([this, delay](const ProcessInfo& gone, int) {
      table_.Add(next_pid_++, gone.name, gone.cmdline, gone.uid,
                 table_.TicksAt(clock_.Now() + delay));
    });
  }

  FakeProcessTable table_;
  FakeClock clock_;
  StopSource stop_;
  testing::FakeEnv system_env_{table_, clock_};
  FaultEnv env_{system_env_, stop_};
  ProcessKillFactory factory_;
  ProcessInfo info_;
  Target target_;
  FaultStep step_;
  TargetSpec spec_;
  pid_t next_pid_ = 5000;
};

TEST_F(ProcessKillTest, IsRegisteredWithItsParams) {
  const FaultFactory* registered = FaultRegistry::Global().Find("process_kill");
  ASSERT_NE(registered, nullptr);
  const FaultDecl& decl = registered->Declaration();
  EXPECT_EQ(decl.name, "process_kill");
  ASSERT_EQ(decl.params.size(), 4u);
  EXPECT_EQ(decl.params[0].name, "signal");
  EXPECT_EQ(decl.params[0].type, ParamType::kSignal);
  EXPECT_EQ(decl.params[0].default_value, "SIGTERM");
  EXPECT_EQ(decl.params[1].name, "grace");
  EXPECT_TRUE(decl.params[1].default_value.is_null());
  EXPECT_EQ(decl.params[2].name, "expect_restart_within");
  EXPECT_EQ(decl.params[3].name, "restart_command");
  EXPECT_EQ(decl.params[3].type, ParamType::kStringList);
  for (const auto& p : decl.params) {
    EXPECT_FALSE(p.required) << p.name;
    EXPECT_FALSE(p.doc.empty()) << p.name;
  }
}

TEST_F(ProcessKillTest, ValidateConfigRejectsContradictions) {
  ValidationErrors errors;
  factory_.ValidateConfig(
      {{"signal", "SIGKILL"}, {"grace", "5s"}, {"restart_command", json::array()}},
      "/method/0/params", errors);
  factory_.ValidateConfig({{"signal", "STOP"}}, "/method/1/params", errors);
  EXPECT_EQ(
      errors.Format("exp.json"),
      (std::vector<std::string>{
          "exp.json: /method/0/params/grace: \"5s\": only with a signal other than SIGKILL",
          "exp.json: /method/0/params/restart_command: []: a non-empty command: the program, "
          "then its arguments",
          "exp.json: /method/1/params/signal: \"STOP\": a signal that ends a process (to stop "
          "one, use process_pause)"}));

  ValidationErrors none;
  factory_.ValidateConfig({{"signal", "SIGTERM"}, {"grace", "5s"}, {"restart_command", {"true"}}},
                          "/method/0/params", none);
  EXPECT_TRUE(none.empty());
}

TEST_F(ProcessKillTest, PlanUndoRecordsIdentityKillTimeAndSelector) {
  auto fault = Create({{"restart_command", {"systemctl", "start", "my worker"}}});
  auto undo = fault->PlanUndo(env_, target_);
  ASSERT_TRUE(undo.ok());
  EXPECT_EQ(undo->fault_type, "process_kill");
  EXPECT_EQ(undo->fault_name, "kill-worker");
  EXPECT_EQ(undo->target, "pid 4242 (worker)");
  EXPECT_EQ(undo->manual_undo, "systemctl start 'my worker'");
  EXPECT_EQ(undo->data, (json{{"pid", 4242},
                              {"start_ticks", info_.start_ticks},
                              {"name", "worker"},
                              {"kill_time_ms", 1721362140000LL},
                              {"selector", {{"name", "worker"}}},
                              {"restart_command", {"systemctl", "start", "my worker"}}}));
  EXPECT_TRUE(table_.signals().empty());

  auto plain = Create(json::object())->PlanUndo(env_, target_);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->manual_undo,
            "nothing to undo: a killed process cannot be revived; restart it with its supervisor");
  EXPECT_FALSE(plain->data.contains("restart_command"));
}

TEST_F(ProcessKillTest, KillsWithTheSignal) {
  auto fault = Create({{"signal", "SIGINT"}});
  ASSERT_TRUE(fault->Prepare(env_, {target_}).ok());
  PlanAndInject(*fault, target_);
  EXPECT_FALSE(table_.Has(4242));
  EXPECT_EQ(table_.signals(),
            (std::vector<Call>{{4242, info_.start_ticks, 0}, {4242, info_.start_ticks, SIGINT}}));
  EXPECT_EQ(
      fault->Observe(env_),
      (json{{"killed", {4242}}, {"signal", "SIGINT"}, {"escalated_to_sigkill", json::array()}}));
  EXPECT_TRUE(fault->ExpectationMet());
}

TEST_F(ProcessKillTest, InjectOnAGoneTargetIsNotFoundAndKillsNothing) {
  auto fault = Create(json::object());
  table_.Remove(4242);
  PlanAndInject(*fault, target_, StatusCode::kNotFound);
  EXPECT_EQ(fault->Observe(env_)["killed"], json::array());
}

TEST_F(ProcessKillTest, GraceEscalatesToSigkillWhenTheSignalIsHandled) {
  table_.IgnoreSignal(4242, SIGTERM);
  auto fault = Create({{"grace", "2s"}});
  PlanAndInject(*fault, target_);
  EXPECT_FALSE(table_.Has(4242));
  EXPECT_EQ(table_.signals(), (std::vector<Call>{{4242, info_.start_ticks, SIGTERM},
                                                 {4242, info_.start_ticks, SIGKILL}}));
  EXPECT_GT(table_.wait_exit_calls(), 0);
  EXPECT_EQ(fault->Observe(env_),
            (json{{"killed", {4242}}, {"signal", "SIGTERM"}, {"escalated_to_sigkill", {4242}}}));
}

TEST_F(ProcessKillTest, GraceDoesNotEscalateWhenTheProcessExits) {
  auto fault = Create({{"grace", "2s"}});
  PlanAndInject(*fault, target_);
  EXPECT_EQ(table_.signals(), (std::vector<Call>{{4242, info_.start_ticks, SIGTERM}}));
  EXPECT_EQ(fault->Observe(env_)["escalated_to_sigkill"], json::array());
}

TEST_F(ProcessKillTest, StopDuringGraceDoesNotEscalate) {
  table_.IgnoreSignal(4242, SIGTERM);
  auto fault = Create({{"grace", "2s"}});
  stop_.RequestStop("guard breached");
  PlanAndInject(*fault, target_);
  EXPECT_TRUE(table_.Has(4242));
  EXPECT_EQ(table_.signals(), (std::vector<Call>{{4242, info_.start_ticks, SIGTERM}}));
}

TEST_F(ProcessKillTest, DetectsARestartBySupervisor) {
  SuperviseWithRestartAfter(std::chrono::milliseconds(300));
  auto fault = Create({{"expect_restart_within", "1s"}});
  PlanAndInject(*fault, target_);
  EXPECT_EQ(fault->Observe(env_), (json{{"killed", {4242}},
                                        {"signal", "SIGTERM"},
                                        {"escalated_to_sigkill", json::array()},
                                        {"replacements", {{{"pid", 5000}, {"restart_ms", 300}}}},
                                        {"restarted", true}}));
  EXPECT_TRUE(fault->ExpectationMet());
}

TEST_F(ProcessKillTest, NoRestartFailsTheExpectationAfterWaitingTheWindow) {
  auto fault = Create({{"expect_restart_within", "1s"}});
  PlanAndInject(*fault, target_);
  const json observed = fault->Observe(env_);
  EXPECT_EQ(observed["replacements"], json::array());
  EXPECT_EQ(observed["restarted"], false);
  EXPECT_FALSE(fault->ExpectationMet());
  EXPECT_EQ(clock_.ElapsedMs(), 1000);
}

TEST_F(ProcessKillTest, ALateRestartFailsTheExpectation) {
  SuperviseWithRestartAfter(std::chrono::milliseconds(2500));
  auto fault = Create({{"expect_restart_within", "1s"}});
  PlanAndInject(*fault, target_);
  const json observed = fault->Observe(env_);
  EXPECT_EQ(observed["replacements"], (json{{{"pid", 5000}, {"restart_ms", 2500}}}));
  EXPECT_EQ(observed["restarted"], false);
  EXPECT_FALSE(fault->ExpectationMet());
}

TEST_F(ProcessKillTest, SurvivorsAndOtherTargetsAreNotReplacements) {
  // Two workers match; one is killed and nothing restarts it. The survivor, even with a start
  // time after the kill (clock skew), is not a replacement.
  ProcessInfo survivor = table_.Add(4300, "worker", "worker --id 2", 0,
                                    table_.TicksAt(clock_.Now() + std::chrono::seconds(5)));
  auto fault = Create({{"expect_restart_within", "1s"}});
  PlanAndInject(*fault, target_);
  const json observed = fault->Observe(env_);
  EXPECT_EQ(observed["replacements"], json::array());
  EXPECT_FALSE(fault->ExpectationMet());
  EXPECT_TRUE(table_.Has(survivor.pid));
}

TEST_F(ProcessKillTest, EveryKilledProcessNeedsItsOwnReplacement) {
  ProcessInfo second = table_.Add(4300, "worker", "worker --id 2");
  int restarts = 0;
  table_.OnSignalExit([&](const ProcessInfo& gone, int) {
    if (restarts++ == 0) table_.Add(5000, gone.name, gone.cmdline, 0, table_.TicksAt(clock_.Now()));
  });
  auto fault = Create({{"expect_restart_within", "1s"}});
  PlanAndInject(*fault, target_);
  PlanAndInject(*fault, TargetFor(second));
  const json observed = fault->Observe(env_);
  EXPECT_EQ(observed["killed"], (json{4242, 4300}));
  EXPECT_EQ(observed["replacements"], (json{{{"pid", 5000}, {"restart_ms", 0}}}));
  EXPECT_EQ(observed["restarted"], false);
}

TEST_F(ProcessKillTest, StopEndsTheWaitForReplacements) {
  auto fault = Create({{"expect_restart_within", "10s"}});
  PlanAndInject(*fault, target_);
  stop_.RequestStop("interrupted");
  EXPECT_EQ(fault->Observe(env_)["restarted"], false);
  EXPECT_EQ(clock_.ElapsedMs(), 0);
}

TEST_F(ProcessKillTest, RevertWithoutRestartCommandIsOk) {
  auto fault = Create(json::object());
  UndoRecord undo = PlanAndInject(*fault, target_);
  EXPECT_TRUE(factory_.Revert(env_, undo).ok());
  EXPECT_TRUE(factory_.Revert(env_, undo).ok());
}

TEST_F(ProcessKillTest, RevertRunsNoRestartCommandWhenAReplacementStarted) {
  SuperviseWithRestartAfter(std::chrono::milliseconds(100));
  auto fault = Create({{"restart_command", {"false"}}});
  UndoRecord undo = PlanAndInject(*fault, target_);
  EXPECT_TRUE(factory_.Revert(env_, UndoRecord::FromJson(undo.ToJson())).ok());
  EXPECT_EQ(system_env_.command_lines(), std::vector<std::string>{});
}

TEST_F(ProcessKillTest, RevertRunsNoRestartCommandWhenTheProcessWasNotKilled) {
  auto fault = Create({{"restart_command", {"false"}}});
  auto undo = fault->PlanUndo(env_, target_);
  ASSERT_TRUE(undo.ok());
  EXPECT_TRUE(factory_.Revert(env_, *undo).ok());
  EXPECT_EQ(system_env_.command_lines(), std::vector<std::string>{});
}

// Killed and not replaced: the revert runs restart_command through the Env, once per revert
// (and nothing else); its failure is the revert's, with the command and its stderr.
TEST_F(ProcessKillTest, RevertRunsTheRestartCommandThroughTheEnv) {
  auto fault = Create({{"restart_command", {"systemctl", "start", "worker"}}});
  UndoRecord undo = PlanAndInject(*fault, target_);
  EXPECT_EQ(table_.signals(), (std::vector<Call>{{4242, info_.start_ticks, SIGTERM}}));
  EXPECT_TRUE(factory_.Revert(env_, undo).ok());
  EXPECT_EQ(system_env_.command_lines(), std::vector<std::string>{"systemctl start worker"});

  system_env_.OnCommand([](const testing::FakeEnv::CommandCall&) -> Result<CommandResult> {
    CommandResult failed;
    failed.exit_code = 5;
    failed.err = "Unit worker.service not found.\n";
    return failed;
  });
  Status s = factory_.Revert(env_, undo);
  EXPECT_EQ(s.code(), StatusCode::kRuntime);
  EXPECT_EQ(s.message(),
            "restart_command \"systemctl start worker\" exited with 5: Unit worker.service not "
            "found.");
  EXPECT_EQ(system_env_.command_lines().size(), 2u);
  EXPECT_EQ(table_.signals().size(), 1u);  // the revert signals nothing
}

TEST_F(ProcessKillTest, RevertOfACorruptRecordIsInvalidInput) {
  auto fault = Create({{"restart_command", {"false"}}});
  auto undo = fault->PlanUndo(env_, target_);
  ASSERT_TRUE(undo.ok());
  undo->data["selector"] = json::object();
  table_.Remove(4242);
  Status s = factory_.Revert(env_, *undo);
  EXPECT_EQ(s.code(), StatusCode::kInvalidInput);
  EXPECT_EQ(s.message(), "undo record has no valid selector: {}");
}

}  // namespace
}  // namespace ringfence
