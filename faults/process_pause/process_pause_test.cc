#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "faults/process_pause/process_pause.h"
#include "tests/support/fake_clock.h"
#include "tests/support/fake_env.h"
#include "tests/support/fake_process_table.h"

namespace ringfence {
namespace {

using testing::FakeClock;
using testing::FakeProcessTable;
using Call = FakeProcessTable::SignalCall;

class ProcessPauseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    info_ = table_.Add(4242, "sleep", "sleep 60");
    target_.process = info_;
    target_.label = "pid 4242 (sleep)";
    step_.name = "pause-web";
    step_.type = "process_pause";
    step_.target = "web";
    step_.params = nlohmann::json::object();
    spec_.name = "web";
    spec_.pointer = "/targets/web";
    spec_.process.name = "sleep";
  }

  FakeProcessTable table_;
  FakeClock clock_;
  StopSource stop_;
  testing::FakeEnv system_env_{table_, clock_};
  FaultEnv env_{system_env_, stop_};
  ProcessPauseFactory factory_object_;
  const FaultFactory* factory_ = &factory_object_;
  ProcessInfo info_;
  Target target_;
  FaultStep step_;
  TargetSpec spec_;
};

TEST_F(ProcessPauseTest, IsRegistered) {
  const FaultFactory* registered = FaultRegistry::Global().Find("process_pause");
  ASSERT_NE(registered, nullptr);
  EXPECT_NE(dynamic_cast<const ProcessPauseFactory*>(registered), nullptr);
}

TEST_F(ProcessPauseTest, DeclarationHasNoParams) {
  const FaultDecl& decl = factory_->Declaration();
  EXPECT_EQ(decl.name, "process_pause");
  EXPECT_EQ(decl.summary,
            "Stop processes with SIGSTOP for the fault's duration, then resume them with SIGCONT");
  EXPECT_TRUE(decl.params.empty());
}

TEST_F(ProcessPauseTest, PlanUndoRecordsIdentityAndManualUndo) {
  auto fault = factory_->Create(step_, spec_);
  auto undo = fault->PlanUndo(env_, target_);
  ASSERT_TRUE(undo.ok());
  EXPECT_EQ(undo->fault_type, "process_pause");
  EXPECT_EQ(undo->fault_name, "pause-web");
  EXPECT_EQ(undo->target, "pid 4242 (sleep)");
  EXPECT_EQ(undo->manual_undo, "kill -CONT 4242");
  EXPECT_EQ(undo->data, (nlohmann::json{{"pid", 4242},
                                        {"start_ticks", info_.start_ticks},
                                        {"name", "sleep"},
                                        {"signal", "SIGCONT"}}));
  EXPECT_TRUE(table_.signals().empty()) << "PlanUndo must have no side effect";
}

TEST_F(ProcessPauseTest, InjectStopsAndRevertResumes) {
  auto fault = factory_->Create(step_, spec_);
  ASSERT_TRUE(fault->Prepare(env_, {target_}).ok());
  auto undo = fault->PlanUndo(env_, target_);
  ASSERT_TRUE(undo.ok());
  ASSERT_TRUE(fault->Inject(env_, target_, *undo).ok());
  EXPECT_EQ(table_.StateOf(4242), 'T');
  EXPECT_EQ(fault->Observe(env_), (nlohmann::json{{"paused", {4242}}, {"stopped_now", {4242}}}));

  // Revert works from the record alone, as after a crash.
  ASSERT_TRUE(factory_->Revert(env_, UndoRecord::FromJson(undo->ToJson())).ok());
  EXPECT_EQ(table_.StateOf(4242), 'S');
  EXPECT_EQ(table_.signals(), (std::vector<Call>{{4242, info_.start_ticks, 0},
                                                 {4242, info_.start_ticks, SIGSTOP},
                                                 {4242, info_.start_ticks, SIGCONT}}));
  EXPECT_EQ(fault->Observe(env_),
            (nlohmann::json{{"paused", {4242}}, {"stopped_now", nlohmann::json::array()}}));
  EXPECT_TRUE(fault->ExpectationMet());
}

TEST_F(ProcessPauseTest, RevertTwiceIsOk) {
  auto fault = factory_->Create(step_, spec_);
  auto undo = fault->PlanUndo(env_, target_);
  ASSERT_TRUE(undo.ok());
  ASSERT_TRUE(fault->Inject(env_, target_, *undo).ok());
  ASSERT_TRUE(factory_->Revert(env_, *undo).ok());
  ASSERT_TRUE(factory_->Revert(env_, *undo).ok());
  EXPECT_EQ(table_.StateOf(4242), 'S');
}

TEST_F(ProcessPauseTest, RevertOfAGoneOrReusedProcessIsOk) {
  auto fault = factory_->Create(step_, spec_);
  auto undo = fault->PlanUndo(env_, target_);
  ASSERT_TRUE(undo.ok());
  ASSERT_TRUE(fault->Inject(env_, target_, *undo).ok());
  table_.Remove(4242);
  EXPECT_TRUE(factory_->Revert(env_, *undo).ok());
  // The pid now belongs to another process: it must not be signalled... and that is Ok.
  table_.Add(4242, "other", "other", 0, info_.start_ticks + 500, 'T');
  EXPECT_TRUE(factory_->Revert(env_, *undo).ok());
  EXPECT_EQ(table_.StateOf(4242), 'T');
}

TEST_F(ProcessPauseTest, RevertReportsPermissionErrors) {
  auto fault = factory_->Create(step_, spec_);
  auto undo = fault->PlanUndo(env_, target_);
  ASSERT_TRUE(undo.ok());
  table_.FailSignals(4242, Status::FromErrno(EPERM, "send SIGCONT to pid 4242"));
  Status s = factory_->Revert(env_, *undo);
  EXPECT_EQ(s.code(), StatusCode::kPermission);
  EXPECT_EQ(s.message(), "send SIGCONT to pid 4242: Operation not permitted");
}

TEST_F(ProcessPauseTest, RevertOfACorruptRecordIsInvalidInput) {
  UndoRecord undo;
  undo.fault_type = "process_pause";
  undo.data = {{"signal", "SIGCONT"}};
  Status s = factory_->Revert(env_, undo);
  EXPECT_EQ(s.code(), StatusCode::kInvalidInput);
  EXPECT_EQ(s.message(),
            "undo record has no process identity (pid, start_ticks): {\"signal\":\"SIGCONT\"}");
}

TEST_F(ProcessPauseTest, PrepareRefusesGoneTargetsPid1AndSelf) {
  auto fault = factory_->Create(step_, spec_);
  Target gone = target_;
  gone.process.start_ticks += 1;
  Status s = fault->Prepare(env_, {target_, gone});
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "pid 4242: no such process");

  Target init;
  init.process = table_.Add(1, "init");
  init.label = "pid 1 (init)";
  s = fault->Prepare(env_, {init});
  EXPECT_EQ(s.code(), StatusCode::kInvalidInput);
  EXPECT_EQ(s.message(), "pid 1 (init): refusing to signal PID 1");

  Target self;
  self.process = table_.Add(getpid(), "ringfence");
  self.label = "pid " + std::to_string(getpid()) + " (ringfence)";
  s = fault->Prepare(env_, {self});
  EXPECT_EQ(s.code(), StatusCode::kInvalidInput);
  EXPECT_EQ(s.message(), self.label + ": refusing to signal the runner itself");
}

}  // namespace
}  // namespace ringfence
