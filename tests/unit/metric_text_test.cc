#include "core/observe/metric_text.h"

#include <cmath>

#include <gtest/gtest.h>

namespace ringfence {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Labels = std::map<std::string, std::string>;

TEST(MetricTextTest, ParsesTypesLabelsEscapesAndValues) {
  Result<MetricExposition> e = ParseMetricText(
      "# HELP demo_requests_total Requests, by \"path\"\n"
      "# TYPE demo_requests_total counter\n"
      "demo_requests_total{path=\"/work\",code=\"200\"} 12\n"
      "demo_requests_total{path=\"a\\\\b\\\"c\\nd\",} 3 1700000000000\n"
      "\n"
      "  # a comment\n"
      "# TYPE up gauge\n"
      "up 1\r\n"
      "nan_metric NaN\n"
      "inf_metric{le=\"+Inf\"} +Inf\n"
      "neg_metric -Inf\n"
      "exp_metric 1.5e-3\n");
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->types.at("demo_requests_total"), "counter");
  EXPECT_EQ(e->types.at("up"), "gauge");
  ASSERT_EQ(e->samples.size(), 7u);
  EXPECT_EQ(e->samples[0].name, "demo_requests_total");
  EXPECT_EQ(e->samples[0].labels, (Labels{{"path", "/work"}, {"code", "200"}}));
  EXPECT_EQ(e->samples[0].value, 12);
  EXPECT_EQ(e->samples[1].labels, (Labels{{"path", "a\\b\"c\nd"}}));
  EXPECT_EQ(e->samples[1].value, 3);
  EXPECT_EQ(e->samples[2].name, "up");
  EXPECT_EQ(e->samples[2].value, 1);
  EXPECT_TRUE(std::isnan(e->samples[3].value));
  EXPECT_TRUE(std::isinf(e->samples[4].value) && e->samples[4].value > 0);
  EXPECT_EQ(e->samples[4].labels.at("le"), "+Inf");
  EXPECT_TRUE(std::isinf(e->samples[5].value) && e->samples[5].value < 0);
  EXPECT_DOUBLE_EQ(e->samples[6].value, 0.0015);
}

TEST(MetricTextTest, TypeOfASampleIsItsFamilysType) {
  Result<MetricExposition> e = ParseMetricText(
      "# TYPE d histogram\nd_bucket{le=\"1\"} 1\nd_sum 1\nd_count 1\n# TYPE r counter\n");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->TypeOf("d"), "histogram");
  EXPECT_EQ(e->TypeOf("d_bucket"), "histogram");
  EXPECT_EQ(e->TypeOf("d_count"), "histogram");
  EXPECT_EQ(e->TypeOf("r_total"), "counter");
  EXPECT_EQ(e->TypeOf("other"), "");
}

TEST(MetricTextTest, ErrorsNameTheLine) {
  auto error = [](const std::string& text) {
    Result<MetricExposition> e = ParseMetricText(text);
    EXPECT_FALSE(e.ok());
    return e.status().message();
  };
  EXPECT_EQ(error("up 1\n{x=\"1\"} 2\n"), "line 2: expected a metric name");
  EXPECT_EQ(error("up{x=1} 2\n"), "line 1: expected a quoted value for label x");
  EXPECT_EQ(error("up{x=\"1} 2\n"), "line 1: expected a quoted value for label x");
  EXPECT_EQ(error("up{x \"1\"} 2\n"), "line 1: expected '=' after label x");
  EXPECT_EQ(error("up{x=\"1\" y=\"2\"} 2\n"), "line 1: expected ',' or '}' after label x");
  EXPECT_EQ(error("up{=\"1\"} 2\n"), "line 1: expected a label name or '}'");
  EXPECT_EQ(error("up\n"), "line 1: expected a sample value, got \"\"");
  EXPECT_EQ(error("up one\n"), "line 1: expected a sample value, got \"one\"");
  EXPECT_EQ(error("up 1 2 3\n"), "line 1: unexpected text after the value: \"2\"");
  EXPECT_EQ(error("# TYPE up meter\n"), "line 1: unknown metric type \"meter\"");
  EXPECT_EQ(error("# TYPE\n"), "line 1: a TYPE line without a metric name");
}

