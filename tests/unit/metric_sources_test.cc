#include "core/observe/metric_sources.h"

#include <gtest/gtest.h>

#include "core/sys/system_env.h"
#include "tests/support/fake_clock.h"
#include "tests/support/fake_process_table.h"

namespace ringfence {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Kind = SourceReading::Kind;

TEST(PromqlResponseTest, ScalarAndSingleSeriesVector) {
  SourceReading r = ReadPromqlResponse(
      200, R"({"status":"success","data":{"resultType":"scalar","result":[1700000000.1,"0.25"]}})");
  EXPECT_EQ(r.kind, Kind::kValue);
  EXPECT_EQ(r.value, 0.25);
  r = ReadPromqlResponse(200, R"({"status":"success","data":{"resultType":"vector","result":[
      {"metric":{"job":"demo"},"value":[1700000000.1,"3"]}]}})");
  EXPECT_EQ(r.kind, Kind::kValue);
  EXPECT_EQ(r.value, 3);
  r = ReadPromqlResponse(200, R"({"status":"success","data":{"resultType":"vector","result":[
      {"metric":{},"value":[1700000000.1,"+Inf"]}]}})");
  EXPECT_EQ(r.kind, Kind::kValue);
  EXPECT_TRUE(std::isinf(r.value));
}

TEST(PromqlResponseTest, NoSeriesIsNoDataNotZero) {
  SourceReading r =
      ReadPromqlResponse(200, R"({"status":"success","data":{"resultType":"vector","result":[]}})");
  EXPECT_EQ(r.kind, Kind::kNoData);
  EXPECT_EQ(r.detail, "query returned no series");
  r = ReadPromqlResponse(
      200, R"({"status":"success","data":{"resultType":"scalar","result":[1,"NaN"]}})");
  EXPECT_EQ(r.kind, Kind::kNoData);
  EXPECT_EQ(r.detail, "query returned NaN");
}

TEST(PromqlResponseTest, ErrorsWordForWord) {
  auto error = [](int status, const std::string& body) {
    SourceReading r = ReadPromqlResponse(status, body);
    EXPECT_EQ(r.kind, Kind::kError) << body;
    return r.detail;
  };
  EXPECT_EQ(error(200, R"({"status":"success","data":{"resultType":"vector","result":[
      {"metric":{"a":"1"},"value":[1,"1"]},{"metric":{"a":"2"},"value":[1,"2"]}]}})"),
            "query returned 2 series; a guard needs one (aggregate with sum, max, …)");
  EXPECT_EQ(error(400, R"({"status":"error","errorType":"bad_data","error":"parse error"})"),
            "prometheus: bad_data: parse error");
  EXPECT_EQ(error(200, "<html>"), "malformed response: not a JSON object");
  EXPECT_EQ(error(502, "Bad Gateway"), "HTTP 502");
  EXPECT_EQ(error(200, R"({"status":"pending"})"), "malformed response: status is \"pending\"");
  EXPECT_EQ(error(200, R"({"status":"success"})"), "malformed response: no data object");
  EXPECT_EQ(error(200, R"({"status":"success","data":{}})"),
            "malformed response: no resultType or result");
  EXPECT_EQ(error(200, R"({"status":"success","data":{"resultType":"matrix","result":[]}})"),
            "query returned a matrix; a guard needs a scalar or a vector");
  EXPECT_EQ(error(200, R"({"status":"success","data":{"resultType":"scalar","result":[1,"x"]}})"),
            "malformed response: a scalar without a value");
  EXPECT_EQ(error(200, R"({"status":"success","data":{"resultType":"vector","result":[{}]}})"),
            "malformed response: a series without a value");
}

TEST(UrlQueryEscapeTest, EscapesAllButUnreserved) {
  EXPECT_EQ(UrlQueryEscape("sum(rate(x{path=\"/a b\"}[1m])) > 0.5"),
            "sum%28rate%28x%7Bpath%3D%22%2Fa%20b%22%7D%5B1m%5D%29%29%20%3E%200.5");
  EXPECT_EQ(UrlQueryEscape("a-b_c.d~e"), "a-b_c.d~e");
}

