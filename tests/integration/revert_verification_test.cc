// Every fault's Verify against a revert made to fail on purpose: a wrapper factory whose Revert
// does nothing, or re-breaks the state after the real revert. Through RevertAndVerify (what the
// engine, `recover` and the watchdogs use) the attempt is a failure saying what is still wrong;
// the real revert afterwards verifies. Every test undoes what it made.

#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <thread>

#include <gtest/gtest.h>

#include "core/engine/journal.h"
#include "core/engine/lifecycle.h"
#include "core/fault/executor.h"
#include "core/fault/fault.h"
#include "core/ledger/revert_ledger.h"
#include "core/observe/probe.h"
#include "core/sys/system_clock.h"
#include "core/sys/system_env.h"
#include "core/sys/system_file_system.h"
#include "core/sys/system_process_table.h"
#include "core/targets/target_resolver.h"
#include "faults/bad_update/bad_update.h"
#include "faults/common/worker_group.h"
#include "tests/support/child_processes.h"
#include "tests/support/netns.h"
#include "tests/support/processes.h"

namespace ringfence {
namespace {

using testing::Eventually;

using testing::ChildProcesses;
using testing::NetnsPair;

// The real factory of `type`, but Revert runs `sabotage` instead (which may call the real
// Revert first and then break the state again). Verify is the real one.
class SabotagedFactory : public FaultFactory {
 public:
  using Sabotage = std::function<Status(const FaultFactory& real, FaultEnv&, const UndoRecord&)>;
  SabotagedFactory(const std::string& type, Sabotage sabotage)
      : real_(*FaultRegistry::Global().Find(type)), sabotage_(std::move(sabotage)) {}
  const FaultDecl& Declaration() const override { return real_.Declaration(); }
  std::unique_ptr<Fault> Create(const FaultStep& step, const TargetSpec& target) const override {
    return real_.Create(step, target);
  }
  Status Revert(FaultEnv& env, const UndoRecord& undo) const override {
    return sabotage_(real_, env, undo);
  }
  Verification Verify(FaultEnv& env, const UndoRecord& undo) const override {
    return real_.Verify(env, undo);
  }

 private:
  const FaultFactory& real_;
  Sabotage sabotage_;
};

Status DoNothing(const FaultFactory&, FaultEnv&, const UndoRecord&) { return Status::Ok(); }

class RevertVerificationTest : public ::testing::Test {
 protected:
  // Prepare → PlanUndo → Inject with the real factory of `step.type`.
  Result<UndoRecord> Inject(const FaultStep& step, const Target& target,
                            const TargetSpec& spec = TargetSpec{}) {
    const FaultFactory* factory = FaultRegistry::Global().Find(step.type);
    if (factory == nullptr) return Status::NotFound(step.type);
    FaultStep with_defaults = step;  // as the loader gives them
    for (const ParamDecl& p : factory->Declaration().params) {
      if (!with_defaults.params.contains(p.name) && !p.default_value.is_null()) {
        with_defaults.params[p.name] = p.default_value;
      }
    }
    faults_.push_back(factory->Create(with_defaults, spec));
    Fault& fault = *faults_.back();
    Status s = fault.Prepare(env_, {target});
    if (!s.ok()) return s;
    auto undo = fault.PlanUndo(env_, target);
    if (!undo.ok()) return undo.status();
    s = fault.Inject(env_, target, *undo);
    if (!s.ok()) return s;
    return *undo;
  }

  // The sabotaged revert, then the real one: the first must fail saying `still_wrong`, the
  // second verify.
  void ExpectSabotageCaughtThenRealRevertVerified(const UndoRecord& undo,
                                                  SabotagedFactory::Sabotage sabotage,
                                                  const std::string& still_wrong) {
    FaultRegistry sabotaged;
    sabotaged.Register(std::make_unique<SabotagedFactory>(undo.fault_type, std::move(sabotage)));
    LocalExecutor broken(env_, sabotaged);
    RevertOutcome bad = RevertAndVerify(broken, undo, 2, SystemClock());
    EXPECT_FALSE(bad.ok());
    EXPECT_FALSE(bad.verification.verified);
    EXPECT_NE(bad.verification.found.find(still_wrong), std::string::npos)
        << bad.verification.found;
    EXPECT_EQ(bad.status.message(),
              "reverted, but the state is not back: " + bad.verification.found);

    LocalExecutor real(env_, FaultRegistry::Global());
    RevertOutcome good = RevertAndVerify(real, undo, 3, SystemClock());
    EXPECT_TRUE(good.ok()) << good.status.message();
    EXPECT_TRUE(good.verification.verified) << good.verification.found;
  }