TEST(HistogramQuantileTest, InterpolatesLikePromql) {
  const double inf = std::numeric_limits<double>::infinity();
  // 100 observations: 50 in (0, 0.1], 40 in (0.1, 0.5], 10 in (0.5, 1].
  const std::vector<std::pair<double, double>> buckets = {
      {0.1, 50}, {0.5, 90}, {1, 100}, {inf, 100}};
  EXPECT_DOUBLE_EQ(*HistogramQuantile(0.5, buckets), 0.1);
  EXPECT_DOUBLE_EQ(*HistogramQuantile(0.25, buckets), 0.05);
  EXPECT_DOUBLE_EQ(*HistogramQuantile(0.7, buckets), 0.3);
  EXPECT_DOUBLE_EQ(*HistogramQuantile(0.99, buckets), 0.95);
  EXPECT_DOUBLE_EQ(*HistogramQuantile(0, buckets), 0);
  // A rank in the +Inf bucket gives the highest finite bound.
  EXPECT_DOUBLE_EQ(*HistogramQuantile(0.99, {{0.1, 50}, {1, 90}, {inf, 100}}), 1);
  // No observations, no buckets, no +Inf bucket: nothing to say.
  EXPECT_FALSE(HistogramQuantile(0.5, {{0.1, 0}, {inf, 0}}).has_value());
  EXPECT_FALSE(HistogramQuantile(0.5, {}).has_value());
  EXPECT_FALSE(HistogramQuantile(0.5, {{0.1, 5}}).has_value());
}

class ScrapeWindowTest : public ::testing::Test {
 protected:
  void Add(ScrapeWindow& w, milliseconds at, const std::string& text) {
    Result<MetricExposition> e = ParseMetricText(text);
    ASSERT_TRUE(e.ok()) << e.status().message();
    w.Add(std::chrono::steady_clock::time_point(at), *e);
  }
  static std::string Requests(int work, int health) {
    return "# TYPE demo_requests_total counter\n"
           "demo_requests_total{path=\"/work\",instance=\"a\"} " +
           std::to_string(work) +
           "\n"
           "demo_requests_total{path=\"/health\",instance=\"a\"} " +
           std::to_string(health) + "\n";
  }
  static std::string Histogram(int fast, int slow) {
    return "# TYPE d histogram\n"
           "d_bucket{path=\"/work\",le=\"0.01\"} " +
           std::to_string(fast) +
           "\n"
           "d_bucket{path=\"/work\",le=\"0.1\"} " +
           std::to_string(fast) +
           "\n"
           "d_bucket{path=\"/work\",le=\"1\"} " +
           std::to_string(fast + slow) +
           "\n"
           "d_bucket{path=\"/work\",le=\"+Inf\"} " +
           std::to_string(fast + slow) +
           "\n"
           "d_bucket{path=\"/health\",le=\"0.01\"} 0\n"
           "d_bucket{path=\"/health\",le=\"0.1\"} 0\n"
           "d_bucket{path=\"/health\",le=\"1\"} 1000\n"
           "d_bucket{path=\"/health\",le=\"+Inf\"} 1000\n"
           "d_sum{path=\"/work\"} 1\nd_count{path=\"/work\"} 1\n";
  }
};

TEST_F(ScrapeWindowTest, ValueSumsTheMatchingSeries) {
  ScrapeWindow all({"demo_requests_total", {}, ScrapeQuery::Stat::kValue});
  Add(all, seconds(1), Requests(10, 5));
  EXPECT_EQ(all.Current().value, 15);
  ScrapeWindow work({"demo_requests_total", {{"path", "/work"}}, ScrapeQuery::Stat::kValue});
  Add(work, seconds(1), Requests(10, 5));
  EXPECT_EQ(work.Current().kind, SourceReading::Kind::kValue);
  EXPECT_EQ(work.Current().value, 10);
  ScrapeWindow none({"demo_requests_total", {{"path", "/x"}}, ScrapeQuery::Stat::kValue});
  Add(none, seconds(1), Requests(10, 5));
  EXPECT_EQ(none.Current().kind, SourceReading::Kind::kNoData);
  EXPECT_EQ(none.Current().detail, "no series demo_requests_total{path=\"/x\"}");
  EXPECT_EQ(ScrapeWindow({"x", {}}).Current().detail, "no scrape yet");
}