TEST(SampleQuantileTest, InterpolatesBetweenOrderStatistics) {
  EXPECT_FALSE(SampleQuantile({}, 0.5).has_value());
  EXPECT_EQ(*SampleQuantile({7}, 0.99), 7);
  EXPECT_EQ(*SampleQuantile({4, 1, 3, 2}, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(*SampleQuantile({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 0.99), 10.9);
  EXPECT_EQ(*SampleQuantile({1, 2}, 0), 1);
  EXPECT_EQ(*SampleQuantile({1, 2}, 1), 2);
}

TEST(ProbeStatsWindowTest, StatsOverTheSlidingWindow) {
  const auto t0 = std::chrono::steady_clock::time_point(seconds(100));
  ProbeStatsWindow ratio(seconds(5), ProbeStatsWindow::Stat::kSuccessRatio);
  EXPECT_EQ(ratio.Current(t0).kind, Kind::kNoData);
  EXPECT_EQ(ratio.Current(t0).detail, "no probe results in the last 5s");
  ratio.Add(t0, false, 10);
  ratio.Add(t0 + seconds(1), true, 10);
  ratio.Add(t0 + seconds(2), true, 10);
  ratio.Add(t0 + seconds(3), true, 10);
  EXPECT_EQ(ratio.Current(t0 + seconds(3)).value, 0.75);
  EXPECT_EQ(ratio.Current(t0 + milliseconds(5500)).value, 1);  // the failure left the window
  EXPECT_EQ(ratio.Current(t0 + seconds(30)).kind, Kind::kNoData);

  ProbeStatsWindow p99(seconds(5), ProbeStatsWindow::Stat::kP99);
  ProbeStatsWindow p50(seconds(5), ProbeStatsWindow::Stat::kP50);
  ProbeStatsWindow mean(seconds(5), ProbeStatsWindow::Stat::kMean);
  for (int i = 1; i <= 11; ++i) {
    for (auto* w : {&p99, &p50, &mean}) w->Add(t0, true, i);
  }
  EXPECT_DOUBLE_EQ(p99.Current(t0).value, 10.9);
  EXPECT_EQ(p50.Current(t0).value, 6);
  EXPECT_EQ(mean.Current(t0).value, 6);
}

// Probes answered from a table: a probe is met when `met[name]` says so.
class TableProbes : public ProbeRunner {
 public:
  ProbeOutcome Run(const ProbeSpec& probe, const Experiment&) override {
    ProbeOutcome out;
    out.name = probe.name;
    std::lock_guard<std::mutex> lock(mu_);
    out.met = met_[probe.name];
    seen_.push_back(probe.name);
    return out;
  }
  void Set(const std::string& name, bool met) {
    std::lock_guard<std::mutex> lock(mu_);
    met_[name] = met;
  }

 private:
  std::mutex mu_;
  std::map<std::string, bool> met_;
  std::vector<std::string> seen_;
};

class SourcesTest : public ::testing::Test {
 protected:
  SourcesTest() {
    TargetSpec fleet;
    fleet.name = "fleet";
    fleet.pointer = "/targets/fleet";
    fleet.process.cmdline = "^demo-service ";
    experiment_.targets.push_back(fleet);
    for (int pid = 100; pid < 105; ++pid) {
      processes_.Add(pid, "demo-service", "demo-service --port " + std::to_string(pid));
    }
    processes_.Add(200, "other", "other");
  }

  GuardSpec Guard(const json& source) {
    GuardSpec g;
    g.name = "g";
    g.pointer = "/guards/0";
    g.source = source;
    return g;
  }

  std::unique_ptr<MetricSource> Make(const json& source) {
    Result<std::unique_ptr<MetricSource>> s =
        MakeMetricSource(Guard(source), {system_, probes_, experiment_});
    EXPECT_TRUE(s.ok()) << s.status().message();
    return s.ok() ? std::move(*s) : nullptr;
  }

  testing::FakeClock clock_;
  testing::FakeProcessTable processes_;
  SystemEnv system_{processes_, clock_};  // real HTTP (to loopback ports that refuse)
  TableProbes probes_;
  Experiment experiment_;
};

TEST_F(SourcesTest, AffectedFractionOfATargetAgainstItsBaselineCount) {
  auto source = Make({{"type", "affected_fraction"}, {"target", "fleet"}});
  EXPECT_EQ(source->Read().kind, Kind::kError);
  EXPECT_EQ(source->Read().detail, "no baseline count of target fleet");
  ASSERT_TRUE(source->Start().ok());
  EXPECT_EQ(source->Read().value, 0);
  processes_.Remove(100);
  EXPECT_EQ(source->Read().value, 0.2);
  processes_.Remove(101);
  processes_.Remove(102);
  EXPECT_DOUBLE_EQ(source->Read().value, 0.6);
  // More than the baseline (restarts before the old ones are gone) is clamped to 0.
  for (int pid = 300; pid < 310; ++pid) processes_.Add(pid, "demo-service", "demo-service x");
  EXPECT_EQ(source->Read().value, 0);
}

TEST_F(SourcesTest, AffectedFractionNeedsAProcessAtTheBaseline) {
  for (int pid = 100; pid < 105; ++pid) processes_.Remove(pid);
  auto source = Make({{"type", "affected_fraction"}, {"target", "fleet"}});
  Status s = source->Start();
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(),
            "target fleet (cmdline \"^demo-service \") matches no process; an "
            "affected fraction needs at least one");
}

TEST_F(SourcesTest, AffectedFractionOfProbes) {
  const json probe = {{"type", "tcp"}, {"port", 1}};
  auto source = Make(
      {{"type", "affected_fraction"},
       {"probes", {probe, probe, json{{"type", "tcp"}, {"port", 2}, {"name", "third"}}, probe}}});
  probes_.Set("g-0", true);
  probes_.Set("g-1", true);
  probes_.Set("third", false);
  probes_.Set("g-3", true);
  EXPECT_EQ(source->Read().value, 0.25);
  probes_.Set("g-0", false);
  EXPECT_EQ(source->Read().value, 0.5);
}

TEST_F(SourcesTest, ProbeIsOneWhenMet) {
  auto source = Make({{"type", "probe"}, {"probe", {{"type", "tcp"}, {"port", 1}}}});
  probes_.Set("g", true);
  EXPECT_EQ(source->Read().value, 1);
  probes_.Set("g", false);
  EXPECT_EQ(source->Read().kind, Kind::kValue);
  EXPECT_EQ(source->Read().value, 0);
}

TEST_F(SourcesTest, UnreachableHttpSourcesAreErrors) {
  auto promql = Make({{"type", "promql"}, {"url", "http://127.0.0.1:9/"}, {"query", "up"}});
  SourceReading r = promql->Read();
  EXPECT_EQ(r.kind, Kind::kError);
  EXPECT_EQ(r.detail,
            "GET http://127.0.0.1:9/api/v1/query?query=up: connect to 127.0.0.1:9 "
            "failed: Connection refused");
  auto scrape = Make({{"type", "scrape"},
                      {"url", "http://127.0.0.1:9/metrics"},
                      {"metric", "up"},
                      {"stat", "value"}});
  ASSERT_TRUE(scrape->Start().ok());  // a failed first scrape is not fatal
  r = scrape->Read();
  EXPECT_EQ(r.kind, Kind::kError);
  EXPECT_EQ(r.detail,
            "GET http://127.0.0.1:9/metrics: connect to 127.0.0.1:9 failed: Connection refused");
}

TEST_F(SourcesTest, RefusesWhatTheValidatorWould) {
  Result<std::unique_ptr<MetricSource>> s =
      MakeMetricSource(Guard({{"type", "graphite"}}), {system_, probes_, experiment_});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(), "/guards/0/source/type: unknown source type \"graphite\"");
  s = MakeMetricSource(Guard({{"type", "probe"}, {"probe", {{"type", "tcp"}}}}),
                       {system_, probes_, experiment_});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(),
            "experiment: /guards/0/source/probe/port: missing: an integer "
            "from 1 to 65535");
}

}  // namespace
}  // namespace ringfence
