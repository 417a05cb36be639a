#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/observe/guards.h"

namespace ringfence {

struct RunReport;

// What a run reports as it goes, for the runner's own metrics (runner/runner_metrics). Every
// method has a no-op default; calls may come from the engine's thread and from guard threads,
// so implementations must be thread-safe.
class RunObserver {
 public:
  virtual ~RunObserver() = default;
  virtual void ExperimentStarted() {}
  virtual void FaultActive(const std::string& fault, const std::string& target, bool active) {
    (void)fault, (void)target, (void)active;
  }
  virtual void GuardSampled(const std::string& guard, const GuardSample& sample) {
    (void)guard, (void)sample;
  }
  virtual void GuardBreached(const std::string& guard) { (void)guard; }
  virtual void RevertDuration(double seconds) { (void)seconds; }
  // A steady-state or method probe was run (game days show the failed ones).
  virtual void ProbeChecked(const std::string& probe, bool met, const std::string& detail) {
    (void)probe, (void)met, (void)detail;
  }
  virtual void ExperimentFinished(const std::string& status) { (void)status; }
};

// Where a run is written while it goes (core/engine/journal.h: JournalWriter), so that a runner
// that dies leaves a journal of everything up to its death.
class RunJournal {
 public:
  virtual ~RunJournal() = default;
  // Every guard sample as it is taken; from guard threads. Thread-safe.
  virtual void GuardSampled(const std::string& guard, const GuardSample& sample) = 0;
  // A consistent snapshot at a phase change (`phase` as in RunProgress); from the engine's
  // thread, never while reverts run in parallel.
  virtual void Checkpoint(const RunReport& report, const std::string& phase) = 0;
  // Every operator action so far (OperatorControl::Actions(): oldest first, only ever growing)
  // just after one was taken, from the keyboard's or the control API's thread: kept on disk
  // then, not at the next phase change, so that a note survives a SIGKILL right after it.
  // Thread-safe.
  virtual void OperatorActed(const nlohmann::json& actions) { (void)actions; }
};

}  // namespace ringfence