  std::unique_ptr<ProcessTable> table_ = MakeSystemProcessTable();
  StopSource stop_;
  SystemEnv system_env_{*table_};
  FaultEnv env_{system_env_, stop_, "verify-it-" + std::to_string(::getpid())};
  Target host_{"local", {}, "host local"};
  std::vector<std::unique_ptr<Fault>> faults_;
};

Target ProcessTarget(ProcessTable& table, pid_t pid) {
  Target t;
  auto info = table.Get(pid);
  if (info.ok()) t.process = *info;
  t.label = "pid " + std::to_string(pid);
  return t;
}

TEST_F(RevertVerificationTest, ProcessPauseReStoppedAfterTheRevertIsNotVerified) {
  ChildProcesses children;
  const pid_t pid = children.Spawn({"sleep", "3600." + testing::UniqueDigits()});
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(Eventually([&] { return testing::ProcState(pid) == 'S'; }));
  FaultStep step;
  step.name = "pause";
  step.type = "process_pause";
  auto undo = Inject(step, ProcessTarget(*table_, pid));
  ASSERT_TRUE(undo.ok()) << undo.status().message();
  ASSERT_TRUE(Eventually([&] { return testing::ProcState(pid) == 'T'; }));
  ExpectSabotageCaughtThenRealRevertVerified(
      *undo,
      [pid](const FaultFactory& real, FaultEnv& env, const UndoRecord& u) {
        Status s = real.Revert(env, u);
        ::kill(pid, SIGSTOP);  // re-broken after the revert (delivered when it next runs)
        Eventually([pid] { return testing::ProcState(pid) == 'T'; });
        return s;
      },
      "pid " + std::to_string(pid) + " is still stopped (state T)");
  EXPECT_NE(testing::ProcState(pid), 'T');
}

// The same through the engine: a run whose (sabotaged) revert leaves the process stopped exits 4
// with the manual undo, its journal says verified: false and what was found, and the ledger
// keeps the entry outstanding.
TEST_F(RevertVerificationTest, ARunWhoseRevertIsNotVerifiedExits4WithTheManualUndo) {
  ChildProcesses children;
  const std::string marker = "3600." + testing::UniqueDigits();
  const pid_t pid = children.Spawn({"sleep", marker});
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(Eventually([&] { return testing::ProcState(pid) == 'S'; }));

  FaultRegistry registry;
  registry.Register(std::make_unique<SabotagedFactory>(
      "process_pause", [pid](const FaultFactory& real, FaultEnv& env, const UndoRecord& u) {
        Status s = real.Revert(env, u);
        ::kill(pid, SIGSTOP);
        Eventually([pid] { return testing::ProcState(pid) == 'T'; });
        return s;
      }));
  Experiment experiment;
  experiment.title = "sabotaged revert";
  TargetSpec spec;
  spec.name = "sleeper";
  spec.pointer = "/targets/sleeper";
  spec.process.cmdline = "^sleep " + marker + "$";
  spec.select.mode = SelectionMode::kAll;
  experiment.targets.push_back(spec);
  experiment.settings.revert_attempts = 2;
  MethodStep step;
  step.kind = MethodStep::Kind::kFault;
  step.fault.name = "pause";
  step.fault.type = "process_pause";
  step.fault.target = "sleeper";
  step.fault.params = nlohmann::json::object();
  step.fault.duration = std::chrono::milliseconds(100);
  experiment.method.push_back(step);

  auto probes = MakeProbeRunner(system_env_);
  MemoryLedger ledger;
  LocalExecutor executor(env_, registry);
  EngineDeps deps{
      system_env_,          *probes, registry, ledger, executor, stop_, {}, std::chrono::seconds(3),
      std::chrono::hours(1)};
  LifecycleEngine engine(deps);
  RunReport report = engine.Run(experiment, 1, "verify-run");
  EXPECT_EQ(ExitCodeFor(report), 4) << report.reason;
  EXPECT_FALSE(report.reverted_cleanly);
  ASSERT_EQ(report.manual_undo.size(), 1u);
  EXPECT_EQ(report.manual_undo[0],
            "pause on pid " + std::to_string(pid) + " (sleep): kill -CONT " + std::to_string(pid));
  const nlohmann::json t = JournalJson(report, experiment)["faults"][0]["targets"][0];
  EXPECT_EQ(t["revert_ok"], false);
  EXPECT_EQ(t["verified"], false);
  EXPECT_EQ(t["verification"], "pid " + std::to_string(pid) + " is still stopped (state T)");
  EXPECT_EQ(ledger.Outstanding().size(), 1u);
  ::kill(pid, SIGCONT);  // the manual undo
}

TEST_F(RevertVerificationTest, ProcessKillWhoseRestartStartsNothingIsNotVerified) {
  ChildProcesses children;
  const std::string marker = "3600." + testing::UniqueDigits();
  const pid_t pid = children.Spawn({"sleep", marker});
  ASSERT_GT(pid, 0);
  // Another match that is never killed: it is not the restarted one.
  ASSERT_GT(children.Spawn({"sleep", marker}), 0);
  TargetSpec spec;
  spec.name = "sleeper";
  spec.process.cmdline = "^sleep " + marker + "$";
  ASSERT_TRUE(Eventually([&] {
    auto m = MatchProcesses(*table_, spec.process);
    return m.ok() && m->size() == 2;
  }));
  // Start times have clock-tick resolution and a 20 ms slack: both start clearly before the kill.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  FaultStep step;
  step.name = "kill";
  step.type = "process_kill";
  step.params = {{"signal", "SIGKILL"}, {"restart_command", {"/bin/true"}}};
  auto undo = Inject(step, ProcessTarget(*table_, pid), spec);
  ASSERT_TRUE(undo.ok()) << undo.status().message();
  int status = 0;
  ASSERT_TRUE(children.ReapWithin(pid, 5000, &status));
  // The restart_command (/bin/true) "succeeds" and brings nothing back.
  LocalExecutor real(env_, FaultRegistry::Global());
  RevertOutcome outcome = RevertAndVerify(real, *undo, 1, SystemClock());
  EXPECT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.verification.found,
            "no live process matching the selector runs after the restart_command");

