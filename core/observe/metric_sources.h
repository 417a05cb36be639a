#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/base/clock.h"
#include "core/base/duration.h"
#include "core/base/env.h"
#include "core/base/process_table.h"
#include "core/base/status.h"
#include "core/base/url_escape.h"
#include "core/model/experiment.h"
#include "core/observe/metric_source.h"
#include "core/observe/probe.h"

namespace ringfence {

// What the real sources need from the world.
struct SourceEnv {
  Env& system;  // the clock, processes and HTTP
  ProbeRunner& probes;
  const Experiment& experiment;
  // When set, a reading in flight (an HTTP request, a probe) ends at once once it is requested:
  // MakeGuardMonitor requests it when the monitor stops.
  const StopSource* stop = nullptr;
};

// Builds the source of `guard` from its validated `source` object. The timeout of an HTTP source
// is its `timeout`, or else the guard's interval clamped to [250ms, 2s]. Errors (kInvalidInput)
// only for a source object the validator would refuse.
Result<std::unique_ptr<MetricSource>> MakeMetricSource(const GuardSpec& guard, SourceEnv env);

// ---- Pieces of the sources, exposed for their unit tests --------------------------------------

// UrlQueryEscape (core/base/url_escape.h) encodes a PromQL query for /api/v1/query.

// Reads the body of a Prometheus /api/v1/query answer: a scalar, or a vector of one series.
//   no data "query returned no series" | "query returned NaN"
//   error   "malformed response: <why>" | "prometheus: <errorType>: <error>" |
//           "query returned 3 series; a guard needs one (aggregate with sum, max, …)" |
//           "query returned a matrix; a guard needs a scalar or a vector"
SourceReading ReadPromqlResponse(int http_status, const std::string& body);

// The `q`-quantile (0..1) of `values` with linear interpolation between order statistics;
// nullopt when `values` is empty.
std::optional<double> SampleQuantile(std::vector<double> values, double q);

// The sliding window of a probe_stats source: probe results by completion time; a reading covers
// the results of the last `window`. No results in the window is no data
// ("no probe results in the last 5s"). Thread-safe.
class ProbeStatsWindow {
 public:
  enum class Stat { kSuccessRatio, kP50, kP99, kMean };  // latencies in milliseconds
  ProbeStatsWindow(Duration window, Stat stat) : window_(window), stat_(stat) {}
  void Add(std::chrono::steady_clock::time_point at, bool met, double latency_ms);
  SourceReading Current(std::chrono::steady_clock::time_point now);

 private:
  struct Result {
    std::chrono::steady_clock::time_point at;
    bool met;
    double latency_ms;
  };
  Duration window_;
  Stat stat_;
  std::mutex mu_;
  std::deque<Result> results_;
};

}  // namespace ringfence
