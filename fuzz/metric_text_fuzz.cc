// The Prometheus text-format parser (core/observe/metric_text.cc), fed what a scrape guard reads
// from an endpoint, then the scrape window's three statistics over two scrapes of that text
// (histogram quantiles over whatever buckets it holds).

#include <chrono>

#include "core/observe/metric_text.h"
#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ringfence;
  const auto parsed = ParseMetricText(fuzz::AsText(data, size));
  if (!parsed.ok()) return 0;
  if (parsed->samples.empty()) return 0;
  for (const auto& s : parsed->samples) (void)parsed->TypeOf(s.name);

  // Queries on the first sample's family: its own name, and the histogram it would belong to.
  std::string metric = parsed->samples.front().name;
  std::string family = metric;
  if (const size_t at = family.rfind("_bucket");
      at != std::string::npos && at + 7 == family.size()) {
    family.resize(at);
  }
  const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  for (const auto stat :
       {ScrapeQuery::Stat::kValue, ScrapeQuery::Stat::kRate, ScrapeQuery::Stat::kQuantile}) {
    ScrapeQuery query;
    query.metric = stat == ScrapeQuery::Stat::kQuantile ? family : metric;
    query.stat = stat;
    query.labels = parsed->samples.front().labels;
    query.labels.erase("le");
    query.quantile = 0.9;
    ScrapeWindow window(query);
    window.Add(t0, *parsed);
    (void)window.Current();
    window.Add(t0 + std::chrono::seconds(1), *parsed);
    (void)window.Current();
    window.Add(t0 + std::chrono::seconds(30), MetricExposition{});
    (void)window.Current();
  }
  return 0;
}
