#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/base/status.h"
#include "core/model/experiment.h"

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

// Builds a source for a guard; MakeMetricSource is the real one, tests inject fakes.
using MetricSourceFactory =
    std::function<Result<std::unique_ptr<MetricSource>>(const GuardSpec& guard)>;

}  // namespace ringfence
