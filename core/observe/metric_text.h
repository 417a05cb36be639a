#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/duration.h"
#include "core/base/status.h"
#include "core/observe/metric_source.h"

namespace ringfence {

// One sample line of the Prometheus text exposition format (version 0.0.4).
struct MetricSample {
  std::string name;  // the sample's own name, e.g. "http_request_duration_seconds_bucket"
  std::map<std::string, std::string> labels;  // escapes resolved
  double value = 0;
};

struct MetricExposition {
  std::map<std::string, std::string> types;  // family name → counter, gauge, histogram, ...
  std::vector<MetricSample> samples;         // in text order

  // The declared type of the family `sample_name` belongs to (the name itself, or the name
  // without _bucket, _sum, _count, _total or _created), or "" when no TYPE line names it.
  std::string TypeOf(const std::string& sample_name) const;
};

// Parses the text format: # TYPE and # HELP lines, other comments, blank lines, samples with
// labels (escapes \\, \" and \n), values (NaN, +Inf, -Inf) and an optional timestamp (ignored).
// kInvalidInput "line <n>: <what>" at the first line that is not the format.
Result<MetricExposition> ParseMetricText(std::string_view text);

// What a scrape source computes from successive scrapes of one endpoint.
struct ScrapeQuery {
  std::string metric;
  std::map<std::string, std::string> labels;  // every one must be equal; others are free
  enum class Stat { kValue, kRate, kQuantile } stat = Stat::kValue;
  double quantile = 0.99;                      // kQuantile
  Duration window = std::chrono::seconds(10);  // kRate, kQuantile
};

// The scraper's own history of one metric: every scrape is added with the time it was taken;
// the reading is computed over the window. Series matching the labels are summed.
//   value:    the sum of the samples named `metric` in the newest scrape
//   rate:     the increase per second of that sum from the oldest scrape in the window (or, when
//             there is none but the newest, the one before it) to the newest; a sum that falls is
//             a counter reset (the new sum counts as the increase)
//   quantile: histogram_quantile over the increase of the `metric`_bucket counts (by `le`)
//             between the same two scrapes (after a reset, the newest counts alone)
// Not thread-safe.
class ScrapeWindow {
 public:
  explicit ScrapeWindow(ScrapeQuery query) : query_(std::move(query)) {}
  void Add(std::chrono::steady_clock::time_point at, const MetricExposition& exposition);
  SourceReading Current() const;

 private:
  struct Point {
    std::chrono::steady_clock::time_point at;
    std::optional<double> sum;         // value and rate
    std::map<double, double> buckets;  // quantile: le → cumulative count
    std::string type_error;            // the metric's TYPE does not fit the stat
  };
  std::optional<size_t> Base() const;  // index of the scrape the window starts from

  ScrapeQuery query_;
  std::deque<Point> points_;
};

// The q-quantile of a histogram from (upper bound, cumulative count) buckets sorted by bound,
// the last one +Inf, as PromQL's histogram_quantile computes it (linear interpolation within the
// bucket, the lower bound of the first bucket is 0; a rank in the +Inf bucket gives the highest
// finite bound). nullopt when there are no observations or no buckets.
std::optional<double> HistogramQuantile(double q,
                                        const std::vector<std::pair<double, double>>& buckets);

}  // namespace ringfence
