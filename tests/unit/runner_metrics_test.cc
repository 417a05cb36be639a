#include "runner/metrics/runner_metrics.h"

#include <cmath>

#include <gtest/gtest.h>

#include "core/observe/metric_text.h"

namespace ringfence {
namespace {

double Value(const RunnerMetrics& metrics, const std::string& name,
             const std::map<std::string, std::string>& labels) {
  Result<MetricExposition> page = ParseMetricText(metrics.Serialize());
  EXPECT_TRUE(page.ok()) << page.status().message();
  if (!page.ok()) return -1;
  for (const auto& s : page->samples) {
    if (s.name == name && s.labels == labels) return s.value;
  }
  return -1;
}

TEST(RunnerMetricsTest, ARunFromStartToFinish) {
  RunnerMetrics metrics;
  EXPECT_EQ(metrics.port(), 0);
  EXPECT_EQ(Value(metrics, "ringfence_experiment_running", {}), 0);
  metrics.ExperimentStarted();
  EXPECT_EQ(Value(metrics, "ringfence_experiment_running", {}), 1);
  metrics.FaultActive("kill", "fleet", true);
  metrics.FaultActive("kill", "fleet", false);
  EXPECT_EQ(Value(metrics, "ringfence_fault_active", {{"fault", "kill"}, {"target", "fleet"}}), 0);
  GuardSample none;
  metrics.GuardSampled("g", none);
  EXPECT_TRUE(std::isnan(Value(metrics, "ringfence_guard_value", {{"guard", "g"}})));
  metrics.GuardBreached("g");
  metrics.RevertDuration(0.2);
  metrics.RevertDuration(2);
  EXPECT_EQ(Value(metrics, "ringfence_revert_duration_seconds_count", {}), 2);
  EXPECT_EQ(Value(metrics, "ringfence_revert_duration_seconds_bucket", {{"le", "0.25"}}), 1);
  metrics.ExperimentFinished("aborted");
  metrics.ExperimentFinished("passed");
  metrics.ExperimentFinished("aborted");
  EXPECT_EQ(Value(metrics, "ringfence_experiment_running", {}), 0);
  EXPECT_EQ(Value(metrics, "ringfence_experiments_total", {{"status", "aborted"}}), 2);
  EXPECT_EQ(Value(metrics, "ringfence_experiments_total", {{"status", "passed"}}), 1);
  EXPECT_EQ(Value(metrics, "ringfence_guard_breaches_total", {{"guard", "g"}}), 1);
}

TEST(RunnerMetricsTest, PushgatewayPathEncodesTheTitle) {
  EXPECT_EQ(PushgatewayPath("a/b c"), "/metrics/job/ringfence/title@base64/YS9iIGM=");
  EXPECT_EQ(PushgatewayPath("ab"), "/metrics/job/ringfence/title@base64/YWI=");
  EXPECT_EQ(PushgatewayPath("abc"), "/metrics/job/ringfence/title@base64/YWJj");
  EXPECT_EQ(PushgatewayPath("\xff\xfe?"), "/metrics/job/ringfence/title@base64/__4_");
  EXPECT_EQ(PushgatewayPath(""), "/metrics/job/ringfence/title@base64/=");
}

// The address check, by hand since std::regex left the code (issue 11).
TEST(RunnerMetricsTest, ListenRefusesMalformedAddresses) {
  for (const char* address : {"", "x", ":80", "host:", "host:99999", "host:123456", "[::1:80",
                              "[zz]:80", "a b:80", "[]:80", "host:8a"}) {
    RunnerMetrics metrics;
    Status st = metrics.Listen(address);
    EXPECT_EQ(st.code(), StatusCode::kInvalidInput) << address;
  }
  RunnerMetrics metrics;
  EXPECT_EQ(metrics.Listen("x").message(),
            "--metrics-listen: \"x\": an address such as 127.0.0.1:9464");
  RunnerMetrics local;
  EXPECT_TRUE(local.Listen("127.0.0.1:0").ok());
  RunnerMetrics v6;
  Status st = v6.Listen("[::1]:0");
  EXPECT_NE(st.code(), StatusCode::kInvalidInput) << st.message();
}

}  // namespace
}  // namespace ringfence