  // Brought back by hand: now it verifies.
  const pid_t again = children.Spawn({"sleep", marker});
  ASSERT_TRUE(Eventually([&] { return testing::ProcState(again) == 'S'; }));
  Verification v = real.Verify(*undo);
  EXPECT_TRUE(v.verified) << v.found;
  EXPECT_EQ(v.found.rfind("running again: pid " + std::to_string(again), 0), 0u) << v.found;
}

TEST_F(RevertVerificationTest, ProcessKillWithoutRestartHasNothingToCheck) {
  UndoRecord undo;
  undo.fault_type = "process_kill";
  undo.data = {{"pid", 999999}, {"start_ticks", 1ull}, {"name", "x"}};
  Verification v = FaultRegistry::Global().Find("process_kill")->Verify(env_, undo);
  EXPECT_TRUE(v.verified) << v.found;
}

TEST_F(RevertVerificationTest, NftTableLeftOrRecreatedIsNotVerified) {
  NetnsPair pair;
  ASSERT_TRUE(pair.ok()) << pair.error();
  for (const char* type : {"network_loss", "network_partition"}) {
    SCOPED_TRACE(type);
    FaultStep step;
    step.name = "net";
    step.type = type;
    step.params = {{"direction", "both"}, {"protocol", "all"}, {"netns", pair.server_ns()}};
    if (std::string(type) == "network_loss") step.params["percent"] = 100;
    if (std::string(type) == "network_partition") step.params["port"] = 9;
    auto undo = Inject(step, host_);
    ASSERT_TRUE(undo.ok()) << undo.status().message();
    const std::string table = undo->data["table"].get<std::string>();
    ExpectSabotageCaughtThenRealRevertVerified(
        *undo, DoNothing,
        "nft table inet " + table + " in network namespace " + pair.server_ns() + " still exists");
    std::string out;
    NetnsPair::Run(NetnsPair::In(pair.server_ns(), {"nft", "list", "tables"}), &out);
    EXPECT_EQ(out.find(table), std::string::npos);
  }
}

TEST_F(RevertVerificationTest, LatencyProxyStillListeningIsNotVerified) {
  FaultStep step;
  step.name = "slow";
  step.type = "latency";
  step.params = {{"backend", "proxy"},
                 {"listen", "127.0.0.1:0"},
                 {"upstream", "127.0.0.1:9"},
                 {"delay", "10ms"}};
  step.duration = std::chrono::seconds(10);
  auto undo = Inject(step, host_);
  ASSERT_TRUE(undo.ok()) << undo.status().message();
  const std::string listen = faults_.back()->Observe(env_).value("listen", "");
  ASSERT_FALSE(listen.empty());
  ExpectSabotageCaughtThenRealRevertVerified(*undo, DoNothing,
                                             "the proxy's port " + listen + " is still taken");
  LocalExecutor real(env_, FaultRegistry::Global());
  EXPECT_EQ(real.Verify(*undo).found, "port " + listen + " is closed");
}

TEST_F(RevertVerificationTest, DiskFillFileRecreatedAfterTheRevertIsNotVerified) {
  testing::TempDir dir;
  ASSERT_EQ(::mount("tmpfs", dir.path().c_str(), "tmpfs", 0, "size=64m"), 0)
      << std::strerror(errno);
  {
    FaultStep step;
    step.name = "fill";
    step.type = "disk_fill";
    step.params = {{"path", dir.path()}, {"size", 8 << 20}, {"allow_root_fs", false}};
    auto undo = Inject(step, host_);
    ASSERT_TRUE(undo.ok()) << undo.status().message();
    faults_.back()->Observe(env_);  // the active window ends
    const std::string file = undo->data["file"].get<std::string>();
    ExpectSabotageCaughtThenRealRevertVerified(
        *undo,
        [file](const FaultFactory& real, FaultEnv& env, const UndoRecord& u) {
          Status s = real.Revert(env, u);
          std::ofstream(file) << "back";
          return s;
        },
        "fill file " + file + " still exists");
  }
  faults_.clear();
  ASSERT_EQ(::umount2(dir.path().c_str(), 0), 0) << std::strerror(errno);
}

TEST_F(RevertVerificationTest, StressWorkersLeftRunningAreNotVerified) {
  for (const char* type : {"cpu_stress", "memory_stress"}) {
    SCOPED_TRACE(type);
    FaultStep step;
    step.name = "stress";
    step.type = type;
    if (std::string(type) == "cpu_stress") {
      step.params = {{"workers", 1}, {"load", 5}, {"cgroup", false}};
    } else {
      step.params = {{"size", 8 << 20}};
    }
    auto undo = Inject(step, host_);
    ASSERT_TRUE(undo.ok()) << undo.status().message();
    auto workers =
        ReadWorkersFile(SystemFileSystem(), undo->data["workers_file"].get<std::string>());
    ASSERT_TRUE(workers.ok());
    ASSERT_FALSE(workers->empty());
    ExpectSabotageCaughtThenRealRevertVerified(
        *undo, DoNothing, "workers still running: pid " + std::to_string((*workers)[0].pid));
  }
}

TEST_F(RevertVerificationTest, BadUpdateHostWithAnotherChecksumIsNotVerified) {
  testing::TempDir dir;
  dir.Write("h1", "good");
  dir.Write("h2", "good");
  auto sum = FileChecksum(SystemFileSystem(), dir.File("h1"));
  ASSERT_TRUE(sum.ok());
  UndoRecord undo;
  undo.fault_type = "bad_update";
  undo.data = {{"hosts",
                {{{"name", "h1"}, {"path", dir.File("h1")}, {"checksum", *sum}},
                 {{"name", "h2"}, {"path", dir.File("h2")}, {"checksum", *sum}}}}};
  const FaultFactory& factory = *FaultRegistry::Global().Find("bad_update");
  EXPECT_TRUE(factory.Verify(env_, undo).verified);
  dir.Write("h2", "bad!");
  Verification v = factory.Verify(env_, undo);
  EXPECT_FALSE(v.verified);
  EXPECT_EQ(v.found.rfind("not restored: h2 (" + dir.File("h2") + " has checksum ", 0), 0u)
      << v.found;
}

}  // namespace
}  // namespace ringfence
