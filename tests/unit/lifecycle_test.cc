#include "core/engine/lifecycle.h"

#include <mutex>
#include <stdexcept>

#include <gtest/gtest.h>

#include "core/engine/journal.h"
#include "core/fault/executor.h"
#include "core/ledger/revert_ledger.h"
#include "tests/support/fake_clock.h"
#include "tests/support/fake_env.h"
#include "tests/support/fake_process_table.h"

namespace ringfence {
namespace {

using testing::FakeClock;

// Every call into the fakes, in order, with the fake clock's time: the lifecycle's contract is
// an ordering, so the tests compare these logs.
struct CallLog {
  FakeClock* clock = nullptr;
  std::mutex mu;  // reverts after a guard breach run on several threads
  std::vector<std::string> calls;
  void Add(const std::string& s) {
    std::lock_guard<std::mutex> lock(mu);
    calls.push_back(s + "@" + std::to_string(clock->ElapsedMs()));
  }
};

// `n` processes "worker" (pids 1000…); the faults here are fakes, so nothing signals them.
void AddWorkers(testing::FakeProcessTable& table, int n) {
  for (int i = 0; i < n; ++i) {
    table.Add(1000 + i, "worker", "worker --id " + std::to_string(i), 0, 50 + i);
  }
}

// A guard monitor whose breach the test fires (from inside a fake fault, as a guard thread would).
class FakeGuards : public GuardMonitor {
 public:
  Status CheckSources() override { return Status::Ok(); }
  Status CaptureBaseline() override {
    ++baselines;
    return baseline_status;
  }
  void Start(std::function<void(const GuardBreach&)> on_breach,
             std::function<void(const std::string&, const GuardSample&)>) override {
    started = true;
    breach = std::move(on_breach);
  }
  void Stop() override { stopped = true; }
  nlohmann::json ToJson() const override { return {{{"name", "blast-radius"}, {"samples", 1}}}; }
  void Fire() {
    GuardBreach b;
    b.guard = "blast-radius";
    b.reason = "value 0.6 > 0.2";
    b.value = 0.6;
    b.threshold = "<= 0.2";
    breach(b);
  }
  int baselines = 0;
  bool started = false, stopped = false;
  Status baseline_status;
  std::function<void(const GuardBreach&)> breach;
};

struct FakeBehaviour {
  int fail_inject_on_call = 0;             // 1-based call number of Inject that fails; 0: never
  FakeGuards* breach_on_inject = nullptr;  // fires a breach while the step named second injects
  bool revert_always_fails = false;
  bool verify_always_fails = false;  // Revert succeeds, but Verify finds the state not back
  bool expectation_met = true;
  StopSource* stop_on_inject = nullptr;  // requests a stop (as a signal would) during Inject
};

class FakeFault : public Fault {
 public:
  FakeFault(CallLog& log, FakeBehaviour& b, std::string name) : log_(log), b_(b), name_(name) {}
  Status Prepare(FaultEnv&, const std::vector<Target>& targets) override {
    log_.Add("prepare " + name_ + " " + std::to_string(targets.size()));
    return Status::Ok();
  }
  Result<UndoRecord> PlanUndo(FaultEnv&, const Target& t) override {
    UndoRecord u;
    u.data = {{"pid", t.process.pid}};
    u.manual_undo = "kill -CONT " + std::to_string(t.process.pid);
    return u;
  }
  Status Inject(FaultEnv&, const Target& t, const UndoRecord&) override {
    ++injects_;
    log_.Add("inject " + name_ + " " + std::to_string(t.process.pid));
    if (b_.stop_on_inject) b_.stop_on_inject->RequestStop("SIGTERM");
    if (b_.breach_on_inject && name_ == "second") b_.breach_on_inject->Fire();
    if (b_.fail_inject_on_call == injects_) return Status::Runtime("half-way failure");
    return Status::Ok();
  }
  nlohmann::json Observe(FaultEnv&) override {
    log_.Add("observe " + name_);
    return {{"injects", injects_}};
  }
  bool ExpectationMet() const override { return b_.expectation_met; }

