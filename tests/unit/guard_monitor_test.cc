#include <atomic>
#include <deque>
#include <thread>

#include <gtest/gtest.h>

#include "core/observe/guards.h"
#include "core/observe/metric_sources.h"
#include "tests/support/fake_clock.h"

namespace ringfence {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using Verdict = GuardSample::Verdict;

// A source that gives its scripted readings in order, then repeats the last one (pausing a
// millisecond of real time per reading, so that a guard on a fake clock does not spin).
class ScriptedSource : public MetricSource {
 public:
  ScriptedSource(std::vector<SourceReading> script, Status start)
      : script_(script.begin(), script.end()), start_(std::move(start)) {}
  Status Start() override { return start_; }
  SourceReading Read() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (script_.size() > 1) {
      SourceReading r = script_.front();
      script_.pop_front();
      return r;
    }
    std::this_thread::sleep_for(milliseconds(1));
    return script_.front();
  }

 private:
  std::mutex mu_;
  std::deque<SourceReading> script_;
  Status start_;
};

SourceReading V(double v) { return SourceReading::Value(v); }

class GuardMonitorTest : public ::testing::Test {
 protected:
  GuardSpec Guard(const std::string& name, std::optional<double> max) {
    GuardSpec g;
    g.name = name;
    g.pointer = "/guards/" + std::to_string(scripts_.size());
    g.source = {{"type", "fake"}};
    g.max = max;
    g.interval = milliseconds(100);
    return g;
  }

  void Script(const std::string& guard, std::vector<SourceReading> readings,
              Status start = Status::Ok()) {
    scripts_[guard] = {std::move(readings), std::move(start)};
  }

  std::unique_ptr<GuardMonitor> Monitor(const std::vector<GuardSpec>& guards) {
    return MakeGuardMonitorWithSources(
        guards, clock_, [this](const GuardSpec& g) -> Result<std::unique_ptr<MetricSource>> {
          auto it = scripts_.find(g.name);
          if (it == scripts_.end()) return Status::InvalidInput("no script for " + g.name);
          return std::unique_ptr<MetricSource>(
              std::make_unique<ScriptedSource>(it->second.first, it->second.second));
        });
  }

  // Starts `monitor`, waits (bounded) until `guard` has `samples` samples, stops it.
  void RunUntil(GuardMonitor& monitor, const std::string& guard, size_t samples) {
    monitor.Start(
        [this](const GuardBreach& b) {
          std::lock_guard<std::mutex> lock(mu_);
          breaches_.push_back(b);
        },
        [this](const std::string& name, const GuardSample&) {
          std::lock_guard<std::mutex> lock(mu_);
          ++sampled_[name];
        });
    for (int i = 0; i < 5000; ++i) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (sampled_[guard] >= samples) break;
      }
      std::this_thread::sleep_for(milliseconds(1));
    }
    monitor.Stop();
  }

  static json Samples(const GuardMonitor& monitor, size_t guard, size_t n) {
    json all = monitor.ToJson()[guard]["samples"];
    json out = json::array();
    for (size_t i = 0; i < n && i < all.size(); ++i) {
      out.push_back({all[i]["verdict"], all[i]["value"], all[i]["detail"]});
    }
    return out;
  }

  testing::FakeClock clock_;
  std::map<std::string, std::pair<std::vector<SourceReading>, Status>> scripts_;
  std::mutex mu_;
  std::vector<GuardBreach> breaches_;
  std::map<std::string, size_t> sampled_;
};

