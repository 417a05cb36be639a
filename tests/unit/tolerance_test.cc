#include <map>
#include <mutex>

#include <gtest/gtest.h>

#include "core/model/experiment.h"
#include "core/observe/probe.h"
#include "tests/support/fake_env.h"

namespace ringfence {
namespace {

Tolerance Exact(nlohmann::json v) {
  Tolerance t;
  t.exact = std::move(v);
  return t;
}

Tolerance Range(std::optional<double> min, std::optional<double> max) {
  Tolerance t;
  t.kind = Tolerance::Kind::kRange;
  t.min = min;
  t.max = max;
  return t;
}

Tolerance Regex(std::string r) {
  Tolerance t;
  t.kind = Tolerance::Kind::kRegex;
  t.regex = std::move(r);
  return t;
}

TEST(ToleranceToJsonTest, Exact) {
  EXPECT_EQ(Exact(200).ToJson().dump(), R"({"exact":200})");
  EXPECT_EQ(Exact("up").ToJson().dump(), R"({"exact":"up"})");
}

TEST(ToleranceToJsonTest, RangeOmitsOpenSides) {
  EXPECT_EQ(Range(200, 299).ToJson().dump(), R"({"max":299,"min":200})");
  EXPECT_EQ(Range(1, std::nullopt).ToJson().dump(), R"({"min":1})");
  EXPECT_EQ(Range(std::nullopt, 0.5).ToJson().dump(), R"({"max":0.5})");
}

TEST(ToleranceToJsonTest, Regex) {
  EXPECT_EQ(Regex("^2..$").ToJson().dump(), R"({"regex":"^2..$"})");
}

TEST(WithinToleranceTest, ExactComparesJsonValues) {
  EXPECT_TRUE(WithinTolerance(Exact(200), 200));
  EXPECT_TRUE(WithinTolerance(Exact(200), 200.0));
  EXPECT_FALSE(WithinTolerance(Exact(200), 503));
  EXPECT_FALSE(WithinTolerance(Exact(200), "200"));
  EXPECT_TRUE(WithinTolerance(Exact("up"), "up"));
  EXPECT_TRUE(WithinTolerance(Exact(true), true));
  EXPECT_FALSE(WithinTolerance(Exact(true), 1));
  EXPECT_FALSE(WithinTolerance(Exact(0), nullptr));
}

TEST(WithinToleranceTest, RangeIsInclusiveAndNumericOnly) {
  EXPECT_TRUE(WithinTolerance(Range(200, 299), 200));
  EXPECT_TRUE(WithinTolerance(Range(200, 299), 299));
  EXPECT_FALSE(WithinTolerance(Range(200, 299), 300));
  EXPECT_FALSE(WithinTolerance(Range(200, 299), 199.5));
  EXPECT_TRUE(WithinTolerance(Range(1, std::nullopt), 1000000));
  EXPECT_FALSE(WithinTolerance(Range(1, std::nullopt), 0));
  EXPECT_TRUE(WithinTolerance(Range(std::nullopt, 3), -7));
  EXPECT_FALSE(WithinTolerance(Range(0, 10), "5"));
  EXPECT_FALSE(WithinTolerance(Range(0, 10), true));
  EXPECT_FALSE(WithinTolerance(Range(0, 10), nullptr));
}

TEST(WithinToleranceTest, RegexSearchesStringsAndNumbersAsText) {
  EXPECT_TRUE(WithinTolerance(Regex("^2..$"), 204));
  EXPECT_FALSE(WithinTolerance(Regex("^2..$"), 404));
  EXPECT_TRUE(WithinTolerance(Regex("ok"), "all ok here"));
  EXPECT_FALSE(WithinTolerance(Regex("ok"), true));
  EXPECT_FALSE(WithinTolerance(Regex("ok"), nullptr));
  EXPECT_FALSE(WithinTolerance(Regex("(unclosed"), "(unclosed"));
}

ProbeSpec ProbeOfType(ProbeType type) {
  ProbeSpec p;
  p.name = "p";
  p.type = type;
  return p;
}

TEST(EffectiveToleranceTest, DefaultsPerTypeWhenNoneGiven) {
  EXPECT_EQ(EffectiveTolerance(ProbeOfType(ProbeType::kHttp)).ToJson().dump(), R"({"exact":200})");
  EXPECT_EQ(EffectiveTolerance(ProbeOfType(ProbeType::kCommand)).ToJson().dump(), R"({"exact":0})");
  EXPECT_EQ(EffectiveTolerance(ProbeOfType(ProbeType::kTcp)).ToJson().dump(), R"({"exact":true})");
  EXPECT_EQ(EffectiveTolerance(ProbeOfType(ProbeType::kProcessAlive)).ToJson().dump(),
            R"({"min":1})");
}

TEST(EffectiveToleranceTest, KeepsAGivenTolerance) {
  ProbeSpec p = ProbeOfType(ProbeType::kHttp);
  p.tolerance = Range(200, 399);
  EXPECT_EQ(EffectiveTolerance(p).ToJson().dump(), R"({"max":399,"min":200})");
}

TEST(ProbeOutcomeTest, ToJsonHasEveryField) {
  ProbeOutcome o;
  o.name = "health";
  o.type = "http";
  o.value = 503;
  o.tolerance = Exact(200).ToJson();
  o.met = false;
  o.detail = R"(status 503 is not within {"exact":200})";
  EXPECT_EQ(o.ToJson().dump(),
            R"({"detail":"status 503 is not within {\"exact\":200}","met":false,"name":"health",)"
            R"("tolerance":{"exact":200},"type":"http","value":503})");
}

class ProcessAliveProbeTest : public ::testing::Test {
 protected:
  // Pids far above pid_max so that neither PID 1 nor the test itself is among them.
  ProcessAliveProbeTest() {
    table_.Add(900001, "nginx", "nginx: master process", 0, 901001);
    table_.Add(900002, "nginx", "nginx: worker process", 0, 901002);
    table_.Add(900003, "redis-server", "redis-server *:6379", 0, 901003);
  }

