#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/clock.h"
#include "core/base/duration.h"
#include "core/base/env.h"
#include "core/base/process_table.h"
#include "core/base/status.h"
#include "core/model/experiment.h"
#include "core/observe/metric_source.h"
#include "core/observe/probe.h"

namespace ringfence {

// How many of its latest samples a guard keeps in memory (and in GuardMonitor::ToJson()); every
// sample is handed to the on_sample callback, which streams it to the journal's event log.
inline constexpr size_t kGuardSampleWindow = 256;

struct GuardSample {
  WallTime at{};
  std::optional<double> value;  // nullopt: no data or error
  enum class Verdict { kOk, kBreach, kNoData, kError, kWarmingUp } verdict = Verdict::kOk;
  std::string detail;
  nlohmann::json ToJson() const;  // {at, value, verdict, detail}
};

// Why and when a run was aborted.
struct GuardBreach {
  std::string guard;
  std::string reason;  // "value 0.6 > 0.2", "no data", "error: …"
  std::optional<double> value;
  std::string threshold;
  WallTime sampled_at{};   // when the breaching sample was taken
  WallTime detected_at{};  // when the guard decided (after `for`)
  nlohmann::json ToJson() const;
};

struct GuardEnv {
  Env& system;  // the sources' clock, processes and HTTP
  ProbeRunner& probes;
  const Experiment& experiment;
};

// Samples every guard on its own schedule, concurrently with the method, and reports the first
// breach once. Sources have timeouts and never block the method.
class GuardMonitor {
 public:
  virtual ~GuardMonitor() = default;
  // Probes each source once (--check-sources); an error names the guard and what failed.
  virtual Status CheckSources() = 0;
  // During the steady-state phase: measures the baseline of every baseline-relative guard.
  virtual Status CaptureBaseline() = 0;
  // Starts sampling on threads of its own. `on_breach` is called once, from a sampling thread,
  // at the first breach; `on_sample` (optional) after every sample. Thread-safe callbacks needed.
  virtual void Start(
      std::function<void(const GuardBreach&)> on_breach,
      std::function<void(const std::string& guard, const GuardSample&)> on_sample) = 0;
  // Stops and joins the sampling threads. Idempotent.
  virtual void Stop() = 0;
  // Every guard with its baseline, its last kGuardSampleWindow samples (`samples`), how many it
  // took (`samples_total`, `samples_dropped` = those not in `samples`) and a `summary` (counts by
  // verdict, min, max, first_at, last_at), for the journal. Thread-safe.
  virtual nlohmann::json ToJson() const = 0;
};

std::unique_ptr<GuardMonitor> MakeGuardMonitor(const std::vector<GuardSpec>& guards, GuardEnv env);

// A GuardMonitor whose sources come from `factory` (MakeGuardMonitor passes MakeMetricSource).
// `reads_stop` (optional) is requested when the monitor stops, before it joins its threads, so
// that readings in flight end at once (pass the same one in the sources' SourceEnv).
std::unique_ptr<GuardMonitor> MakeGuardMonitorWithSources(
    const std::vector<GuardSpec>& guards, Clock& clock, MetricSourceFactory factory,
    std::shared_ptr<StopSource> reads_stop = nullptr);

}  // namespace ringfence