TEST_F(ScrapeWindowTest, RateOverTheWindowFromTheScrapersOwnSamples) {
  ScrapeWindow w(
      {"demo_requests_total", {{"path", "/work"}}, ScrapeQuery::Stat::kRate, 0.99, seconds(10)});
  Add(w, seconds(1), Requests(10, 0));
  EXPECT_EQ(w.Current().kind, SourceReading::Kind::kNoData);
  EXPECT_EQ(w.Current().detail, "a rate needs two scrapes");
  Add(w, seconds(3), Requests(30, 0));
  EXPECT_DOUBLE_EQ(w.Current().value, 10);  // 20 in 2 s
  Add(w, seconds(11), Requests(110, 0));
  EXPECT_DOUBLE_EQ(w.Current().value, 10);  // 100 in 10 s (from the scrape at 1 s)
  Add(w, seconds(13), Requests(110, 0));
  EXPECT_DOUBLE_EQ(w.Current().value, 8);  // 80 in 10 s (from the scrape at 3 s)
  // A counter reset: the new value counts as the increase.
  Add(w, seconds(14), Requests(5, 0));
  EXPECT_DOUBLE_EQ(w.Current().value, 5.0 / 3);  // from 11 s: 0, then 5 after a reset, in 3 s
  // A long gap: the base is the scrape before the window.
  Add(w, seconds(60), Requests(51, 0));
  EXPECT_DOUBLE_EQ(w.Current().value, 1);  // 46 in 46 s
}

TEST_F(ScrapeWindowTest, RateRefusesAGauge) {
  ScrapeWindow w({"up", {}, ScrapeQuery::Stat::kRate});
  Add(w, seconds(1), "# TYPE up gauge\nup 1\n");
  EXPECT_EQ(w.Current().kind, SourceReading::Kind::kError);
  EXPECT_EQ(w.Current().detail, "up is a gauge; stat rate needs a counter");
}

TEST_F(ScrapeWindowTest, QuantileOverTheBucketIncreasesInTheWindow) {
  ScrapeWindow w({"d", {{"path", "/work"}}, ScrapeQuery::Stat::kQuantile, 0.99, seconds(10)});
  Add(w, seconds(1), Histogram(1000, 0));
  EXPECT_EQ(w.Current().detail, "a quantile over a window needs two scrapes");
  Add(w, seconds(2), Histogram(1000, 0));
  EXPECT_EQ(w.Current().kind, SourceReading::Kind::kNoData);
  EXPECT_EQ(w.Current().detail, "no observations of d{path=\"/work\"} in the window");
  Add(w, seconds(3), Histogram(1100, 0));  // 100 fast requests: p99 within (0, 0.01]
  EXPECT_DOUBLE_EQ(w.Current().value, 0.0099);
  Add(w, seconds(4), Histogram(1100, 100));  // then 100 slow ones: p99 within (0.1, 1]
  EXPECT_DOUBLE_EQ(w.Current().value, 0.1 + 0.9 * (198.0 - 100) / 100);
  // The unlabelled query sums /work and /health.
  ScrapeWindow all({"d", {}, ScrapeQuery::Stat::kQuantile, 0.5, seconds(10)});
  Add(all, seconds(1), Histogram(0, 0));
  Add(all, seconds(2), Histogram(0, 0));
  EXPECT_EQ(all.Current().kind, SourceReading::Kind::kNoData);  // nothing observed since
  Add(all, seconds(3), Histogram(10, 10));
  EXPECT_DOUBLE_EQ(all.Current().value, 0.01);  // 10 fast of 20
}

TEST_F(ScrapeWindowTest, QuantileRefusesACounter) {
  ScrapeWindow w({"demo_requests_total", {}, ScrapeQuery::Stat::kQuantile, 0.99});
  Add(w, seconds(1), Requests(1, 1));
  EXPECT_EQ(w.Current().detail,
            "demo_requests_total is a counter; stat quantile needs a histogram");
}

}  // namespace
}  // namespace ringfence
