#pragma once

#include <memory>
#include <string>

#include "core/base/env.h"
#include "core/base/status.h"
#include "core/engine/run_observer.h"
#include "core/observe/guards.h"

namespace prometheus {
class Registry;
}  // namespace prometheus

namespace ringfence {

// HOST:PORT with HOST of [A-Za-z0-9.-]+ or [IPv6] of [0-9A-Fa-f:]+, PORT of 1 to 5 digits up
// to 65535 (--metrics-listen, --control-listen).
bool IsListenAddress(const std::string& address);

// The runner's own metrics, declared once here (docs/guards.md lists them):
//   ringfence_experiment_running                 gauge, 1 while an experiment runs
//   ringfence_fault_active{fault,target}         gauge, 1 while that fault is injected there
//   ringfence_guard_value{guard}                 gauge, the guard's last value (NaN: none)
//   ringfence_guard_breaches_total{guard}        counter
//   ringfence_revert_duration_seconds            histogram, one observation per revert
//   ringfence_experiments_total{status}          counter, by final status
// Every method is thread-safe and cheap (a guard's sampling thread calls GuardSampled).
class RunnerMetrics : public RunObserver {
 public:
  RunnerMetrics();
  ~RunnerMetrics() override;
  RunnerMetrics(const RunnerMetrics&) = delete;
  RunnerMetrics& operator=(const RunnerMetrics&) = delete;

  // Serves the metrics on http://ADDRESS/metrics (prometheus-cpp's Exposer), e.g.
  // "127.0.0.1:9464"; port 0 picks a free one (see port()). Errors:
  //   kInvalidInput "--metrics-listen: \"x\": an address such as 127.0.0.1:9464"
  //   kUnavailable  "cannot listen on 127.0.0.1:9464: <reason>"
  // A second call is kInvalidInput "already listening on port <port>".
  Status Listen(const std::string& address);
  int port() const;  // the bound port, or 0 before Listen

  void ExperimentStarted() override;
  void FaultActive(const std::string& fault, const std::string& target, bool active) override;
  void GuardSampled(const std::string& guard, const GuardSample& sample) override;
  void GuardBreached(const std::string& guard) override;
  void RevertDuration(double seconds) override;
  // Sets running to 0 and counts the run under its status ("passed", "aborted", ...).
  void ExperimentFinished(const std::string& status) override;

  // The text exposition format, as /metrics serves it.
  std::string Serialize() const;
  // The registry Listen serves, for more families (the scheduler's,
  // runner/metrics/scheduler_metrics.h).
  std::shared_ptr<prometheus::Registry> registry() const;

 private:
  struct Families;
  std::unique_ptr<Families> families_;
};

// Pushes the final result of a run to a Pushgateway at `url` (http://host:port) under job
// `ringfence` and the grouping label title (base64url-encoded in the path, so any title works):
//   ringfence_last_run_status{status="<status>"} 1
//   ringfence_last_run_success                   1 when status is "passed", else 0
//   ringfence_last_run_duration_seconds          duration_seconds
//   ringfence_last_run_guard_breaches            breaches
//   ringfence_last_run_timestamp_seconds         when it was pushed (Unix time)
// A POST (replacing these metrics in the group) with a 5 s timeout, through `system` (its HTTP
// and wall clock). Errors:
//   kInvalidInput "--pushgateway: \"x\": a URL starting with http:// or https://"
//   kUnavailable  "push to <url>: <transport error>" | "push to <url>: HTTP <code>: <body>"
Status PushResult(Env& system, const std::string& url, const std::string& title,
                  const std::string& status, double duration_seconds, int breaches);

// The URL path under which PushResult pushes: "/metrics/job/ringfence/title@base64/<b64url>".
std::string PushgatewayPath(const std::string& title);

}  // namespace ringfence
