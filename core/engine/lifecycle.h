#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/clock.h"
#include "core/base/env.h"
#include "core/engine/operator_control.h"
#include "core/engine/run_observer.h"
#include "core/fault/executor.h"
#include "core/fault/fault.h"
#include "core/fleet/host_directory.h"
#include "core/ledger/revert_ledger.h"
#include "core/model/experiment.h"
#include "core/observe/guards.h"
#include "core/observe/probe.h"

namespace ringfence {

enum class RunStatus { kPassed, kFailed, kAborted, kNotSteady, kError, kInterrupted };
const char* RunStatusName(RunStatus s);

// One injection on one target, as the journal shows it.
struct TargetRecord {
  Target target;
  std::optional<UndoRecord> undo;
  uint64_t ledger_id = 0;
  std::optional<WallTime> injected_at;
  std::optional<WallTime> reverted_at;
  bool inject_ok = false;
  bool revert_ok = false;  // reverted and verified (a failed verification is a failed revert)
  std::optional<Verification> verification;  // what the check after the revert found
  std::string error;                         // inject or revert failure
};

// One fault step of the method, as the journal shows it.
struct FaultRecord {
  std::string name;
  std::string type;
  std::string target;  // the target spec's name
  nlohmann::json params;
  Duration duration{0};
  Duration start_after{0};
  std::vector<TargetRecord> targets;
  nlohmann::json observed = nlohmann::json::object();  // at the end of its active window
  nlohmann::json observed_after_revert;  // once every target was reverted; null if never
  bool expectation_met = true;
  std::string expectation_detail;  // what did not hold, when it did not
  bool started = false;
  bool ended = false;  // its active window is over and it was reverted
};

// An abort an operator asked for (the keyboard, the control API, or a hold past max_hold).
struct OperatorAbort {
  std::string who;  // the user name, the API token's name, or "max_hold"
  std::string why;  // "operator" or "held longer than settings.max_hold (15m)"
  WallTime requested_at{};
};

// Everything that happened in a run; the journal is its JSON form.
struct RunReport {
  std::string run_id;
  uint64_t seed = 0;
  RunStatus status = RunStatus::kError;
  std::string reason;  // why the status is what it is, one line
  WallTime started_at{};
  WallTime ended_at{};
  std::vector<ProbeOutcome> steady_before;
  std::vector<ProbeOutcome> steady_after;
  bool steady_after_checked = false;
  std::optional<WallTime> steady_before_at, steady_after_at;  // when each check ended
  nlohmann::json method_log = nlohmann::json::array();        // waits and probes, in order
  std::vector<FaultRecord> faults;
  nlohmann::json rollbacks = nlohmann::json::array();
  bool reverted_cleanly = true;
  std::vector<std::string> manual_undo;  // for every revert that failed
  bool input_error = false;  // resolution found the input wrong (exit 2); nothing was touched
  std::optional<GuardBreach> breach;                // set when a guard aborted the run
  std::optional<WallTime> all_reverted_at;          // when the last revert of an abort finished
  nlohmann::json guards = nlohmann::json::array();  // GuardMonitor::ToJson()
  nlohmann::json fleet;  // HostDirectory::ToJson() of a run on inventory hosts, else null
  std::optional<OperatorAbort> operator_abort;  // set when an operator aborted the run
  nlohmann::json operator_actions = nlohmann::json::array();  // OperatorControl::Actions()

  bool revert_failed() const { return !manual_undo.empty(); }
};

// What the engine needs from the world. Everything with a side effect is behind one of these.
struct EngineDeps {
  Env& system;  // processes, clocks, the rollbacks' commands, run ids' randomness
  ProbeRunner& probes;
  const FaultRegistry& registry;
  RevertLedger& ledger;
  Executor& executor;
  StopSource& stop;  // requested by signal handlers, a guard breach and a lost host
  std::vector<pid_t> protected_pids;  // never targeted (e.g. the watchdog)
  // A fault's deadline is its injection + duration + deadline_grace, at most
  // max_fault_lifetime after injection; past it, the watchdog reverts it.
  Duration deadline_grace = std::chrono::seconds(3);
  Duration max_fault_lifetime = std::chrono::hours(1);
  int max_targets = 0;  // > 0: a run that would touch more targets in all is refused (exit 2)
  GuardMonitor* guards = nullptr;   // the experiment's guards, when it has any
  RunObserver* observer = nullptr;  // the runner's metrics, when asked for
  RunJournal* journal = nullptr;    // the journal written as the run goes (core/engine/journal.h)
  // Inventory hosts (docs/fleets.md): targets with `hosts` resolve through it and each target
  // goes through the executor of its host; without it every target is local (`executor`).
  HostDirectory* hosts = nullptr;
  // The operators of a game day (docs/game-days.md): asked before every method step.
  OperatorControl* control = nullptr;
};

// A one-line view of where a run is, for the live status line. Thread-safe to read through
// LifecycleEngine::Progress() while Run() works.
struct RunProgress {
  std::string phase = "starting";  // resolving, steady-state-before, method, reverting, ...
  size_t step = 0;                 // method steps done
  size_t steps = 0;
  std::vector<std::string> active_faults;  // "kill-one on pid 42 (sleep)"
  std::string activity;                    // what the engine is doing right now
  bool held = false;                       // an operator holds the method before `step`
};

// Drives one experiment: resolve targets → steady state before → method → revert (always) →
// rollbacks → steady state after → verdict. Every injection is registered in the ledger before it
// happens, and every registered injection is reverted on every path out of Run().
class LifecycleEngine {
 public:
  explicit LifecycleEngine(EngineDeps deps) : deps_(deps) {}

