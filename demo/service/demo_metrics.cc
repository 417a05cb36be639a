#include "demo/service/demo_metrics.h"

#include <array>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace ringfence::demo {
namespace {

// Label values are limited to the known paths so that a client cannot grow the series.
constexpr std::array<const char*, 5> kKnownPaths = {"/health", "/work", "/metrics", "/admin/health",
                                                    "/admin/latency"};

std::string PathLabel(const std::string& path) {
  for (const char* known : kKnownPaths)
    if (path == known) return path;
  return "other";
}

const prometheus::Histogram::BucketBoundaries kDurationBuckets = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5};

}  // namespace

struct DemoMetrics::Families {
  prometheus::Registry registry;
  prometheus::Family<prometheus::Counter>& requests = prometheus::BuildCounter()
                                                          .Name("demo_requests_total")
                                                          .Help("HTTP requests answered, by path")
                                                          .Register(registry);
  prometheus::Family<prometheus::Counter>& errors =
      prometheus::BuildCounter()
          .Name("demo_errors_total")
          .Help("HTTP requests answered with a 5xx status, by path")
          .Register(registry);
  prometheus::Family<prometheus::Histogram>& durations =
      prometheus::BuildHistogram()
          .Name("demo_request_duration_seconds")
          .Help("Time from a request read to its response ready, by path")
          .Register(registry);
  prometheus::Gauge& content_records = prometheus::BuildGauge()
                                           .Name("demo_content_records")
                                           .Help("Records in the content now served")
                                           .Register(registry)
                                           .Add({});
  prometheus::Gauge& healthy = prometheus::BuildGauge()
                                   .Name("demo_healthy")
                                   .Help("1 when /health answers 200, else 0")
                                   .Register(registry)
                                   .Add({});
  prometheus::Counter& content_loads = prometheus::BuildCounter()
                                           .Name("demo_content_loads_total")
                                           .Help("Content files loaded successfully")
                                           .Register(registry)
                                           .Add({});
  prometheus::Counter& content_rejects =
      prometheus::BuildCounter()
          .Name("demo_content_rejects_total")
          .Help("Content files rejected (a record with too few fields); the previous content stays")
          .Register(registry)
          .Add({});
  prometheus::Family<prometheus::Counter>& dependency_calls =
      prometheus::BuildCounter()
          .Name("demo_dependency_calls_total")
          .Help("Calls of /work to its dependencies, by dependency and result (ok, error, timeout)")
          .Register(registry);
  prometheus::Family<prometheus::Counter>& fallbacks =
      prometheus::BuildCounter()
          .Name("demo_dependency_fallbacks_total")
          .Help("Failed calls to a soft or timeout dependency that /work fell back from")
          .Register(registry);
};

DemoMetrics::DemoMetrics() : families_(std::make_unique<Families>()) {
  families_->healthy.Set(1);
  for (const char* path : kKnownPaths) {  // every series exists from the start, at zero
    families_->requests.Add({{"path", path}});
    families_->errors.Add({{"path", path}});
    families_->durations.Add({{"path", path}}, kDurationBuckets);
  }
}

DemoMetrics::~DemoMetrics() = default;

void DemoMetrics::CountRequest(const std::string& path, int status, double seconds) {
  const std::string label = PathLabel(path);
  families_->requests.Add({{"path", label}}).Increment();
  if (status >= 500) families_->errors.Add({{"path", label}}).Increment();
  families_->durations.Add({{"path", label}}, kDurationBuckets).Observe(seconds);
}

void DemoMetrics::SetContentRecords(size_t records) {
  families_->content_records.Set(static_cast<double>(records));
}

void DemoMetrics::SetHealthy(bool healthy) { families_->healthy.Set(healthy ? 1 : 0); }

void DemoMetrics::CountContentLoad() { families_->content_loads.Increment(); }

void DemoMetrics::CountContentReject() { families_->content_rejects.Increment(); }

void DemoMetrics::AddDependency(const std::string& name) {
  for (const char* result : {"ok", "error", "timeout"}) {
    families_->dependency_calls.Add({{"dependency", name}, {"result", result}});
  }
  families_->fallbacks.Add({{"dependency", name}});
}

void DemoMetrics::CountDependencyCall(const std::string& name, const std::string& result) {
  families_->dependency_calls.Add({{"dependency", name}, {"result", result}}).Increment();
}

void DemoMetrics::CountFallback(const std::string& name) {
  families_->fallbacks.Add({{"dependency", name}}).Increment();
}

std::string DemoMetrics::Serialize() const {
  return prometheus::TextSerializer().Serialize(families_->registry.Collect());
}

}  // namespace ringfence::demo
