// Chaos on ourselves: the runner is killed (SIGKILL) at many points, then the watchdog or
// `ringfence recover` must leave nothing behind. Everything is checked from outside.
#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <random>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/ledger/file_ledger.h"
#include "tests/support/chaos.h"
#include "tests/support/processes.h"

namespace ringfence::testing {
namespace {

class CrashSafetyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    nlohmann::json doc = {
        {"version", 1},
        {"title", "pause under fire"},
        {"targets", {{"sleepers", {{"process", {{"cmdline", children_.cmdline_regex()}}}}}}},
        {"method",
         {{{"type", "process_pause"}, {"target", "sleepers"}, {"duration", "400ms"}},
          {{"type", "wait"}, {"duration", "100ms"}},
          {{"type", "process_pause"},
           {"name", "second"},
           {"target", "sleepers"},
           {"duration", "200ms"},
           {"start_after", "100ms"}}}},
        {"guards", nlohmann::json::array()}};
    dir_.Write("pause.json", doc.dump());
  }
  void TearDown() override {
    // No watchdog of ours may outlive the test.
    EXPECT_TRUE(Eventually([&] { return ProcessesMentioning(state()).empty(); }));
    for (pid_t p : ProcessesMentioning(state())) ::kill(p, SIGKILL);
  }
  std::string state() const { return dir_.File("state"); }
  std::vector<std::string> RunArgs(const std::string& grace = "300ms") {
    return {RINGFENCE_BINARY, "run",   dir_.File("pause.json"), "--journal", dir_.File("j.json"),
            "--state-dir",    state(), "--watchdog-grace",      grace};
  }
  bool NoneStopped() {
    return std::none_of(children_.pids().begin(), children_.pids().end(),
                        [](pid_t p) { return SleepChildren::State(p) == 'T'; });
  }
  bool AllStopped() {
    return std::all_of(children_.pids().begin(), children_.pids().end(),
                       [](pid_t p) { return SleepChildren::State(p) == 'T'; });
  }
  // Every ledger in the state dir shows nothing outstanding and nothing unreadable.
  bool LedgersClean() {
    for (const auto& path : ListLedgers(state())) {
      auto c = ReadLedger(path);
      if (!c.ok() || !c->Outstanding().empty() || !c->problems.empty()) return false;
    }
    return true;
  }
  std::string LedgerOf() {
    auto all = ListLedgers(state());
    return all.empty() ? "" : all.back();
  }
  int Ringfence(std::vector<std::string> args, std::string* out = nullptr) {
    if (args.empty() || args[0] != RINGFENCE_BINARY) args.insert(args.begin(), RINGFENCE_BINARY);
    ChildRun run(args, dir_.path());
    int code = run.Wait();
    if (out) *out = run.out() + run.err();
    return code;
  }

  SleepChildren children_{3};
  TempDir dir_;
};

TEST_F(CrashSafetyTest, WatchdogRevertsWhenTheRunnerIsKilled) {
  {
    ChildRun run(RunArgs("10s"), dir_.path());  // a long grace: the pipe closing must suffice
    ASSERT_TRUE(Eventually([&] { return AllStopped(); })) << run.err();
    run.Signal(SIGKILL);
    EXPECT_EQ(run.Wait(), 128 + SIGKILL);
  }
  EXPECT_TRUE(Eventually([&] { return NoneStopped() && LedgersClean(); }));
  auto c = ReadLedger(LedgerOf());
  ASSERT_TRUE(c.ok());
  ASSERT_FALSE(c->entries.empty());
  for (const auto& e : c->entries) EXPECT_EQ(e.reverted_by, "watchdog");
}