TEST_F(GuardMonitorTest, BreachesOnceAfterForConsecutiveBreachingSamples) {
  GuardSpec g = Guard("errors", 2);
  g.for_samples = 3;
  Script("errors", {V(1), V(5), V(5), V(1), V(5), V(5), V(5), V(9)});
  auto monitor = Monitor({g});
  RunUntil(*monitor, "errors", 12);
  ASSERT_EQ(breaches_.size(), 1u);
  const GuardBreach& b = breaches_[0];
  EXPECT_EQ(b.guard, "errors");
  EXPECT_EQ(b.reason, "value 5 > 2 (3 samples in a row)");
  EXPECT_EQ(b.value, 5);
  EXPECT_EQ(b.threshold, "<= 2");
  // Samples every 100 ms from Start, the 7th breaches.
  EXPECT_EQ(FormatRfc3339(b.sampled_at), "2024-07-19T04:09:00.700Z");
  EXPECT_EQ(b.detected_at, b.sampled_at);
  EXPECT_EQ(Samples(*monitor, 0, 8), json({{"ok", 1, ""},
                                           {"breach", 5, "value 5 > 2"},
                                           {"breach", 5, "value 5 > 2"},
                                           {"ok", 1, ""},
                                           {"breach", 5, "value 5 > 2"},
                                           {"breach", 5, "value 5 > 2"},
                                           {"breach", 5, "value 5 > 2"},
                                           {"breach", 9, "value 9 > 2"}}));
  // Sampling goes on after the breach (the journal shows the way back), on_breach does not.
  EXPECT_GE(monitor->ToJson()[0]["samples"].size(), 12u);
  EXPECT_EQ(monitor->ToJson()[0]["breach"]["reason"], "value 5 > 2 (3 samples in a row)");
}

// Memory stays flat: the monitor keeps its last kGuardSampleWindow samples, counts every one
// and summarizes them; every sample went to on_sample (the journal's event log).
TEST_F(GuardMonitorTest, KeepsABoundedWindowAndCountsEverySample) {
  GuardSpec g = Guard("wide", 100);
  g.min_samples = 2;
  Script("wide", {V(3), V(7), V(1), V(200), V(5)});
  auto monitor = Monitor({g});
  const size_t n = kGuardSampleWindow + 50;
  RunUntil(*monitor, "wide", n);
  json j = monitor->ToJson()[0];
  const uint64_t total = j["samples_total"];
  EXPECT_GE(total, n);
  EXPECT_EQ(total, sampled_["wide"]);
  EXPECT_EQ(j["samples"].size(), kGuardSampleWindow);
  EXPECT_EQ(j["samples_dropped"].get<uint64_t>(), total - kGuardSampleWindow);
  EXPECT_EQ(j["summary"]["verdicts"]["warming_up"], 1);
  EXPECT_EQ(j["summary"]["verdicts"]["breach"], 1);
  EXPECT_EQ(j["summary"]["verdicts"]["ok"].get<uint64_t>(), total - 2);
  EXPECT_EQ(j["summary"]["min"], 1.0);
  EXPECT_EQ(j["summary"]["max"], 200.0);
  EXPECT_EQ(j["summary"]["first_at"], "2024-07-19T04:09:00.100Z");
  EXPECT_EQ(j["summary"]["last_at"], j["samples"].back()["at"]);
}

TEST_F(GuardMonitorTest, ForThreeIgnoresASingleSpike) {
  GuardSpec g = Guard("latency", 100);
  g.for_samples = 3;
  Script("latency", {V(10), V(500), V(10), V(500), V(500), V(10)});
  auto monitor = Monitor({g});
  RunUntil(*monitor, "latency", 10);
  EXPECT_TRUE(breaches_.empty());
  EXPECT_EQ(monitor->ToJson()[0]["breach"], nullptr);
}

TEST_F(GuardMonitorTest, MinSamplesBeforeItJudges) {
  GuardSpec g = Guard("ratio", std::nullopt);
  g.min = 0.9;
  g.min_samples = 3;
  Script("ratio", {SourceReading::NoData("no probe results in the last 5s"), V(0.5), V(0.5)});
  auto monitor = Monitor({g});
  RunUntil(*monitor, "ratio", 3);
  ASSERT_EQ(breaches_.size(), 1u);
  EXPECT_EQ(breaches_[0].reason, "value 0.5 < 0.9");
  EXPECT_EQ(breaches_[0].threshold, ">= 0.9");
  EXPECT_EQ(Samples(*monitor, 0, 3),
            json({{"warming_up", nullptr, "no probe results in the last 5s"},
                  {"warming_up", 0.5, ""},
                  {"breach", 0.5, "value 0.5 < 0.9"}}));
}