  testing::FakeEnv system_;  // its own FakeProcessTable and FakeClock
  testing::FakeProcessTable& table_ = system_.fake_processes();
  std::unique_ptr<ProbeRunner> runner_ = MakeProbeRunner(system_);
  Experiment experiment_;

  void AddTarget(const std::string& name, const std::string& comm) {
    TargetSpec t;
    t.name = name;
    t.pointer = "/targets/" + name;
    t.process.name = comm;
    experiment_.targets.push_back(t);
  }
  ProbeSpec Alive(const std::string& target) {
    ProbeSpec p = ProbeOfType(ProbeType::kProcessAlive);
    p.name = "alive";
    p.target = target;
    return p;
  }
};

TEST_F(ProcessAliveProbeTest, CountsMatchingProcesses) {
  AddTarget("web", "nginx");
  ProbeOutcome o = runner_->Run(Alive("web"), experiment_);
  EXPECT_TRUE(o.met) << o.detail;
  EXPECT_EQ(o.type, "process_alive");
  EXPECT_EQ(o.value, 2);
  EXPECT_EQ(o.tolerance.dump(), R"({"min":1})");
  EXPECT_EQ(o.detail, "");
}

TEST_F(ProcessAliveProbeTest, NoMatchIsNotMet) {
  AddTarget("db", "postgres");
  ProbeOutcome o = runner_->Run(Alive("db"), experiment_);
  EXPECT_FALSE(o.met);
  EXPECT_EQ(o.value, 0);
  EXPECT_EQ(o.detail, R"(process count 0 is not within {"min":1})");
}

TEST_F(ProcessAliveProbeTest, AppliesAGivenTolerance) {
  AddTarget("web", "nginx");
  ProbeSpec p = Alive("web");
  p.tolerance = Exact(0);  // "all of them are gone"
  ProbeOutcome o = runner_->Run(p, experiment_);
  EXPECT_FALSE(o.met);
  EXPECT_EQ(o.detail, R"(process count 2 is not within {"exact":0})");
}

TEST_F(ProcessAliveProbeTest, UnknownTargetIsNotMet) {
  ProbeOutcome o = runner_->Run(Alive("ghost"), experiment_);
  EXPECT_FALSE(o.met);
  EXPECT_TRUE(o.value.is_null());
  EXPECT_EQ(o.detail, "unknown target: ghost");
}

}  // namespace
}  // namespace ringfence
