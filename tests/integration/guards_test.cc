// Guards against real servers: the demo service, Prometheus and the Pushgateway, at the
// GuardMonitor level (the CLI-level tests drive `ringfence run`).
#include <signal.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/base/process_table.h"
#include "core/observe/guards.h"
#include "core/observe/metric_text.h"
#include "core/observe/probe.h"
#include "core/sys/http_client.h"
#include "core/sys/system_clock.h"
#include "core/sys/system_env.h"
#include "core/sys/system_process_table.h"
#include "demo/demo_fleet.h"
#include "runner/metrics/runner_metrics.h"
#include "tests/support/prometheus_server.h"

namespace ringfence {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::PrometheusServer;
using testing::PushgatewayServer;

std::string Url(int port, const std::string& path) {
  return "http://127.0.0.1:" + std::to_string(port) + path;
}

void Admin(int port, const std::string& path_and_query) {
  Result<HttpResponse> r = HttpPost(Url(port, path_and_query), "", seconds(2));
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->status, 200) << r->body;
}

// Polls `condition` every 10 ms for at most `limit`.
template <typename Condition>
bool Eventually(Condition condition, milliseconds limit = seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return condition();
}

// GET requests to one URL in a loop on a thread of its own, until destroyed (light load, so
// that the demo service's latency histogram has observations).
class Traffic {
 public:
  explicit Traffic(std::string url)
      : thread_([this, url = std::move(url)] {
          while (!stop_) {
            Result<HttpResponse> ignored = HttpGet(url, seconds(2));
            (void)ignored;
            std::this_thread::sleep_for(milliseconds(10));
          }
        }) {}
  ~Traffic() {
    stop_ = true;
    thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class GuardsTest : public ::testing::Test {
 protected:
  void StartFleet(int size) {
    DemoFleetOptions o;
    o.size = size;
    o.service_binary = RINGFENCE_DEMO_SERVICE_BINARY;
    o.restart_delay = milliseconds(300);
    fleet_ = std::make_unique<DemoFleet>(o);
    Status s = fleet_->Start();
    ASSERT_TRUE(s.ok()) << s.message();
  }
  int Port(size_t i) const { return fleet_->ports().at(i); }

  GuardSpec Guard(const std::string& name, json source, milliseconds interval) {
    GuardSpec g;
    g.name = name;
    g.pointer = "/guards/0";
    g.source = std::move(source);
    g.interval = interval;
    return g;
  }

  std::unique_ptr<GuardMonitor> Monitor(const std::vector<GuardSpec>& guards) {
    return MakeGuardMonitor(guards, {system_, *probes_, experiment_});
  }

  void Start(GuardMonitor& monitor) {
    monitor.Start(
        [this](const GuardBreach& b) {
          std::lock_guard<std::mutex> lock(mu_);
          breaches_.push_back(b);
        },
        [this](const std::string&, const GuardSample& s) {
          std::lock_guard<std::mutex> lock(mu_);
          samples_.push_back(s);
        });
  }
  size_t Breaches() {
    std::lock_guard<std::mutex> lock(mu_);
    return breaches_.size();
  }
  GuardBreach FirstBreach() {
    std::lock_guard<std::mutex> lock(mu_);
    return breaches_.at(0);
  }
  // Samples with this verdict so far.
  size_t Count(GuardSample::Verdict verdict) {
    std::lock_guard<std::mutex> lock(mu_);
    size_t n = 0;
    for (const auto& s : samples_) n += s.verdict == verdict ? 1 : 0;
    return n;
  }
  size_t Samples() {
    std::lock_guard<std::mutex> lock(mu_);
    return samples_.size();
  }

  std::unique_ptr<ProcessTable> processes_ = MakeSystemProcessTable();
  SystemEnv system_{*processes_};
  std::unique_ptr<ProbeRunner> probes_ = MakeProbeRunner(system_);
  Experiment experiment_;
  std::unique_ptr<DemoFleet> fleet_;
  std::mutex mu_;
  std::vector<GuardBreach> breaches_;
  std::vector<GuardSample> samples_;
};

TEST_F(GuardsTest, PromqlGuardBreachesWhenTheFleetTurnsUnhealthy) {
  StartFleet(2);
  Result<std::unique_ptr<PrometheusServer>> prometheus = PrometheusServer::Start(
      {"127.0.0.1:" + std::to_string(Port(0)), "127.0.0.1:" + std::to_string(Port(1))});
  ASSERT_TRUE(prometheus.ok()) << prometheus.status().message();
  const std::string query = "min(demo_healthy{job=\"demo\"})";
  ASSERT_TRUE((*prometheus)->WaitForData(query)) << (*prometheus)->Log();

  GuardSpec g =
      Guard("fleet-healthy", {{"type", "promql"}, {"url", (*prometheus)->url()}, {"query", query}},
            milliseconds(250));
  g.min = 1;
  auto monitor = Monitor({g});
  ASSERT_TRUE(monitor->CheckSources().ok());
  ASSERT_TRUE(monitor->CaptureBaseline().ok());
  Start(*monitor);
  ASSERT_TRUE(Eventually([&] { return Count(GuardSample::Verdict::kOk) >= 2; }));
  EXPECT_EQ(Breaches(), 0u);

  Admin(Port(1), "/admin/health?state=down");
  ASSERT_TRUE(Eventually([&] { return Breaches() > 0; }));
  monitor->Stop();
  const GuardBreach b = FirstBreach();
  EXPECT_EQ(b.guard, "fleet-healthy");
  EXPECT_EQ(b.reason, "value 0 < 1");
  EXPECT_EQ(b.threshold, ">= 1");
  EXPECT_EQ(Breaches(), 1u);
}

TEST_F(GuardsTest, PromqlQueryWithoutSeriesIsNoDataAndSeveralSeriesAnError) {
  StartFleet(2);
  Result<std::unique_ptr<PrometheusServer>> prometheus = PrometheusServer::Start(
      {"127.0.0.1:" + std::to_string(Port(0)), "127.0.0.1:" + std::to_string(Port(1))});
  ASSERT_TRUE(prometheus.ok()) << prometheus.status().message();
  ASSERT_TRUE((*prometheus)->WaitForData("count(demo_healthy) == 2")) << (*prometheus)->Log();

  GuardSpec none = Guard("none",
                         {{"type", "promql"},
                          {"url", (*prometheus)->url()},
                          {"query", "demo_healthy{job=\"nothing\"}"}},
                         milliseconds(100));
  none.max = 1;
  GuardSpec several = Guard(
      "several", {{"type", "promql"}, {"url", (*prometheus)->url()}, {"query", "demo_healthy"}},
      milliseconds(100));
  several.max = 1;
  auto both = Monitor({none, several});
  Status s = both->CheckSources();  // no data is not an error; several series are
  EXPECT_EQ(s.message(),
            "guard \"several\": query returned 2 series; a guard needs one "
            "(aggregate with sum, max, …)");
  // Each on a monitor of its own: the first breach ends a monitor's sampling, so together the
  // second guard might never be sampled.
  for (const GuardSpec& spec : {none, several}) {
    auto monitor = Monitor({spec});
    const size_t before = Breaches();
    Start(*monitor);
    ASSERT_TRUE(Eventually([&] { return Breaches() > before; })) << spec.name;
    monitor->Stop();
    json guards = monitor->ToJson();
    if (spec.name == "none") {
      EXPECT_EQ(guards[0]["samples"][0]["verdict"], "no_data");
      EXPECT_EQ(guards[0]["samples"][0]["detail"], "query returned no series");
    } else {
      EXPECT_EQ(guards[0]["samples"][0]["verdict"], "error");
    }
  }
}

TEST_F(GuardsTest, ScrapeGuardOnAHistogramQuantileOfTheDemoService) {
  StartFleet(1);
  Traffic traffic(Url(Port(0), "/health"));
  GuardSpec g = Guard("health-p99",
                      {{"type", "scrape"},
                       {"url", Url(Port(0), "/metrics")},
                       {"metric", "demo_request_duration_seconds"},
                       {"labels", {{"path", "/health"}}},
                       {"stat", "quantile"},
                       {"quantile", 0.99},
                       {"window", "2s"}},
                      milliseconds(100));
  g.max = 0.1;
  g.min_samples = 2;
  g.for_samples = 3;  // a slow request or two on a busy machine is not the injected latency
  auto monitor = Monitor({g});
  ASSERT_TRUE(monitor->CaptureBaseline().ok());
  Start(*monitor);
  ASSERT_TRUE(Eventually([&] { return Count(GuardSample::Verdict::kOk) >= 3; }));
  ASSERT_EQ(Breaches(), 0u);

  const WallTime slow_from = std::chrono::system_clock::now();
  Admin(Port(0), "/admin/latency?ms=300");
  ASSERT_TRUE(Eventually([&] { return Breaches() > 0; }));
  monitor->Stop();
  const GuardBreach b = FirstBreach();
  ASSERT_TRUE(b.value.has_value());
  EXPECT_GT(*b.value, 0.1);
  EXPECT_LE(*b.value, 0.5);  // the (0.25, 0.5] bucket holds the slow requests
  EXPECT_GE(b.sampled_at, slow_from);
  EXPECT_EQ(b.threshold, "<= 0.1");
}

TEST_F(GuardsTest, BaselineRelativeGuardOnProbeLatency) {
  StartFleet(1);
  json probe = {{"type", "http"}, {"url", Url(Port(0), "/health")}};
  GuardSpec g = Guard(
      "health-p50",
      {{"type", "probe_stats"}, {"probe", probe}, {"rate", 20}, {"window", "1s"}, {"stat", "p50"}},
      milliseconds(100));
  g.max_vs_baseline = 20;
  auto monitor = Monitor({g});
  Status s = monitor->CaptureBaseline();
  ASSERT_TRUE(s.ok()) << s.message();
  const json before = monitor->ToJson()[0];
  ASSERT_TRUE(before["baseline"].is_number());
  const double baseline = before["baseline"];
  EXPECT_GT(baseline, 0);
  EXPECT_LT(baseline, 10);  // ms: a loopback /health
  Start(*monitor);
  ASSERT_TRUE(Eventually([&] { return Count(GuardSample::Verdict::kOk) >= 2; }));

  Admin(Port(0), "/admin/latency?ms=250");
  ASSERT_TRUE(Eventually([&] { return Breaches() > 0; }));
  monitor->Stop();
  const GuardBreach b = FirstBreach();
  ASSERT_TRUE(b.value.has_value());
  EXPECT_GT(*b.value, 20 * baseline);
  EXPECT_EQ(b.threshold.rfind("<= 20 × baseline (", 0), 0u) << b.threshold;
}

TEST_F(GuardsTest, ForThreeIgnoresASingleSpikeButNotASustainedFailure) {
  StartFleet(1);
  GuardSpec g =
      Guard("healthy",
            {{"type", "scrape"}, {"url", Url(Port(0), "/metrics")}, {"metric", "demo_healthy"}},
            milliseconds(500));
  g.min = 1;
  g.for_samples = 3;
  auto monitor = Monitor({g});
  Start(*monitor);
  ASSERT_TRUE(Eventually([&] { return Count(GuardSample::Verdict::kOk) >= 1; }));

  // A spike: unhealthy until one sample saw it (the next is 500 ms away), then healthy again.
  Admin(Port(0), "/admin/health?state=down");
  ASSERT_TRUE(Eventually([&] { return Count(GuardSample::Verdict::kBreach) >= 1; }));
  Admin(Port(0), "/admin/health?state=up");
  const size_t seen = Samples();
  ASSERT_TRUE(Eventually([&] { return Samples() >= seen + 3; }));
  EXPECT_EQ(Breaches(), 0u);

  // A failure that lasts: the third breaching sample in a row aborts.
  Admin(Port(0), "/admin/health?state=down");
  ASSERT_TRUE(Eventually([&] { return Breaches() > 0; }));
  monitor->Stop();
  EXPECT_EQ(FirstBreach().reason, "value 0 < 1 (3 samples in a row)");
}

TEST_F(GuardsTest, TheMetricsSourceGoingAwayFailsClosed) {
  StartFleet(1);
  const int port = Port(0);
  GuardSpec g = Guard(
      "healthy", {{"type", "scrape"}, {"url", Url(port, "/metrics")}, {"metric", "demo_healthy"}},
      milliseconds(100));
  g.min = 1;
  auto monitor = Monitor({g});
  Start(*monitor);
  ASSERT_TRUE(Eventually([&] { return Count(GuardSample::Verdict::kOk) >= 2; }));
  EXPECT_EQ(Breaches(), 0u);
  fleet_->Stop();  // no restart after Stop: the endpoint is gone
  ASSERT_TRUE(Eventually([&] { return Breaches() > 0; }));
  monitor->Stop();
  const std::string endpoint = Url(port, "/metrics");
  EXPECT_EQ(FirstBreach().reason, "error: GET " + endpoint + ": connect to 127.0.0.1:" +
                                      std::to_string(port) + " failed: Connection refused");
  EXPECT_FALSE(FirstBreach().value.has_value());
}

TEST_F(GuardsTest, AffectedFractionOfTheFleetWhenInstancesAreKilled) {
  StartFleet(5);
  TargetSpec fleet;
  fleet.name = "fleet";
  fleet.pointer = "/targets/fleet";
  fleet.process.cmdline =
      "ringfence-demo-service --port [0-9]+ --fleet-id " + fleet_->fleet_id() + "( |$)";
  experiment_.targets.push_back(fleet);
  GuardSpec g =
      Guard("blast-radius", {{"type", "affected_fraction"}, {"target", "fleet"}}, milliseconds(50));
  g.max = 0.2;
  auto monitor = Monitor({g});
  ASSERT_TRUE(monitor->CaptureBaseline().ok());
  Start(*monitor);
  ASSERT_TRUE(Eventually([&] { return Count(GuardSample::Verdict::kOk) >= 2; }));

  Result<std::vector<ProcessInfo>> all = processes_->List();
  ASSERT_TRUE(all.ok());
  int killed = 0;
  for (const auto& p : *all) {
    if (killed < 3 && p.cmdline.find("--fleet-id " + fleet_->fleet_id()) != std::string::npos) {
      ASSERT_TRUE(processes_->Signal(p.pid, p.start_ticks, SIGKILL).ok());
      ++killed;
    }
  }
  ASSERT_EQ(killed, 3);
  ASSERT_TRUE(Eventually([&] { return Breaches() > 0; }));
  monitor->Stop();
  const GuardBreach b = FirstBreach();
  ASSERT_TRUE(b.value.has_value());
  EXPECT_GT(*b.value, 0.2);
  EXPECT_EQ(b.reason, "value " + fmt::format("{}", *b.value) + " > 0.2");
}

TEST_F(GuardsTest, PushgatewayReceivesTheResult) {
  Result<std::unique_ptr<PushgatewayServer>> gateway = PushgatewayServer::Start();
  ASSERT_TRUE(gateway.ok()) << gateway.status().message();
  const std::string title = "Demo game day: lose 3/5 \"instances\"";
  Status s = PushResult(system_, (*gateway)->url() + "/", title, "aborted", 3.25, 1);
  ASSERT_TRUE(s.ok()) << s.message();

  Result<MetricExposition> page = ParseMetricText((*gateway)->Metrics());
  ASSERT_TRUE(page.ok()) << page.status().message();
  std::map<std::string, MetricSample> ours;
  for (const auto& sample : page->samples) {
    if (sample.name.rfind("ringfence_", 0) == 0) ours[sample.name] = sample;
  }
  ASSERT_EQ(ours.size(), 5u) << (*gateway)->Metrics();
  const MetricSample& status = ours["ringfence_last_run_status"];
  EXPECT_EQ(status.labels.at("job"), "ringfence");
  EXPECT_EQ(status.labels.at("title"), title);
  EXPECT_EQ(status.labels.at("status"), "aborted");
  EXPECT_EQ(status.value, 1);
  EXPECT_EQ(ours["ringfence_last_run_success"].value, 0);
  EXPECT_EQ(ours["ringfence_last_run_duration_seconds"].value, 3.25);
  EXPECT_EQ(ours["ringfence_last_run_guard_breaches"].value, 1);
  EXPECT_EQ(ours["ringfence_last_run_duration_seconds"].labels.at("title"), title);

  // A later run of the same experiment replaces the result.
  ASSERT_TRUE(PushResult(system_, (*gateway)->url(), title, "passed", 9, 0).ok());
  page = ParseMetricText((*gateway)->Metrics());
  ASSERT_TRUE(page.ok());
  int statuses = 0;
  for (const auto& sample : page->samples) {
    if (sample.name == "ringfence_last_run_status") {
      ++statuses;
      EXPECT_EQ(sample.labels.at("status"), "passed");
    }
  }
  EXPECT_EQ(statuses, 1);

  (*gateway)->Stop();
  s = PushResult(system_, (*gateway)->url(), title, "passed", 1, 0);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "push to " + (*gateway)->url() + ": connect to 127.0.0.1:" +
                             std::to_string((*gateway)->port()) + " failed: Connection refused");
  EXPECT_EQ(PushResult(system_, "127.0.0.1:9091", title, "passed", 1, 0).message(),
            "--pushgateway: \"127.0.0.1:9091\": a URL starting with http:// or https://");
}

TEST_F(GuardsTest, RunnerMetricsAreServedOnTheListenAddress) {
  RunnerMetrics metrics;
  Status s = metrics.Listen("127.0.0.1:0");
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_GT(metrics.port(), 0);
  metrics.ExperimentStarted();
  metrics.FaultActive("kill-one", "fleet", true);
  GuardSample sample;
  sample.value = 0.4;
  metrics.GuardSampled("blast-radius", sample);
  metrics.GuardBreached("blast-radius");
  metrics.RevertDuration(0.003);

  Result<HttpResponse> r = HttpGet(Url(metrics.port(), "/metrics"), seconds(2));
  ASSERT_TRUE(r.ok()) << r.status().message();
  Result<MetricExposition> page = ParseMetricText(r->body);
  ASSERT_TRUE(page.ok()) << page.status().message();
  auto value = [&](const std::string& name, const std::map<std::string, std::string>& labels) {
    for (const auto& s : page->samples) {
      if (s.name == name && s.labels == labels) return s.value;
    }
    return -1.0;
  };
  EXPECT_EQ(value("ringfence_experiment_running", {}), 1);
  EXPECT_EQ(value("ringfence_fault_active", {{"fault", "kill-one"}, {"target", "fleet"}}), 1);
  EXPECT_EQ(value("ringfence_guard_value", {{"guard", "blast-radius"}}), 0.4);
  EXPECT_EQ(value("ringfence_guard_breaches_total", {{"guard", "blast-radius"}}), 1);
  EXPECT_EQ(value("ringfence_revert_duration_seconds_count", {}), 1);
  EXPECT_EQ(value("ringfence_revert_duration_seconds_bucket", {{"le", "0.005"}}), 1);
  EXPECT_EQ(page->TypeOf("ringfence_revert_duration_seconds"), "histogram");

  // A second listener on the same port is refused.
  RunnerMetrics other;
  s = other.Listen("127.0.0.1:" + std::to_string(metrics.port()));
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(
      s.message().rfind("cannot listen on 127.0.0.1:" + std::to_string(metrics.port()) + ": ", 0),
      0u)
      << s.message();
  EXPECT_EQ(other.Listen("localhost").message(),
            "--metrics-listen: \"localhost\": an address such as 127.0.0.1:9464");
}

}  // namespace
}  // namespace ringfence
