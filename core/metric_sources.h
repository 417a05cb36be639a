#pragma once

#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/duration.h"
#include "core/experiment.h"
#include "core/guards.h"
#include "core/probe.h"
#include "core/process_table.h"
#include "core/status.h"

namespace ringfence {

// One reading of a metric source: a number, "no data" (the source answered but has nothing to
// judge: a PromQL query without series, no observations in a window), or an error (the source
// could not be read: refused, timed out, malformed). docs/guards.md lists the detail texts.
struct SourceReading {
  enum class Kind { kValue, kNoData, kError } kind = Kind::kError;
  double value = 0;    // kValue
  std::string detail;  // kNoData / kError: why, one line

  static SourceReading Value(double v) { return {Kind::kValue, v, ""}; }
  static SourceReading NoData(std::string why) { return {Kind::kNoData, 0, std::move(why)}; }
  static SourceReading Error(std::string why) { return {Kind::kError, 0, std::move(why)}; }
};

// Where guards get their numbers. Every call returns within about the source's timeout and never
// throws. Read() is called from one sampling thread at a time; Start() before the first Read(),
// Stop() after the last (both from the monitor's controlling thread).
class MetricSource {
 public:
  virtual ~MetricSource() = default;
  // Prepares readings that need history or a loop (a scrape's first sample for rates, the probe
  // loop of probe_stats) and measures what the source compares against (affected_fraction's
  // count of targets). Idempotent; a failure names what failed.
  virtual Status Start() { return Status::Ok(); }
  virtual SourceReading Read() = 0;
  // Ends background work (joins threads). Idempotent.
  virtual void Stop() {}
};

// What the real sources need from the world.
struct SourceEnv {
  Clock& clock;
  ProcessTable& processes;
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

// Builds a source for a guard; MakeMetricSource is the real one, tests inject fakes.
using MetricSourceFactory =
    std::function<Result<std::unique_ptr<MetricSource>>(const GuardSpec& guard)>;

// A GuardMonitor whose sources come from `factory` (MakeGuardMonitor passes MakeMetricSource).
// `reads_stop` (optional) is requested when the monitor stops, before it joins its threads, so
// that readings in flight end at once (pass the same one in the sources' SourceEnv).
std::unique_ptr<GuardMonitor> MakeGuardMonitorWithSources(
    const std::vector<GuardSpec>& guards, Clock& clock, MetricSourceFactory factory,
    std::shared_ptr<StopSource> reads_stop = nullptr);

// ---- Pieces of the sources, exposed for their unit tests --------------------------------------

// Percent-encodes `text` for a URL query value (RFC 3986 unreserved characters stay).
std::string UrlQueryEscape(const std::string& text);

// Reads the body of a Prometheus /api/v1/query answer: a scalar, or a vector of one series.
//   no data "query returned no series" | "query returned NaN"
//   error   "malformed response: <why>" | "prometheus: <errorType>: <error>" |
//           "query returned 3 series; a guard needs one (aggregate with sum, max, …)" |
//           "query returned a matrix; a guard needs a scalar or a vector"
SourceReading ReadPromqlResponse(int http_status, const std::string& body);

// The q-quantile of a histogram from (upper bound, cumulative count) buckets sorted by bound,
// the last one +Inf, as PromQL's histogram_quantile computes it (linear interpolation within the
// bucket, the lower bound of the first bucket is 0; a rank in the +Inf bucket gives the highest
// finite bound). nullopt when there are no observations or no buckets.
std::optional<double> HistogramQuantile(double q,
                                        const std::vector<std::pair<double, double>>& buckets);

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