TEST_F(GuardMonitorTest, NoDataAndErrorsFailClosed) {
  GuardSpec quiet = Guard("quiet", 1);
  GuardSpec broken = Guard("broken", 1);
  Script("quiet", {V(0), SourceReading::NoData("query returned no series")});
  Script("broken", {V(0), V(0), V(0), V(0), V(0), V(0), V(0), V(0), V(0), V(0)});
  auto monitor = Monitor({quiet, broken});
  RunUntil(*monitor, "quiet", 2);
  ASSERT_EQ(breaches_.size(), 1u);
  EXPECT_EQ(breaches_[0].guard, "quiet");
  EXPECT_EQ(breaches_[0].reason, "no data: query returned no series");
  EXPECT_FALSE(breaches_[0].value.has_value());
  EXPECT_EQ(Samples(*monitor, 0, 2),
            json({{"ok", 0, ""}, {"no_data", nullptr, "query returned no series"}}));

  breaches_.clear();
  sampled_.clear();
  GuardSpec failing = Guard("failing", 1);
  Script("failing", {SourceReading::Error("GET http://127.0.0.1:9/metrics: refused")});
  auto second = Monitor({failing});
  RunUntil(*second, "failing", 1);
  ASSERT_EQ(breaches_.size(), 1u);
  EXPECT_EQ(breaches_[0].reason, "error: GET http://127.0.0.1:9/metrics: refused");
  EXPECT_EQ(Samples(*second, 0, 1),
            json({{"error", nullptr, "GET http://127.0.0.1:9/metrics: refused"}}));
}

TEST_F(GuardMonitorTest, IgnoredNoDataAndErrorsNeitherBreachNorBreakARun) {
  GuardSpec g = Guard("g", 1);
  g.abort_on_no_data = false;
  g.abort_on_error = false;
  g.for_samples = 2;
  Script("g", {SourceReading::NoData("none"), SourceReading::Error("refused"), V(0), V(5),
               SourceReading::NoData("none"), V(5), V(0)});
  auto monitor = Monitor({g});
  RunUntil(*monitor, "g", 7);
  ASSERT_EQ(breaches_.size(), 1u);
  EXPECT_EQ(breaches_[0].reason, "value 5 > 1 (2 samples in a row)");
  EXPECT_EQ(FormatRfc3339(breaches_[0].sampled_at), "2024-07-19T04:09:00.600Z");
  EXPECT_EQ(Samples(*monitor, 0, 3),
            json({{"no_data", nullptr, "none"}, {"error", nullptr, "refused"}, {"ok", 0, ""}}));
}

TEST_F(GuardMonitorTest, BaselineIsTheMedianOfReadingsBeforeTheMethod) {
  GuardSpec g = Guard("p99", std::nullopt);
  g.max_vs_baseline = 1.5;
  Script("p99", {V(12), V(10), V(11), V(15), V(19)});
  auto monitor = Monitor({g});
  ASSERT_TRUE(monitor->CaptureBaseline().ok());
  EXPECT_EQ(monitor->ToJson()[0]["baseline"], 11);
  EXPECT_EQ(monitor->ToJson()[0]["threshold"], "<= 1.5 × baseline (16.5)");
  EXPECT_EQ(monitor->ToJson()[0]["baseline_samples"].size(), 3u);
  RunUntil(*monitor, "p99", 2);
  ASSERT_EQ(breaches_.size(), 1u);
  EXPECT_EQ(breaches_[0].reason, "value 19 > 16.5 (1.5 × baseline 11)");
  EXPECT_EQ(breaches_[0].threshold, "<= 1.5 × baseline (16.5)");
  EXPECT_EQ(Samples(*monitor, 0, 2),
            json({{"ok", 15, ""}, {"breach", 19, "value 19 > 16.5 (1.5 × baseline 11)"}}));
}