 private:
  CallLog& log_;
  FakeBehaviour& b_;
  std::string name_;
  int injects_ = 0;
};

class FakeFactory : public FaultFactory {
 public:
  FakeFactory(CallLog& log, FakeBehaviour& b) : log_(log), b_(b) {
    decl_.name = "fake";
    decl_.summary = "records calls";
  }
  const FaultDecl& Declaration() const override { return decl_; }
  std::unique_ptr<Fault> Create(const FaultStep& step, const TargetSpec&) const override {
    return std::make_unique<FakeFault>(log_, b_, step.name);
  }
  Status Revert(FaultEnv&, const UndoRecord& undo) const override {
    log_.Add("revert " + undo.fault_name + " " + undo.data["pid"].dump());
    if (b_.revert_always_fails) return Status::Runtime("cannot undo");
    return Status::Ok();
  }
  Verification Verify(FaultEnv&, const UndoRecord&) const override {
    if (b_.verify_always_fails) return Verification::NotReverted("still stopped");
    return Verification::Reverted("resumed");
  }

 private:
  CallLog& log_;
  FakeBehaviour& b_;
  FaultDecl decl_;
};

class FakeProbes : public ProbeRunner {
 public:
  explicit FakeProbes(CallLog& log) : log_(log) {}
  ProbeOutcome Run(const ProbeSpec& probe, const Experiment&) override {
    log_.Add("probe " + probe.name);
    if (probe.name == throw_on) throw std::runtime_error("probe exploded");
    ProbeOutcome o;
    o.name = probe.name;
    o.type = "fake";
    o.met = unmet.count(probe.name) == 0;
    o.value = o.met;
    if (!o.met) o.detail = "fake says no";
    if (probe.name == stop_during && stop != nullptr) {
      // A signal arrives while the probe waits; a real probe ends at once, not met.
      stop->RequestStop("SIGTERM");
      o.met = false;
      o.value = nullptr;
      o.detail = "interrupted by SIGTERM";
    }
    return o;
  }
  ProbeOutcome Run(const ProbeSpec& probe, const Experiment& experiment,
                   const StopSource& stop_source) override {
    interruptible.insert(probe.name);
    (void)stop_source;
    return Run(probe, experiment);
  }
  std::set<std::string> unmet;
  std::string throw_on;
  std::string stop_during;  // this probe requests a stop on `stop` while it runs
  StopSource* stop = nullptr;
  std::set<std::string> interruptible;  // probes the engine ran with its stop source

 private:
  CallLog& log_;
};

ProbeSpec Probe(const std::string& name) {
  ProbeSpec p;
  p.name = name;
  return p;
}

MethodStep FaultAt(const std::string& name, int start_after_ms, int duration_ms) {
  MethodStep s;
  s.kind = MethodStep::Kind::kFault;
  s.name = name;
  s.fault.name = name;
  s.fault.type = "fake";
  s.fault.target = "workers";
  s.fault.params = nlohmann::json::object();
  s.fault.start_after = Duration(start_after_ms);
  s.fault.duration = Duration(duration_ms);
  return s;
}

MethodStep Wait(int ms) {
  MethodStep s;
  s.kind = MethodStep::Kind::kWait;
  s.wait.duration = Duration(ms);
  return s;
}

MethodStep ProbeStep(const std::string& name) {
  MethodStep s;
  s.kind = MethodStep::Kind::kProbe;
  s.probe = Probe(name);
  return s;
}

class LifecycleTest : public ::testing::Test {
 protected:
  LifecycleTest() : probes_(log_), executor_(env_, registry_) {
    AddWorkers(table_, 5);
    log_.clock = &clock_;
    registry_.Register(std::make_unique<FakeFactory>(log_, behaviour_));
    TargetSpec spec;
    spec.name = "workers";
    spec.pointer = "/targets/workers";
    spec.process.name = "worker";
    spec.select.mode = SelectionMode::kCount;
    spec.select.count = 2;
    experiment_.title = "test";
    experiment_.targets.push_back(spec);
    experiment_.steady_state = {Probe("before-and-after")};
  }

