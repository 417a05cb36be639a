#include "runner/watchdog/watchdog_loop.h"

#include <signal.h>

#include <deque>
#include <functional>

#include <gtest/gtest.h>

#include "tests/support/fake_clock.h"
#include "tests/support/fake_process_table.h"

namespace ringfence {
namespace {

using std::chrono::milliseconds;
using testing::FakeClock;
using testing::FakeProcessTable;
using Kind = RunnerNews::Kind;

// Each Next() sleeps on the fake clock until its deadline (no real time passes) and then hands
// out what `news` says for that moment.
class ScriptedLink : public RunnerLink {
 public:
  ScriptedLink(FakeClock& clock, std::function<RunnerNews(long long elapsed_ms)> news)
      : clock_(clock), news_(std::move(news)) {}
  RunnerNews Next(std::chrono::steady_clock::time_point until) override {
    clock_.SleepUntil(until, stop_);
    ++calls;
    return news_(clock_.ElapsedMs());
  }
  int calls = 0;

 private:
  FakeClock& clock_;
  std::function<RunnerNews(long long)> news_;
  StopSource stop_;
};

RunnerNews Beat(long long age_ms = 0) { return {Kind::kBeat, milliseconds(age_ms), ""}; }

class RecordingEffects : public WatchdogEffects {
 public:
  Result<LedgerContents> ReadLedger() override {
    ++reads;
    if (!read_status.ok()) return read_status;
    return contents;
  }
  RecoveryReport Revert() override {
    ++reverts;
    return report;
  }
  Status Append(const nlohmann::json& record) override {
    appended.push_back(record);
    return append_status;
  }
  void Log(const std::string& line) override { logged.push_back(line); }

  LedgerContents contents;
  Status read_status;
  RecoveryReport report;
  Status append_status;
  int reads = 0;
  int reverts = 0;
  std::vector<nlohmann::json> appended;
  std::vector<std::string> logged;
};

// An outstanding fault whose deadline is `at_ms` after the fake clock's wall epoch.
LedgerContents::Entry Outstanding(FakeClock& clock, long long at_ms) {
  LedgerContents::Entry e;
  e.id = 1;
  e.undo.fault_type = "process_pause";
  e.undo.fault_name = "pause-one";
  e.undo.target = "pid 42 (sleep)";
  e.undo.deadline_ms =
      std::chrono::duration_cast<milliseconds>(clock.Now().time_since_epoch()).count() + at_ms;
  return e;
}

class WatchdogLoopTest : public ::testing::Test {
 protected:
  WatchdogLoop Loop(RunnerLink& link, WatchdogLoopOptions options = {}) {
    if (options.self_pid == 0) options.self_pid = 7;
    return WatchdogLoop(options, clock_, link, effects_, processes_);
  }
  static WatchdogLoopOptions Grace(long long ms) {
    WatchdogLoopOptions o;
    o.grace = milliseconds(ms);
    return o;
  }

