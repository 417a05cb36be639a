#include "faults/bad_update/gates.h"

#include <gtest/gtest.h>

#include "faults/bad_update/bad_update.h"

namespace ringfence {
namespace {

using namespace std::chrono_literals;
using State = GateStateMachine::State;

HostSample Healthy(long long pid, double latency_ms) {
  HostSample s;
  s.healthy = true;
  s.pid = pid;
  s.work_sampled = true;
  s.work_ok = true;
  s.work_latency_ms = latency_ms;
  return s;
}

HostSample Down() {
  HostSample s;
  s.problem = "connect to 127.0.0.1:9 failed: Connection refused";
  s.work_sampled = true;
  return s;
}

std::vector<HostWindow> Fleet(int n, int exposed) {
  std::vector<HostWindow> hosts(n);
  for (int i = 0; i < n; ++i) {
    hosts[i].name = "h" + std::to_string(i);
    hosts[i].exposed = i < exposed;
    hosts[i].pid_before = 100 + i;
  }
  return hosts;
}

TEST(GatesTest, AHealthyFleetPasses) {
  auto hosts = Fleet(5, 1);
  for (int round = 0; round < 10; ++round) {
    for (int i = 0; i < 5; ++i) hosts[i].Record(Healthy(100 + i, 2 + (round + i) % 3));
  }
  GateConfig config = DeclaredGateConfig();
  EXPECT_EQ(EvaluateAbsolute(hosts, config).verdict, GateVerdict::kPass);
  EXPECT_EQ(EvaluateComparative(hosts, config).verdict, GateVerdict::kPass);
}

TEST(GatesTest, AnExposedHostDownForTwoSamplesFails) {
  auto hosts = Fleet(3, 1);
  GateConfig config = DeclaredGateConfig();
  hosts[0].Record(Down());
  EXPECT_EQ(EvaluateAbsolute(hosts, config).verdict, GateVerdict::kPass);
  hosts[0].Record(Down());
  GateResult r = EvaluateAbsolute(hosts, config);
  EXPECT_EQ(r.verdict, GateVerdict::kFail);
  EXPECT_EQ(r.reason,
            "h0 unhealthy for 2 samples: connect to 127.0.0.1:9 failed: Connection refused");
  // A baseline host that is down is not the update's doing.
  auto other = Fleet(3, 1);
  other[2].Record(Down());
  other[2].Record(Down());
  EXPECT_EQ(EvaluateAbsolute(other, config).verdict, GateVerdict::kPass);
}

TEST(GatesTest, ARestartFails) {
  auto hosts = Fleet(2, 1);
  hosts[0].Record(Healthy(555, 1));
  GateResult r = EvaluateAbsolute(hosts, DeclaredGateConfig());
  EXPECT_EQ(r.verdict, GateVerdict::kFail);
  EXPECT_EQ(r.reason, "h0 restarted (pid 100 → 555)");
}

TEST(GatesTest, ErrorRateAboveTheMaximumFails) {
  auto hosts = Fleet(2, 1);
  GateConfig config = DeclaredGateConfig();
  config.max_error_rate = 0.1;
  config.unhealthy_samples = 100;
  for (int i = 0; i < 4; ++i) hosts[0].Record(Healthy(100, 1));
  HostSample error = Healthy(100, 1);
  error.work_ok = false;
  hosts[0].Record(error);
  GateResult r = EvaluateAbsolute(hosts, config);
  EXPECT_EQ(r.verdict, GateVerdict::kFail);
  EXPECT_EQ(r.reason, "error rate 0.2 of 5 requests on exposed hosts > 0.1");
}

TEST(GatesTest, SlowerExposedHostsFailTheLatencyComparison) {
  auto hosts = Fleet(4, 2);
  for (int round = 0; round < 8; ++round) {
    for (int i = 0; i < 4; ++i) hosts[i].Record(Healthy(100 + i, (i < 2 ? 20 : 2) + round % 3));
  }
  GateResult r = EvaluateComparative(hosts, DeclaredGateConfig());
  EXPECT_EQ(r.verdict, GateVerdict::kFail);
  EXPECT_EQ(r.reason.rfind("latency: exposed median 21ms vs baseline 3ms, Mann-Whitney p = ", 0),
            0u)
      << r.reason;
}

TEST(GatesTest, ASignificantButSmallLatencyDifferencePasses) {
  auto hosts = Fleet(4, 2);
  for (int round = 0; round < 8; ++round) {
    for (int i = 0; i < 4; ++i) hosts[i].Record(Healthy(100 + i, (i < 2 ? 2.2 : 2) + round * 0.01));
  }
  EXPECT_EQ(EvaluateComparative(hosts, DeclaredGateConfig()).verdict, GateVerdict::kPass);
}

TEST(GatesTest, MoreUnhealthyExposedSamplesFailFisher) {
  auto hosts = Fleet(4, 2);
  GateConfig config = DeclaredGateConfig();
  for (int round = 0; round < 10; ++round) {
    for (int i = 0; i < 4; ++i) {
      HostSample s = Healthy(100 + i, 2);
      // Exposed hosts flap: every other sample unhealthy, never two in a row.
      if (i < 2 && round % 2 == 1) s = Down();
      hosts[i].Record(s);
    }
  }
  EXPECT_EQ(EvaluateAbsolute(hosts, config).verdict, GateVerdict::kPass);
  GateResult r = EvaluateComparative(hosts, config);
  EXPECT_EQ(r.verdict, GateVerdict::kFail);
  EXPECT_EQ(r.reason.rfind("unhealthy: exposed 10/20 samples vs baseline 0/20, Fisher p = ", 0), 0u)
      << r.reason;
}

TEST(GatesTest, TooFewSamplesAreInconclusive) {
  auto hosts = Fleet(3, 1);
  for (int i = 0; i < 3; ++i) hosts[i].Record(Healthy(100 + i, 2));
  GateResult r = EvaluateComparative(hosts, DeclaredGateConfig());
  EXPECT_EQ(r.verdict, GateVerdict::kInconclusive);
  EXPECT_EQ(r.reason, "unhealthy: 1 exposed and 2 baseline samples, fewer than min_samples 5");
}

TEST(GatesTest, NoBaselineLeftIsJudgedByTheAbsoluteGatesAlone) {
  auto hosts = Fleet(3, 3);
  for (int i = 0; i < 3; ++i) hosts[i].Record(Healthy(100 + i, 2));
  EXPECT_EQ(EvaluateComparative(hosts, DeclaredGateConfig()).verdict, GateVerdict::kPass);
}

class GateStateMachineTest : public ::testing::Test {
 protected:
  GateStateMachine::Time t0 = GateStateMachine::Time() + 1h;
  GateStateMachine machine{t0, 2s, 3s};
  GateResult pass;
  GateResult fail{GateVerdict::kFail, "h0 unhealthy for 2 samples: down"};
  GateResult unsure{GateVerdict::kInconclusive,
                    "latency: 1 exposed and 9 baseline samples, "
                    "fewer than min_samples 5"};
};

TEST_F(GateStateMachineTest, PassingThroughTheBakePromotes) {
  EXPECT_EQ(machine.Step(t0 + 500ms, pass, std::nullopt), State::kBaking);
  EXPECT_FALSE(machine.ComparativeDue(t0 + 1999ms));
  EXPECT_TRUE(machine.ComparativeDue(t0 + 2s));
  EXPECT_EQ(machine.Step(t0 + 2s, pass, pass), State::kPromoted);
  EXPECT_TRUE(machine.done());
  EXPECT_FALSE(machine.failed());
}

TEST_F(GateStateMachineTest, AnAbsoluteFailureHaltsMidBake) {
  EXPECT_EQ(machine.Step(t0 + 300ms, fail, std::nullopt), State::kFailed);
  EXPECT_EQ(machine.reason(), "h0 unhealthy for 2 samples: down");
  // Terminal: later passes change nothing.
  EXPECT_EQ(machine.Step(t0 + 3s, pass, pass), State::kFailed);
}

TEST_F(GateStateMachineTest, AComparativeFailureAtTheEndOfTheBakeHalts) {
  EXPECT_EQ(machine.Step(t0 + 2s, pass, fail), State::kFailed);
}

TEST_F(GateStateMachineTest, InconclusivePausesThenResolves) {
  EXPECT_EQ(machine.Step(t0 + 2s, pass, unsure), State::kPaused);
  EXPECT_EQ(machine.reason(), unsure.reason);
  EXPECT_EQ(machine.Step(t0 + 3s, pass, pass), State::kPromoted);
}

TEST_F(GateStateMachineTest, InconclusiveFailsClosedAtTheDeadline) {
  EXPECT_EQ(machine.Step(t0 + 2s, pass, unsure), State::kPaused);
  EXPECT_EQ(machine.Step(t0 + 4999ms, pass, unsure), State::kPaused);
  EXPECT_EQ(machine.Step(t0 + 5s, pass, unsure), State::kFailedClosed);
  EXPECT_TRUE(machine.failed());
  EXPECT_EQ(machine.reason(), "inconclusive 3s after the bake: " + unsure.reason);
}

TEST_F(GateStateMachineTest, AnAbsoluteFailureWhilePausedHalts) {
  EXPECT_EQ(machine.Step(t0 + 2s, pass, unsure), State::kPaused);
  EXPECT_EQ(machine.Step(t0 + 2500ms, fail, unsure), State::kFailed);
}

}  // namespace
}  // namespace ringfence
