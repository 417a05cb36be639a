#pragma once

#include <cstddef>
#include <memory>
#include <string>

namespace ringfence::demo {

// The service's metrics, declared once here (docs/demo.md lists them). Thread-safe.
class DemoMetrics {
 public:
  DemoMetrics();
  ~DemoMetrics();

  // One answered request: demo_requests_total, demo_errors_total (5xx) and
  // demo_request_duration_seconds, labelled by path (unknown paths as "other").
  void CountRequest(const std::string& path, int status, double seconds);
  void SetContentRecords(size_t records);
  void SetHealthy(bool healthy);
  void CountContentLoad();
  void CountContentReject();  // a content file rejected for a record with too few fields
  // The dependencies of /work (--depends): demo_dependency_calls_total by dependency and result
  // (ok, error, timeout) and demo_dependency_fallbacks_total by dependency. AddDependency makes
  // its series exist at zero; call it before serving.
  void AddDependency(const std::string& name);
  void CountDependencyCall(const std::string& name, const std::string& result);
  void CountFallback(const std::string& name);

  // Prometheus text exposition format (version 0.0.4).
  std::string Serialize() const;

 private:
  struct Families;
  std::unique_ptr<Families> families_;
};

}  // namespace ringfence::demo
