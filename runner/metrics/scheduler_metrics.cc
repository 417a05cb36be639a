#include "runner/metrics/scheduler_metrics.h"

#include <map>
#include <mutex>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

namespace ringfence {

namespace {
const char* const kStatuses[] = {"passed", "failed",      "aborted", "not_steady",
                                 "error",  "interrupted", "skipped"};

double Seconds(WallTime t) { return std::chrono::duration<double>(t.time_since_epoch()).count(); }
}  // namespace

struct SchedulerMetrics::Families {
  explicit Families(prometheus::Registry& r)
      : last_status(prometheus::BuildGauge()
                        .Name("ringfence_schedule_last_status")
                        .Help("1 for the status of the entry's last run, 0 for the others")
                        .Register(r)),
        last_run(prometheus::BuildGauge()
                     .Name("ringfence_schedule_last_run_timestamp_seconds")
                     .Help("When the entry's last run started (Unix time)")
                     .Register(r)),
        next_run(prometheus::BuildGauge()
                     .Name("ringfence_schedule_next_run_timestamp_seconds")
                     .Help("When the entry runs next (Unix time; 0: never)")
                     .Register(r)),
        runs(prometheus::BuildCounter()
                 .Name("ringfence_schedule_runs_total")
                 .Help("The entry's runs by status (skipped: not started)")
                 .Register(r)),
        failures(prometheus::BuildGauge()
                     .Name("ringfence_schedule_consecutive_failures")
                     .Help("The entry's runs since its last passed one that did not pass")
                     .Register(r)) {}
  prometheus::Family<prometheus::Gauge>& last_status;
  prometheus::Family<prometheus::Gauge>& last_run;
  prometheus::Family<prometheus::Gauge>& next_run;
  prometheus::Family<prometheus::Counter>& runs;
  prometheus::Family<prometheus::Gauge>& failures;
  std::mutex mu;
};

SchedulerMetrics::SchedulerMetrics() : families_(std::make_unique<Families>(*runner_.registry())) {}
SchedulerMetrics::~SchedulerMetrics() = default;

void SchedulerMetrics::NextRun(const std::string& entry, std::optional<WallTime> next) {
  families_->next_run.Add({{"entry", entry}}).Set(next ? Seconds(*next) : 0);
}

void SchedulerMetrics::RunEnded(const std::string& entry, const std::string& status,
                                WallTime started) {
  std::lock_guard<std::mutex> lock(families_->mu);
  families_->runs.Add({{"entry", entry}, {"status", status}}).Increment();
  if (status == "skipped") return;  // not a run: last status and failures stay
  for (const char* s : kStatuses) {
    families_->last_status.Add({{"entry", entry}, {"status", s}}).Set(status == s ? 1 : 0);
  }
  families_->last_run.Add({{"entry", entry}}).Set(Seconds(started));
  auto& failures = families_->failures.Add({{"entry", entry}});
  if (status == "passed") {
    failures.Set(0);
  } else {
    failures.Increment();
  }
}

}  // namespace ringfence