TEST_F(CrashSafetyTest, RecoverWorksWhenTheWatchdogIsKilledToo) {
  {
    ChildRun run(RunArgs("10s"), dir_.path());
    ASSERT_TRUE(Eventually([&] { return AllStopped(); })) << run.err();
    for (pid_t p : ProcessesMentioning(state())) {
      if (p != run.pid()) ::kill(p, SIGKILL);  // the watchdog first
    }
    run.Signal(SIGKILL);
    run.Wait();
  }
  ASSERT_TRUE(Eventually([&] { return ProcessesMentioning(state()).empty(); }));
  EXPECT_TRUE(AllStopped());
  std::string out;
  EXPECT_EQ(Ringfence({"status", "--state-dir", state()}, &out), 0);
  EXPECT_NE(out.find("FAULTS LEFT (run ringfence recover)"), std::string::npos) << out;
  // A new run refuses to start over what is left.
  EXPECT_EQ(Ringfence(RunArgs(), &out), 3);
  EXPECT_NE(out.find("left 3 fault(s) not reverted; run `ringfence recover --state-dir " + state()),
            std::string::npos)
      << out;
  EXPECT_EQ(Ringfence({"recover", "--state-dir", state()}, &out), 0) << out;
  EXPECT_NE(out.find("recover: 3 faults reverted; nothing is left"), std::string::npos) << out;
  EXPECT_TRUE(NoneStopped());
  EXPECT_TRUE(LedgersClean());
  // Twice, and with nothing to do: still 0.
  EXPECT_EQ(Ringfence({"recover", "--state-dir", state()}, &out), 0) << out;
  EXPECT_NE(out.find("recover: 0 faults reverted; nothing is left"), std::string::npos) << out;
}

TEST_F(CrashSafetyTest, HungRunnerIsRevertedAtTheGrace) {
  ChildRun run(RunArgs("300ms"), dir_.path());
  ASSERT_TRUE(Eventually([&] { return AllStopped(); })) << run.err();
  run.Signal(SIGSTOP);  // hung: no heartbeats, no progress
  EXPECT_TRUE(Eventually([&] { return NoneStopped(); }));
  run.Signal(SIGCONT);  // it wakes to the watchdog's SIGTERM, reverts again (harmlessly), exits
  EXPECT_EQ(run.Wait(), 143) << run.err();
  EXPECT_TRUE(NoneStopped());
  EXPECT_TRUE(LedgersClean());
}

TEST_F(CrashSafetyTest, SecondRunnerRefusesWhileOneIsActive) {
  ChildRun first(RunArgs(), dir_.path());
  ASSERT_TRUE(Eventually([&] { return AllStopped(); })) << first.err();
  std::string out;
  EXPECT_EQ(Ringfence(RunArgs(), &out), 3);
  EXPECT_NE(out.find("another run is active on state dir " + state()), std::string::npos) << out;
  EXPECT_EQ(first.Wait(), 0) << first.err();
  EXPECT_TRUE(NoneStopped());
}

// At least 50 kill points, seeded: delays spread over the whole run (before the watchdog exists,
// during injection, mid-method, during revert, after the end). After each, the watchdog (or, when
// the runner died before it started, nothing) must leave no process stopped and a clean ledger.
TEST_F(CrashSafetyTest, SigkillAtFiftySeededPointsLeavesNothing) {
  int points = 50;
  unsigned seed = 20240719;
  if (const char* p = std::getenv("RINGFENCE_CHAOS_POINTS")) points = std::max(50, std::atoi(p));
  if (const char* s = std::getenv("RINGFENCE_CHAOS_SEED"))
    seed += static_cast<unsigned>(std::atoll(s));
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> delay_ms(0, 700);
  for (int i = 0; i < points; ++i) {
    const int d = delay_ms(rng);
    {
      ChildRun run(RunArgs("300ms"), dir_.path());
      std::this_thread::sleep_for(std::chrono::milliseconds(d));
      run.Signal(SIGKILL);
      run.Wait();
    }
    ASSERT_TRUE(Eventually([&] { return ProcessesMentioning(state()).empty(); }))
        << "kill point " << i << " (" << d << " ms): a watchdog is still running";
    ASSERT_TRUE(NoneStopped()) << "kill point " << i << " (" << d
                               << " ms): a process is left stopped";
    ASSERT_TRUE(LedgersClean()) << "kill point " << i << " (" << d << " ms): " << LedgerOf();
  }
}

}  // namespace
}  // namespace ringfence::testing