TEST_F(GuardMonitorTest, ABaselineThatCannotBeMeasuredIsAnError) {
  GuardSpec g = Guard("p99", std::nullopt);
  g.max_vs_baseline = 1.5;
  Script("p99", {V(3), SourceReading::Error("connection refused")});
  auto monitor = Monitor({g});
  Status s = monitor->CaptureBaseline();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(),
            "guard \"p99\": cannot measure a baseline (1 of 3 readings): error: "
            "connection refused");

  GuardSpec zero = Guard("errors", std::nullopt);
  zero.min_vs_baseline = 0.5;
  Script("errors", {V(0)});
  s = Monitor({zero})->CaptureBaseline();
  EXPECT_EQ(s.code(), StatusCode::kInvalidInput);
  EXPECT_EQ(s.message(),
            "guard \"errors\": the baseline is 0; a condition relative to the "
            "baseline needs one other than 0");
}

TEST_F(GuardMonitorTest, ABaselineGuardWithoutABaselineFailsClosed) {
  GuardSpec g = Guard("p99", std::nullopt);
  g.max_vs_baseline = 1.5;
  Script("p99", {V(1)});
  auto monitor = Monitor({g});
  RunUntil(*monitor, "p99", 1);
  ASSERT_EQ(breaches_.size(), 1u);
  EXPECT_EQ(breaches_[0].reason, "error: no baseline was measured");
}

TEST_F(GuardMonitorTest, ASourceThatCannotStartFailsItsSamples) {
  GuardSpec g = Guard("fleet", 0.2);
  Script("fleet", {V(0)}, Status::NotFound("target fleet matches no process"));
  auto monitor = Monitor({g, Guard("unscripted", 1)});
  Status s = monitor->CaptureBaseline();
  EXPECT_EQ(s.message(), "guard \"fleet\": target fleet matches no process");
  s = monitor->CheckSources();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(),
            "guard \"fleet\": target fleet matches no process; guard "
            "\"unscripted\": no script for unscripted");
  auto alone = Monitor({g});
  RunUntil(*alone, "fleet", 1);
  ASSERT_EQ(breaches_.size(), 1u);
  EXPECT_EQ(breaches_[0].reason, "error: target fleet matches no process");
}

TEST_F(GuardMonitorTest, CheckSourcesReportsOnlyErrors) {
  Script("a", {V(1)});
  Script("b", {SourceReading::NoData("query returned no series")});
  Script("c", {SourceReading::Error("GET http://127.0.0.1:9/api/v1/query?query=up: refused")});
  Status s = Monitor({Guard("a", 1), Guard("b", 1), Guard("c", 1)})->CheckSources();
  EXPECT_EQ(s.message(), "guard \"c\": GET http://127.0.0.1:9/api/v1/query?query=up: refused");
  EXPECT_TRUE(Monitor({Guard("a", 1), Guard("b", 1)})->CheckSources().ok());
}

TEST_F(GuardMonitorTest, OnlyTheFirstBreachOfAllGuardsIsReported) {
  Script("a", {V(5)});
  Script("b", {V(5)});
  auto monitor = Monitor({Guard("a", 1), Guard("b", 1)});
  RunUntil(*monitor, "a", 5);
  EXPECT_EQ(breaches_.size(), 1u);
  json all = monitor->ToJson();
  EXPECT_EQ((all[0]["breach"] == nullptr) + (all[1]["breach"] == nullptr), 1);
}

TEST_F(GuardMonitorTest, StopIsIdempotentAndEndsSampling) {
  Script("a", {V(0)});
  auto monitor = Monitor({Guard("a", 1)});
  RunUntil(*monitor, "a", 3);
  const size_t n = monitor->ToJson()[0]["samples"].size();
  monitor->Stop();
  std::this_thread::sleep_for(milliseconds(5));
  EXPECT_EQ(monitor->ToJson()[0]["samples"].size(), n);
  const json j = monitor->ToJson()[0];
  EXPECT_EQ(j["name"], "a");
  EXPECT_EQ(j["interval"], "100ms");
  EXPECT_EQ(j["for"], 1);
  EXPECT_EQ(j["on_no_data"], "abort");
  EXPECT_EQ(j["condition"], json({{"max", 1}}));
  EXPECT_EQ(
      j["samples"][0],
      json({{"at", "2024-07-19T04:09:00.100Z"}, {"value", 0}, {"verdict", "ok"}, {"detail", ""}}));
}

}  // namespace
}  // namespace ringfence
