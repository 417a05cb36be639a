#include "runner/metrics/runner_metrics.h"

#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <stdexcept>

#include <fmt/format.h>
#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace ringfence {

namespace {

const prometheus::Histogram::BucketBoundaries kRevertBuckets = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};

std::string Base64Url(const std::string& in) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned n = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (i + 1 == in.size()) {
    const unsigned n = static_cast<unsigned char>(in[i]) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const unsigned n =
        (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += '=';
  }
  return out.empty() ? "=" : out;  // the Pushgateway's spelling of an empty value
}

std::string LabelValue(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

struct RunnerMetrics::Families {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Gauge& running = prometheus::BuildGauge()
                                   .Name("ringfence_experiment_running")
                                   .Help("1 while an experiment runs")
                                   .Register(*registry)
                                   .Add({});
  prometheus::Family<prometheus::Gauge>& fault_active =
      prometheus::BuildGauge()
          .Name("ringfence_fault_active")
          .Help("1 while the fault is injected on the target")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& guard_value =
      prometheus::BuildGauge()
          .Name("ringfence_guard_value")
          .Help("The last value a guard sampled (NaN when it had none)")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& guard_breaches =
      prometheus::BuildCounter()
          .Name("ringfence_guard_breaches_total")
          .Help("Guard breaches that aborted an experiment")
          .Register(*registry);
  prometheus::Histogram& revert_duration = prometheus::BuildHistogram()
                                               .Name("ringfence_revert_duration_seconds")
                                               .Help("Time to revert a fault")
                                               .Register(*registry)
                                               .Add({}, kRevertBuckets);
  prometheus::Family<prometheus::Counter>& experiments =
      prometheus::BuildCounter()
          .Name("ringfence_experiments_total")
          .Help("Experiments finished, by final status")
          .Register(*registry);
  std::mutex exposer_mu;
  std::unique_ptr<prometheus::Exposer> exposer;
  int port = 0;
};

bool IsListenAddress(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  const std::string host = address.substr(0, colon);
  const std::string port = address.substr(colon + 1);
  if (port.empty() || port.size() > 5) return false;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
  }
  if (std::stoi(port) > 65535) return false;
  const auto all_of = [](const std::string& s, const char* extra, bool hex_only) {
    if (s.empty()) return false;
    for (char c : s) {
      const bool digit = c >= '0' && c <= '9';
      const bool hex = (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
      const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
      const bool ok = digit || (hex_only ? hex : alpha) || std::strchr(extra, c) != nullptr;
      if (!ok || c == '\0') return false;
    }
    return true;
  };
  if (host.front() == '[') {
    return host.size() > 2 && host.back() == ']' &&
           all_of(host.substr(1, host.size() - 2), ":", true);
  }
  return all_of(host, ".-", false);
}

RunnerMetrics::RunnerMetrics() : families_(std::make_unique<Families>()) {}
RunnerMetrics::~RunnerMetrics() = default;

Status RunnerMetrics::Listen(const std::string& address) {
  if (!IsListenAddress(address)) {
    return Status::InvalidInput("--metrics-listen: \"" + address +
                                "\": an address such as 127.0.0.1:9464");
  }
  std::lock_guard<std::mutex> lock(families_->exposer_mu);
  if (families_->exposer) {
    return Status::InvalidInput("already listening on port " + std::to_string(families_->port));
  }
  try {
    auto exposer = std::make_unique<prometheus::Exposer>(address, 1);
    exposer->RegisterCollectable(families_->registry);
    const std::vector<int> ports = exposer->GetListeningPorts();
    families_->port = ports.empty() ? 0 : ports.front();
    families_->exposer = std::move(exposer);
  } catch (const std::exception& e) {  // civetweb cannot bind: std::runtime_error
    return Status::Unavailable("cannot listen on " + address + ": " + e.what());
  }
  return Status::Ok();
}

int RunnerMetrics::port() const {
  std::lock_guard<std::mutex> lock(families_->exposer_mu);
  return families_->port;
}

void RunnerMetrics::ExperimentStarted() { families_->running.Set(1); }

void RunnerMetrics::FaultActive(const std::string& fault, const std::string& target, bool active) {
  families_->fault_active.Add({{"fault", fault}, {"target", target}}).Set(active ? 1 : 0);
}

void RunnerMetrics::GuardSampled(const std::string& guard, const GuardSample& sample) {
  families_->guard_value.Add({{"guard", guard}})
      .Set(sample.value ? *sample.value : std::numeric_limits<double>::quiet_NaN());
}

void RunnerMetrics::GuardBreached(const std::string& guard) {
  families_->guard_breaches.Add({{"guard", guard}}).Increment();
}

void RunnerMetrics::RevertDuration(double seconds) { families_->revert_duration.Observe(seconds); }

void RunnerMetrics::ExperimentFinished(const std::string& status) {
  families_->running.Set(0);
  families_->experiments.Add({{"status", status}}).Increment();
}

std::string RunnerMetrics::Serialize() const {
  return prometheus::TextSerializer().Serialize(families_->registry->Collect());
}

std::shared_ptr<prometheus::Registry> RunnerMetrics::registry() const {
  return families_->registry;
}

std::string PushgatewayPath(const std::string& title) {
  return "/metrics/job/ringfence/title@base64/" + Base64Url(title);
}

Status PushResult(Env& system, const std::string& url, const std::string& title,
                  const std::string& status, double duration_seconds, int breaches) {
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    return Status::InvalidInput("--pushgateway: \"" + url +
                                "\": a URL starting with http:// or https://");
  }
  std::string base = url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  const double now = std::chrono::duration<double>(system.clock().Now().time_since_epoch()).count();
  std::string body;
  body += "# TYPE ringfence_last_run_status gauge\n";
  body += "ringfence_last_run_status{status=\"" + LabelValue(status) + "\"} 1\n";
  body += "# TYPE ringfence_last_run_success gauge\n";
  body += fmt::format("ringfence_last_run_success {}\n", status == "passed" ? 1 : 0);
  body += "# TYPE ringfence_last_run_duration_seconds gauge\n";
  body += fmt::format("ringfence_last_run_duration_seconds {}\n", duration_seconds);
  body += "# TYPE ringfence_last_run_guard_breaches gauge\n";
  body += fmt::format("ringfence_last_run_guard_breaches {}\n", breaches);
  body += "# TYPE ringfence_last_run_timestamp_seconds gauge\n";
  body += fmt::format("ringfence_last_run_timestamp_seconds {:.3f}\n", now);
  const std::string target = base + PushgatewayPath(title);
  HttpRequest request;
  request.method = "POST";
  request.url = target;
  request.body = std::move(body);
  request.content_type = "text/plain; version=0.0.4";
  request.timeout = std::chrono::seconds(5);
  Result<HttpResponse> response = system.Fetch(request);
  if (!response.ok())
    return Status::Unavailable("push to " + url + ": " + response.status().message());
  if (response->status / 100 != 2) {
    std::string answer = response->body.substr(0, 200);
    while (!answer.empty() && (answer.back() == '\n' || answer.back() == '\r')) answer.pop_back();
    return Status::Unavailable("push to " + url + ": HTTP " + std::to_string(response->status) +
                               ": " + answer);
  }
  return Status::Ok();
}

}  // namespace ringfence