  // Resolves targets and returns the plan only (what --dry-run prints); injects nothing.
  RunReport Plan(const Experiment& experiment, uint64_t seed);

  // The whole run, under `run_id` (see NewRunId). Never throws.
  RunReport Run(const Experiment& experiment, uint64_t seed, const std::string& run_id);

  RunProgress Progress() const;

  // Aborts the run the way a guard breach does: every active fault is reverted at once, in
  // parallel; status `aborted`. The first abort (breach, lost host, operator) wins. Thread-safe.
  void RequestOperatorAbort(const std::string& who, const std::string& why = "operator");

 private:
  bool Resolve(const Experiment& experiment, uint64_t seed, RunReport& report);
  bool RunMethod(const Experiment& experiment, RunReport& report);
  bool StartFault(size_t index, RunReport& report);
  void EndFault(size_t index, RunReport& report);
  // Fault `index`'s Observe() through its executor(s): keyed by host when not local.
  nlohmann::json ObserveFault(size_t index, const FaultRecord& fault);
  void RevertFault(FaultRecord& fault, RunReport& report);
  void RevertEverything(RunReport& report, bool in_parallel);
  // `stop`: the probes end at once when it is requested (before the method); null after it.
  std::vector<ProbeOutcome> CheckSteadyState(const Experiment& experiment, const StopSource* stop);
  void RunRollbacks(const Experiment& experiment, RunReport& report);
  // The executor of `host`: `executor` for "local", else the host directory's (nullptr when
  // nobody knows the host).
  Executor* ExecutorFor(const std::string& host);
  // Indices of `fault`'s targets grouped by host, hosts in order of first appearance.
  std::vector<std::vector<size_t>> TargetsByHost(const FaultRecord& fault) const;
  int Concurrency() const;
  // True for a failure to reach a remote host when unreachable hosts are skipped.
  bool SkipsUnreachable(const std::string& host, const Status& st) const;
  bool InjectOne(size_t index, TargetRecord& tr, RunReport& report);
  void RevertOne(FaultRecord& fault, TargetRecord& tr, RunReport& report);
  void SetPhase(const std::string& phase, const std::string& activity = "");
  // Hands `report` to the journal (when there is one) as it stands in `phase`.
  void Checkpoint(RunReport& report, const std::string& phase);
  using Mono = std::chrono::steady_clock::time_point;
  StepGate GateStep(const Experiment& experiment, size_t step, RunReport& report,
                    std::optional<Mono>& held_since);
  void SetActivity(const std::string& activity);
  void RefreshActive(const RunReport& report);

  EngineDeps deps_;
  std::vector<std::unique_ptr<Fault>> faults_;  // parallel to report.faults
  int revert_attempts_ = 3;
  mutable std::mutex progress_mu_;
  RunProgress progress_;
  std::mutex report_mu_;  // the report's shared parts, when faults are reverted in parallel
  std::atomic<bool> parallel_{false};
  std::mutex breach_mu_;
  std::optional<GuardBreach> breach_;     // the first breach, if a guard aborted the run
  std::optional<std::string> host_lost_;  // "h3: why", if a lost host aborted the run
  std::optional<OperatorAbort> operator_abort_;
};

// A run id that sorts by start time: "20261121T162748-3fa2c1" (UTC; a random suffix), from
// `system`'s wall clock and randomness.
std::string NewRunId(Env& system);

// The dry-run plan as text lines. (The journal is core/engine/journal.h.)
std::vector<std::string> PlanText(const RunReport& report);

// 0 passed; 1 failed, aborted or not steady; 2 the input was wrong; 3 runtime error; 4 a revert
// failed. Interruptions are mapped by the caller, which knows the signal (130 / 143 / 129).
int ExitCodeFor(const RunReport& report);

}  // namespace ringfence
