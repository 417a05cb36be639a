#pragma once

#include <memory>
#include <string>

#include "core/base/clock.h"
#include "core/base/status.h"
#include "runner/metrics/runner_metrics.h"

namespace ringfence {

// The scheduler's metrics (docs/scheduling.md), declared once here, served with the runner's
// (ringfence_experiments_total{status}, ringfence_experiment_running) on --metrics-listen:
//   ringfence_schedule_last_status{entry,status}            gauge, 1 for the last run's status
//   ringfence_schedule_last_run_timestamp_seconds{entry}    gauge, Unix time the last run started
//   ringfence_schedule_next_run_timestamp_seconds{entry}    gauge, Unix time of the next run
//   ringfence_schedule_runs_total{entry,status}             counter, runs by status ("skipped")
//   ringfence_schedule_consecutive_failures{entry}          gauge, failed runs since the last pass
// Thread-safe.
class SchedulerMetrics {
 public:
  SchedulerMetrics();
  ~SchedulerMetrics();
  Status Listen(const std::string& address) { return runner_.Listen(address); }
  int port() const { return runner_.port(); }
  RunnerMetrics& runner() { return runner_; }

  void NextRun(const std::string& entry, std::optional<WallTime> next);
  // A run (or a skip) of `entry` that started at `started` ended with `status`.
  void RunEnded(const std::string& entry, const std::string& status, WallTime started);
  std::string Serialize() const { return runner_.Serialize(); }

 private:
  struct Families;
  RunnerMetrics runner_;
  std::unique_ptr<Families> families_;
};

}  // namespace ringfence