  RunReport Run(uint64_t seed = 7, GuardMonitor* guards = nullptr, RunJournal* journal = nullptr) {
    EngineDeps deps{system_env_,
                    probes_,
                    registry_,
                    ledger_,
                    executor_,
                    stop_,
                    {},
                    std::chrono::seconds(3),
                    std::chrono::hours(1)};
    deps.guards = guards;
    deps.journal = journal;
    LifecycleEngine engine(deps);
    return engine.Run(experiment_, seed, "test-run");
  }

  FakeClock clock_;
  CallLog log_;
  FakeBehaviour behaviour_;
  testing::FakeProcessTable table_;
  FakeProbes probes_;
  FaultRegistry registry_;
  MemoryLedger ledger_;
  StopSource stop_;
  testing::FakeEnv system_env_{table_, clock_};
  FaultEnv env_{system_env_, stop_};
  LocalExecutor executor_;
  Experiment experiment_;
};

std::vector<std::string> Without(const std::vector<std::string>& calls, const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& c : calls) {
    if (c.rfind(prefix, 0) != 0) out.push_back(c);
  }
  return out;
}

TEST_F(LifecycleTest, RunsPhasesInOrderAndRevertsEveryTarget) {
  experiment_.method = {FaultAt("pause", 0, 5000), Wait(1000), ProbeStep("during")};
  RunReport r = Run();
  EXPECT_EQ(r.status, RunStatus::kPassed) << r.reason;
  EXPECT_EQ(ExitCodeFor(r), 0);
  ASSERT_EQ(r.faults.size(), 1u);
  ASSERT_EQ(r.faults[0].targets.size(), 2u);
  const std::string a = std::to_string(r.faults[0].targets[0].target.process.pid);
  const std::string b = std::to_string(r.faults[0].targets[1].target.process.pid);
  EXPECT_EQ(log_.calls,
            (std::vector<std::string>{"prepare pause 2@0", "probe before-and-after@0",
                                      "inject pause " + a + "@0", "inject pause " + b + "@0",
                                      "probe during@1000", "observe pause@5000",
                                      "revert pause " + b + "@5000", "revert pause " + a + "@5000",
                                      "observe pause@5000", "probe before-and-after@5000"}));
  EXPECT_TRUE(r.reverted_cleanly);
  EXPECT_TRUE(ledger_.Outstanding().empty());
}

TEST_F(LifecycleTest, SchedulesFaultsByStartAfterAndDuration) {
  experiment_.method = {FaultAt("a", 1000, 5000), Wait(2000), FaultAt("b", 0, 1000)};
  experiment_.targets[0].select.count = 1;
  RunReport r = Run();
  EXPECT_EQ(r.status, RunStatus::kPassed) << r.reason;
  auto calls = Without(Without(log_.calls, "probe"), "prepare");
  ASSERT_EQ(calls.size(), 8u);
  EXPECT_EQ(calls[0].substr(0, 8), "inject a");
  EXPECT_EQ(calls[0].substr(calls[0].find('@')), "@1000");
  EXPECT_EQ(calls[1].substr(0, 8), "inject b");
  EXPECT_EQ(calls[1].substr(calls[1].find('@')), "@2000");
  EXPECT_EQ(calls[2], "observe b@3000");
  EXPECT_EQ(calls[3].substr(0, 8), "revert b");
  EXPECT_EQ(calls[4], "observe b@3000");  // after its revert
  EXPECT_EQ(calls[5], "observe a@6000");
  EXPECT_EQ(calls[6].substr(0, 8), "revert a");
  EXPECT_EQ(calls[7], "observe a@6000");
}

TEST_F(LifecycleTest, NotSteadyInjectsNothing) {
  probes_.unmet.insert("before-and-after");
  experiment_.method = {FaultAt("pause", 0, 5000)};
  RunReport r = Run();
  EXPECT_EQ(r.status, RunStatus::kNotSteady);
  EXPECT_EQ(ExitCodeFor(r), 1);
  EXPECT_EQ(Without(log_.calls, "prepare"), (std::vector<std::string>{"probe before-and-after@0"}));
  EXPECT_EQ(r.reason, "steady state not met before the method: before-and-after: fake says no");
}

TEST_F(LifecycleTest, InjectFailingHalfWayIsStillReverted) {
  experiment_.targets[0].select.count = 3;
  behaviour_.fail_inject_on_call = 2;
  experiment_.method = {FaultAt("pause", 0, 5000)};
  RunReport r = Run();
  EXPECT_EQ(r.status, RunStatus::kError);
  EXPECT_EQ(ExitCodeFor(r), 3);
  const auto& t = r.faults[0].targets;
  ASSERT_EQ(t.size(), 3u);
  // The first two were registered (the second failed half-way) and both are reverted; the third
  // was never touched.
  auto reverts = std::count_if(log_.calls.begin(), log_.calls.end(),
                               [](const std::string& c) { return c.rfind("revert", 0) == 0; });
  EXPECT_EQ(reverts, 2);
  EXPECT_TRUE(t[0].revert_ok);
  EXPECT_TRUE(t[1].revert_ok);
  EXPECT_FALSE(t[2].undo.has_value());
  EXPECT_TRUE(ledger_.Outstanding().empty());
  EXPECT_TRUE(r.reverted_cleanly);
}

TEST_F(LifecycleTest, ProbeThatThrowsStillLeadsToRevert) {
  probes_.throw_on = "during";
  experiment_.method = {FaultAt("pause", 0, 5000), ProbeStep("during")};
  RunReport r = Run();
  EXPECT_EQ(r.status, RunStatus::kError);
  EXPECT_EQ(r.reason, "internal error: probe exploded");
  EXPECT_TRUE(ledger_.Outstanding().empty());
  EXPECT_TRUE(r.reverted_cleanly);
  EXPECT_EQ(ExitCodeFor(r), 3);
}

TEST_F(LifecycleTest, MethodProbeNotMetFailsAndReverts) {
  probes_.unmet.insert("during");
  experiment_.method = {FaultAt("pause", 0, 5000), Wait(100), ProbeStep("during"), Wait(10000)};
  RunReport r = Run();
  EXPECT_EQ(r.status, RunStatus::kFailed);
  EXPECT_EQ(r.reason, "method probe during not met: fake says no");
  EXPECT_EQ(ExitCodeFor(r), 1);
  EXPECT_TRUE(ledger_.Outstanding().empty());
  // Reverted as soon as the probe failed, not at the end of the fault's duration.
  EXPECT_EQ(log_.calls.back(), "probe before-and-after@100");
}

TEST_F(LifecycleTest, RevertThatKeepsFailingIsRetriedThenReportedWithManualUndo) {
  behaviour_.revert_always_fails = true;
  experiment_.settings.revert_attempts = 3;
  experiment_.targets[0].select.count = 1;
  experiment_.method = {FaultAt("pause", 0, 1000)};
  RunReport r = Run();
  auto reverts = std::count_if(log_.calls.begin(), log_.calls.end(),
                               [](const std::string& c) { return c.rfind("revert", 0) == 0; });
  EXPECT_EQ(reverts, 3);
  EXPECT_FALSE(r.reverted_cleanly);
  EXPECT_EQ(ExitCodeFor(r), 4);
  ASSERT_EQ(r.manual_undo.size(), 1u);
  const auto& target = r.faults[0].targets[0];
  EXPECT_EQ(r.manual_undo[0], "pause on " + target.target.label + ": kill -CONT " +
                                  std::to_string(target.target.process.pid));
  EXPECT_EQ(ledger_.Outstanding().size(), 1u);
}

TEST_F(LifecycleTest, RevertWhoseVerificationFailsIsAFailedRevertWithManualUndo) {
  behaviour_.verify_always_fails = true;
  experiment_.settings.revert_attempts = 2;
  experiment_.targets[0].select.count = 1;
  experiment_.method = {FaultAt("pause", 0, 1000)};
  RunReport r = Run();
  auto reverts = std::count_if(log_.calls.begin(), log_.calls.end(),
                               [](const std::string& c) { return c.rfind("revert", 0) == 0; });
  EXPECT_EQ(reverts, 2);  // a failed verification is a failed attempt: tried again
  EXPECT_FALSE(r.reverted_cleanly);
  EXPECT_EQ(ExitCodeFor(r), 4);
  ASSERT_EQ(r.manual_undo.size(), 1u);
  EXPECT_EQ(ledger_.Outstanding().size(), 1u);
  const nlohmann::json t = JournalJson(r, experiment_)["faults"][0]["targets"][0];
  EXPECT_EQ(t["revert_ok"], false);
  EXPECT_EQ(t["verified"], false);
  EXPECT_EQ(t["verification"], "still stopped");
  EXPECT_EQ(t["error"], "revert: reverted, but the state is not back: still stopped");
}

TEST_F(LifecycleTest, VerifiedRevertIsInTheJournal) {
  experiment_.targets[0].select.count = 1;
  experiment_.method = {FaultAt("pause", 0, 1000)};
  RunReport r = Run();
  EXPECT_TRUE(r.reverted_cleanly);
  const nlohmann::json t = JournalJson(r, experiment_)["faults"][0]["targets"][0];
  EXPECT_EQ(t["verified"], true);
  EXPECT_EQ(t["verification"], "resumed");
}

TEST_F(LifecycleTest, StopDuringMethodRevertsAndSkipsSteadyStateAfter) {
  behaviour_.stop_on_inject = &stop_;
  experiment_.method = {FaultAt("pause", 0, 60000), Wait(1000)};
  RunReport r = Run();
  EXPECT_EQ(r.status, RunStatus::kInterrupted);
  EXPECT_EQ(r.reason, "interrupted by SIGTERM");
  EXPECT_TRUE(ledger_.Outstanding().empty());
  EXPECT_TRUE(r.reverted_cleanly);
  EXPECT_FALSE(r.steady_after_checked);
  // The revert happened at once, not after the 60 s duration.
  EXPECT_EQ(log_.calls.back().substr(log_.calls.back().find('@')), "@0");
}

// A signal during a steady-state probe before the method: interrupted, nothing injected.
TEST_F(LifecycleTest, StopDuringSteadyStateBeforeInjectsNothing) {
  probes_.stop = &stop_;
  probes_.stop_during = "before-and-after";
  experiment_.method = {FaultAt("pause", 0, 60000)};
  RunReport r = Run();
  EXPECT_EQ(r.status, RunStatus::kInterrupted);
  EXPECT_EQ(r.reason, "interrupted by SIGTERM");
  EXPECT_EQ(Without(log_.calls, "prepare"), (std::vector<std::string>{"probe before-and-after@0"}));
  EXPECT_EQ(probes_.interruptible.count("before-and-after"), 1u);
}

// A signal during a method probe: the probe ends, the run is interrupted (not failed), the fault
// is reverted at once and the steady state after is skipped.
TEST_F(LifecycleTest, StopDuringMethodProbeRevertsAndIsInterrupted) {
  probes_.stop = &stop_;
  probes_.stop_during = "during";
  experiment_.method = {FaultAt("pause", 0, 60000), Wait(1000), ProbeStep("during")};
  RunReport r = Run();
  EXPECT_EQ(r.status, RunStatus::kInterrupted);
  EXPECT_EQ(r.reason, "interrupted by SIGTERM");
  EXPECT_TRUE(ledger_.Outstanding().empty());
  EXPECT_TRUE(r.reverted_cleanly);
  EXPECT_FALSE(r.steady_after_checked);
  EXPECT_EQ(probes_.interruptible.count("during"), 1u);
  ASSERT_EQ(r.method_log.size(), 2u);
  EXPECT_EQ(r.method_log[1]["probe"]["detail"], "interrupted by SIGTERM");
  int reverts = 0;
  for (const auto& c : log_.calls) {
    if (c.rfind("revert", 0) == 0) {
      ++reverts;
      EXPECT_EQ(c.substr(c.find('@')), "@1000") << c;
    }
  }
  EXPECT_EQ(reverts, 2);
}

// The journal gets a checkpoint at every phase change, each with the report as it stands.
TEST_F(LifecycleTest, CheckpointsTheJournalAtEveryPhaseChange) {
  struct Phases : RunJournal {
    void GuardSampled(const std::string&, const GuardSample&) override {}
    void Checkpoint(const RunReport& report, const std::string& phase) override {
      size_t injected = 0, reverted = 0;
      for (const auto& f : report.faults) {
        for (const auto& t : f.targets) {
          injected += t.inject_ok;
          reverted += t.revert_ok;
        }
      }
      seen.push_back(phase + " " + std::to_string(injected) + "/" + std::to_string(reverted));
    }
    std::vector<std::string> seen;
  } journal;
  experiment_.method = {FaultAt("pause", 0, 1000)};
  RunReport r = Run(7, nullptr, &journal);
  EXPECT_EQ(r.status, RunStatus::kPassed) << r.reason;
  EXPECT_EQ(journal.seen,
            (std::vector<std::string>{"preparing 0/0", "method 0/0", "method 2/0", "method 2/2",
                                      "reverted 2/2", "rollbacks-done 2/2"}));
}

TEST_F(LifecycleTest, FaultExpectationNotMetFailsTheRun) {
  behaviour_.expectation_met = false;
  experiment_.method = {FaultAt("kill", 0, 1000)};
  RunReport r = Run();
  EXPECT_EQ(r.status, RunStatus::kFailed);
  EXPECT_EQ(r.reason, "kill: the fault's expectation did not hold");
}

TEST_F(LifecycleTest, SameSeedSelectsSameTargets) {
  experiment_.method = {FaultAt("pause", 0, 1000)};
  auto pids = [](const RunReport& r) {
    std::vector<pid_t> out;
    for (const auto& t : r.faults[0].targets) out.push_back(t.target.process.pid);
    return out;
  };
  RunReport first = Run(12345);
  RunReport second = Run(12345);
  EXPECT_EQ(first.seed, 12345u);
  EXPECT_EQ(pids(first), pids(second));
}

TEST_F(LifecycleTest, JournalHasTheDocumentedShape) {
  experiment_.method = {FaultAt("pause", 0, 1000)};
  RunReport r = Run(99);
  nlohmann::json j = JournalJson(r, experiment_);
  for (const char* key : {"ringfence_version", "run_id", "experiment", "seed", "status",
                          "started_at", "ended_at", "steady_state", "faults", "reverted_cleanly"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["status"], "passed");
  EXPECT_EQ(j["seed"], 99);
  EXPECT_EQ(j["started_at"], "2024-07-19T04:09:00.000Z");
  EXPECT_EQ(j["steady_state"]["before"][0]["met"], true);
  const auto& f = j["faults"][0];
  EXPECT_EQ(f["name"], "pause");
  EXPECT_EQ(f["injected_at"], "2024-07-19T04:09:00.000Z");
  EXPECT_EQ(f["reverted_at"], "2024-07-19T04:09:01.000Z");
  EXPECT_EQ(f["revert_ok"], true);
  EXPECT_EQ(f["observed"]["injects"], 2);
  EXPECT_EQ(f["observed_after_revert"]["injects"], 2);  // observed again once reverted
  EXPECT_EQ(j["journal_version"], kJournalVersion);
  EXPECT_EQ(j["incomplete"], false);
  EXPECT_EQ(f["targets"].size(), 2u);
}

TEST_F(LifecycleTest, GuardBreachAbortsAndRevertsEveryActiveFault) {
  FakeGuards guards;
  behaviour_.breach_on_inject = &guards;
  experiment_.targets[0].select.count = 1;
  experiment_.method = {FaultAt("first", 0, 60000), Wait(500), FaultAt("second", 0, 60000),
                        Wait(1000)};
  RunReport r = Run(7, &guards);
  EXPECT_EQ(guards.baselines, 1);
  EXPECT_TRUE(guards.started);
  EXPECT_TRUE(guards.stopped);
  EXPECT_EQ(r.status, RunStatus::kAborted);
  EXPECT_EQ(r.reason, "guard blast-radius breached: value 0.6 > 0.2 (allowed <= 0.2)");
  EXPECT_EQ(ExitCodeFor(r), 1);
  EXPECT_TRUE(r.reverted_cleanly);
  EXPECT_TRUE(ledger_.Outstanding().empty());
  // Both faults were reverted at the breach (t = 500 ms), not at the end of their 60 s.
  int reverts = 0;
  for (const auto& c : log_.calls) {
    if (c.rfind("revert", 0) != 0) continue;
    ++reverts;
    EXPECT_EQ(c.substr(c.find('@')), "@500") << c;
  }
  EXPECT_EQ(reverts, 2);
  EXPECT_TRUE(r.steady_after_checked);  // an abort still checks the steady state after
  nlohmann::json j = JournalJson(r, experiment_);
  EXPECT_EQ(j["status"], "aborted");
  EXPECT_EQ(j["abort"]["guard"], "blast-radius");
  EXPECT_EQ(j["abort"]["value"], 0.6);
  EXPECT_EQ(j["abort"]["threshold"], "<= 0.2");
  EXPECT_EQ(j["abort"]["all_reverted_at"], "2024-07-19T04:09:00.500Z");
  EXPECT_EQ(j["guards"][0]["name"], "blast-radius");
}

TEST_F(LifecycleTest, BaselineThatCannotBeMeasuredInjectsNothing) {
  FakeGuards guards;
  guards.baseline_status = Status::Unavailable("scrape of http://127.0.0.1:9/metrics failed");
  experiment_.method = {FaultAt("pause", 0, 1000)};
  RunReport r = Run(7, &guards);
  EXPECT_EQ(r.status, RunStatus::kError);
  EXPECT_EQ(r.reason, "guards: scrape of http://127.0.0.1:9/metrics failed");
  EXPECT_FALSE(guards.started);
  for (const auto& c : log_.calls) EXPECT_NE(c.rfind("inject", 0), 0u) << c;
}

// ---- Operators (game days, docs/game-days.md) ----

// Answers BeforeStep from a script; may abort through the engine as the keyboard would.
class ScriptedControl : public OperatorControl {
 public:
  StepGate BeforeStep(size_t index, size_t, const MethodStep& step, std::string* who) override {
    asked.push_back(step.name + "#" + std::to_string(index));
    if (who != nullptr) *who = "tester";
    return script(index);
  }
  nlohmann::json Actions() const override { return {{{"who", "tester"}, {"action", "note"}}}; }
  std::function<StepGate(size_t)> script = [](size_t) { return StepGate::kRun; };
  std::vector<std::string> asked;
};

class OperatorControlTest : public LifecycleTest {
 protected:
  RunReport RunWith(ScriptedControl& control, LifecycleEngine** engine_out = nullptr) {
    EngineDeps deps{system_env_,
                    probes_,
                    registry_,
                    ledger_,
                    executor_,
                    stop_,
                    {},
                    std::chrono::seconds(3),
                    std::chrono::hours(1)};
    deps.control = &control;
    LifecycleEngine engine(deps);
    if (engine_out != nullptr) *engine_out = &engine;
    return engine.Run(experiment_, 7, "test-run");
  }
};

TEST_F(OperatorControlTest, HoldWaitsBeforeTheNextStepWhileActiveFaultsEndOnTime) {
  experiment_.method = {FaultAt("a", 0, 1000), Wait(0), FaultAt("b", 0, 1000)};
  experiment_.method[1].name = "pause-here";
  ScriptedControl control;
  int holds = 0;
  // Step 1 is held for 3 s (15 asks at 200 ms): fault a still ends at 1 s.
  control.script = [&](size_t i) {
    if (i == 1 && holds < 15) {
      ++holds;
      return StepGate::kHold;
    }
    return StepGate::kRun;
  };
  RunReport r = RunWith(control);
  EXPECT_EQ(r.status, RunStatus::kPassed) << r.reason;
  std::vector<std::string> injects_and_reverts;
  for (const auto& c : Without(Without(log_.calls, "probe"), "observe")) {
    if (c.rfind("prepare", 0) != 0)
      injects_and_reverts.push_back(c.substr(0, c.find(' ')) + c.substr(c.find('@')));
  }
  EXPECT_EQ(injects_and_reverts,
            (std::vector<std::string>{"inject@0", "inject@0", "revert@1000", "revert@1000",
                                      "inject@3000", "inject@3000", "revert@4000", "revert@4000"}));
  EXPECT_EQ(r.operator_actions, control.Actions());
}

TEST_F(OperatorControlTest, SkippedStepIsNeverInjectedAndTheLogSaysWho) {
  experiment_.method = {FaultAt("a", 0, 1000), FaultAt("b", 0, 1000)};
  ScriptedControl control;
  control.script = [](size_t i) { return i == 0 ? StepGate::kSkip : StepGate::kRun; };
  RunReport r = RunWith(control);
  EXPECT_EQ(r.status, RunStatus::kPassed) << r.reason;
  for (const auto& c : log_.calls) EXPECT_EQ(c.find("inject a"), std::string::npos) << c;
  EXPECT_FALSE(r.faults[0].started);
  EXPECT_TRUE(r.faults[1].started);
  ASSERT_FALSE(r.method_log.empty());
  EXPECT_EQ(r.method_log[0]["skipped"], true);
  EXPECT_EQ(r.method_log[0]["by"], "tester");
  EXPECT_EQ(r.method_log[0]["name"], "a");
}

TEST_F(OperatorControlTest, OperatorAbortRevertsEverythingLikeABreach) {
  experiment_.method = {FaultAt("a", 0, 60000), FaultAt("b", 0, 60000), Wait(1000),
                        ProbeStep("never")};
  ScriptedControl control;
  LifecycleEngine* engine = nullptr;
  control.script = [&](size_t i) {
    if (i == 3) engine->RequestOperatorAbort("alice");
    return StepGate::kRun;
  };
  RunReport r = RunWith(control, &engine);
  EXPECT_EQ(r.status, RunStatus::kAborted);
  EXPECT_EQ(r.reason, "operator: aborted by alice (operator); every active fault was reverted");
  EXPECT_EQ(ExitCodeFor(r), 1);
  ASSERT_TRUE(r.operator_abort.has_value());
  EXPECT_EQ(r.operator_abort->who, "alice");
  EXPECT_TRUE(r.all_reverted_at.has_value());
  EXPECT_TRUE(r.reverted_cleanly);
  EXPECT_TRUE(ledger_.Outstanding().empty());
  for (const auto& c : log_.calls) EXPECT_EQ(c.find("probe never"), std::string::npos) << c;
  const nlohmann::json j = JournalJson(r, experiment_);
  EXPECT_EQ(j["abort"]["by"], "operator");
  EXPECT_EQ(j["abort"]["who"], "alice");
  EXPECT_EQ(j["operator_actions"][0]["who"], "tester");
}

TEST_F(OperatorControlTest, HoldLongerThanMaxHoldAborts) {
  experiment_.method = {FaultAt("a", 0, 600000), Wait(0)};
  experiment_.settings.max_hold = std::chrono::seconds(10);
  ScriptedControl control;
  control.script = [](size_t i) { return i == 1 ? StepGate::kHold : StepGate::kRun; };
  RunReport r = RunWith(control);
  EXPECT_EQ(r.status, RunStatus::kAborted);
  ASSERT_TRUE(r.operator_abort.has_value());
  EXPECT_EQ(r.operator_abort->who, "max_hold");
  EXPECT_EQ(r.operator_abort->why, "held longer than settings.max_hold (10s)");
  EXPECT_TRUE(ledger_.Outstanding().empty());
  // Aborted soon after 10 s of holding, long before the fault's own 10 minutes.
  for (const auto& c : log_.calls) {
    if (c.rfind("revert", 0) == 0) {
      EXPECT_LT(std::stoll(c.substr(c.find('@') + 1)), 11000) << c;
    }
  }
}

TEST(ExitCodeTest, MapsStatuses) {
  RunReport r;
  r.status = RunStatus::kPassed;
  EXPECT_EQ(ExitCodeFor(r), 0);
  r.status = RunStatus::kAborted;
  EXPECT_EQ(ExitCodeFor(r), 1);
  r.status = RunStatus::kError;
  EXPECT_EQ(ExitCodeFor(r), 3);
  r.input_error = true;
  EXPECT_EQ(ExitCodeFor(r), 2);
  r.manual_undo.push_back("x");
  EXPECT_EQ(ExitCodeFor(r), 4);
}

}  // namespace
}  // namespace ringfence