  FakeClock clock_;
  RecordingEffects effects_;
  FakeProcessTable processes_;
};

TEST_F(WatchdogLoopTest, ExitsQuietlyWhenTheRunnerFinishes) {
  ScriptedLink link(clock_, [](long long t) {
    return t < 300 ? Beat() : RunnerNews{Kind::kFinished, {}, ""};
  });
  auto watched = Loop(link).Watch();
  EXPECT_TRUE(watched.finished);
  EXPECT_EQ(watched.reason, "");
  EXPECT_EQ(clock_.ElapsedMs(), 300);
  EXPECT_EQ(effects_.logged, std::vector<std::string>{"the runner finished; exiting"});
  EXPECT_EQ(effects_.reverts, 0);
}

TEST_F(WatchdogLoopTest, ActsOnceNoHeartbeatCameForLongerThanTheGrace) {
  // Beats until 500 ms, then silence: at 1500 ms it is exactly the grace, at 1600 ms longer.
  ScriptedLink link(clock_, [](long long t) { return t <= 500 ? Beat() : RunnerNews{}; });
  auto watched = Loop(link, Grace(1000)).Watch();
  EXPECT_FALSE(watched.finished);
  EXPECT_EQ(watched.reason, "no heartbeat from the runner for longer than the grace (1s)");
  EXPECT_EQ(clock_.ElapsedMs(), 1600);
}

TEST_F(WatchdogLoopTest, SteadyHeartbeatsKeepItWatching) {
  ScriptedLink link(clock_, [](long long t) {
    return t < 10000 ? Beat() : RunnerNews{Kind::kFinished, {}, ""};
  });
  EXPECT_TRUE(Loop(link, Grace(200)).Watch().finished);
  EXPECT_EQ(clock_.ElapsedMs(), 10000);
  EXPECT_EQ(link.calls, 100);  // one look per period
}

TEST_F(WatchdogLoopTest, AHeartbeatsAgeCountsFromWhenItWasWritten) {
  // A heartbeat file last touched at 0 ms, read later: its age grows with the clock.
  ScriptedLink link(clock_, [](long long t) { return Beat(t); });
  auto watched = Loop(link, Grace(1000)).Watch();
  EXPECT_EQ(watched.reason, "no heartbeat from the runner for longer than the grace (1s)");
  EXPECT_EQ(clock_.ElapsedMs(), 1100);
}

TEST_F(WatchdogLoopTest, ActsAtOnceWhenTheRunnerIsGone) {
  ScriptedLink link(clock_, [](long long t) {
    return t < 200 ? Beat() : RunnerNews{Kind::kGone, {}, "the runner is gone (test)"};
  });
  auto watched = Loop(link).Watch();
  EXPECT_EQ(watched.reason, "the runner is gone (test)");
  EXPECT_EQ(clock_.ElapsedMs(), 200);
}

TEST_F(WatchdogLoopTest, ActsOnTheFirstLookAfterAFaultsDeadline) {
  effects_.contents.entries.push_back(Outstanding(clock_, 350));
  ScriptedLink link(clock_, [](long long) { return Beat(); });
  auto watched = Loop(link).Watch();
  EXPECT_EQ(watched.reason, "the deadline of pause-one on pid 42 (sleep) passed");
  EXPECT_EQ(clock_.ElapsedMs(), 400);
}

TEST_F(WatchdogLoopTest, ARevertedFaultsDeadlineDoesNotCount) {
  effects_.contents.entries.push_back(Outstanding(clock_, 50));
  effects_.contents.entries.back().reverted = true;
  ScriptedLink link(clock_, [](long long t) {
    return t < 1000 ? Beat() : RunnerNews{Kind::kFinished, {}, ""};
  });
  EXPECT_TRUE(Loop(link).Watch().finished);
}

TEST_F(WatchdogLoopTest, TheEndRecordFinishesTheHostSideWatch) {
  WatchdogLoopOptions host;
  host.end_record_finishes = true;
  effects_.contents.end = {{"type", "end"}};
  ScriptedLink link(clock_, [](long long) { return Beat(); });
  EXPECT_TRUE(Loop(link, host).Watch().finished);
  EXPECT_EQ(effects_.logged,
            std::vector<std::string>{"the run ended with nothing outstanding; exiting"});

  effects_.contents.entries.push_back(Outstanding(clock_, 60000));
  EXPECT_EQ(Loop(link, host).Watch().reason,
            "the run ended with faults still outstanding on this host");
}

TEST_F(WatchdogLoopTest, TheLocalWatchIgnoresTheEndRecord) {
  effects_.contents.end = {{"type", "end"}};
  ScriptedLink link(clock_, [](long long t) {
    return t < 500 ? Beat() : RunnerNews{Kind::kFinished, {}, ""};
  });
  EXPECT_TRUE(Loop(link).Watch().finished);
  EXPECT_EQ(clock_.ElapsedMs(), 500);
}

TEST_F(WatchdogLoopTest, AnUnreadableLedgerActsOnlyWhereItIsAllThereIs) {
  effects_.read_status =
      Status::Error(StatusCode::kPermission, "ledger L: is a symbolic link; not followed");
  ScriptedLink beats(clock_, [](long long) { return Beat(); });
  WatchdogLoopOptions host;
  host.unreadable_ledger_acts = true;
  EXPECT_EQ(Loop(beats, host).Watch().reason,
            "the ledger cannot be read: ledger L: is a symbolic link; not followed");

  // The local watchdog keeps watching: its heartbeats still judge the runner.
  const long long t0 = clock_.ElapsedMs();
  ScriptedLink silence(clock_, [t0](long long t) { return t - t0 <= 300 ? Beat() : RunnerNews{}; });
  EXPECT_EQ(Loop(silence, Grace(1000)).Watch().reason,
            "no heartbeat from the runner for longer than the grace (1s)");
  EXPECT_EQ(clock_.ElapsedMs() - t0, 1400);
}

TEST_F(WatchdogLoopTest, ActRevertsRecordsAndStopsALiveRunner) {
  processes_.Add(42, "ringfence", "ringfence run x.json", 0, 4200);
  effects_.contents.run = {{"run_id", "r1"}, {"runner_pid", 42}, {"runner_start_ticks", 4200}};
  effects_.report.actions = {"reverted pause-one (process_pause) on pid 43 (sleep)"};
  ScriptedLink link(clock_, [](long long) { return RunnerNews{}; });
  EXPECT_EQ(Loop(link).Act("the deadline of pause-one on pid 43 (sleep) passed"), 0);
  EXPECT_EQ(effects_.reverts, 1);
  ASSERT_EQ(effects_.appended.size(), 1u);
  EXPECT_EQ(effects_.appended[0],
            (nlohmann::json{{"type", "watchdog"},
                            {"event", "reverted"},
                            {"reason", "the deadline of pause-one on pid 43 (sleep) passed"},
                            {"ok", true},
                            {"pid", 7}}));
  EXPECT_EQ(processes_.signals(), (std::vector<FakeProcessTable::SignalCall>{{42, 4200, SIGTERM}}));
  EXPECT_EQ(effects_.logged,
            (std::vector<std::string>{"acting: the deadline of pause-one on pid 43 (sleep) passed",
                                      "reverted pause-one (process_pause) on pid 43 (sleep)",
                                      "stopping the runner (pid 42) with SIGTERM"}));
}

TEST_F(WatchdogLoopTest, ActLogsEveryFailedAppendAndSignal) {
  processes_.Add(42, "ringfence", "ringfence run x.json", 0, 4200);
  processes_.FailSignals(42, Status::Error(StatusCode::kPermission,
                                           "send SIGTERM to pid 42: Operation not permitted"));
  effects_.contents.run = {{"runner_pid", 42}, {"runner_start_ticks", 4200}};
  effects_.append_status = Status::Runtime("ledger L: No space left on device");
  effects_.report.left = {"pause-one on pid 43: kill -CONT 43"};
  ScriptedLink link(clock_, [](long long) { return RunnerNews{}; });
  EXPECT_EQ(Loop(link).Act("the runner is gone (test)"), 4);
  EXPECT_EQ(effects_.logged,
            (std::vector<std::string>{
                "acting: the runner is gone (test)", "LEFT: pause-one on pid 43: kill -CONT 43",
                "cannot record the revert: ledger L: No space left on device",
                "stopping the runner (pid 42) with SIGTERM",
                "cannot stop the runner (pid 42): send SIGTERM to pid 42: Operation not "
                "permitted"}));
  EXPECT_EQ(effects_.appended.at(0)["ok"], false);
}

TEST_F(WatchdogLoopTest, ActLeavesAProcessThatIsNoLongerTheRunnerAlone) {
  processes_.Add(42, "other", "", 0, 9999);  // the runner's pid, reused
  processes_.Add(43, "zombie", "", 0, 4300, 'Z');
  effects_.contents.run = {{"runner_pid", 42}, {"runner_start_ticks", 4200}};
  ScriptedLink link(clock_, [](long long) { return RunnerNews{}; });
  EXPECT_EQ(Loop(link).Act("x"), 0);
  effects_.contents.run = {{"runner_pid", 43}, {"runner_start_ticks", 4300}};
  EXPECT_EQ(Loop(link).Act("x"), 0);
  effects_.contents.run = {{"host", "h1"}};  // a host ledger names no runner
  EXPECT_EQ(Loop(link).Act("x"), 0);
  EXPECT_TRUE(processes_.signals().empty());
}

TEST_F(WatchdogLoopTest, ActLogsALedgerItCannotReadToFindTheRunner) {
  effects_.read_status = Status::NotFound("ledger L: gone");
  ScriptedLink link(clock_, [](long long) { return RunnerNews{}; });
  EXPECT_EQ(Loop(link).Act("x"), 0);
  EXPECT_EQ(effects_.logged.back(), "cannot read the ledger to stop its runner: ledger L: gone");
}

}  // namespace
}  // namespace ringfence
