// `ringfence scheduler`, `schedule install/uninstall` and the history, end to end with the real
// binary: runs are child `ringfence run` processes; what happened is read from the history
// database, the sleeping children's state and the exit codes, never from timing.

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <regex>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/history/sqlite_history.h"
#include "core/observe/metric_text.h"
#include "core/sys/http_client.h"
#include "core/sys/run_command.h"
#include "tests/support/processes.h"
#include "tests/support/prometheus_server.h"

namespace ringfence::testing {
namespace {

std::string WaitExperiment(const std::string& title, const std::string& duration) {
  return nlohmann::json(
             {{"version", 1},
              {"title", title},
              // The wait lasts only when a step follows it.
              {"method",
               {{{"type", "wait"}, {"duration", duration}},
                {{"type", "probe"}, {"probe", {{"type", "command"}, {"argv", {"true"}}}}}}},
              {"guards", nlohmann::json::array()}})
      .dump();
}

std::string PauseExperiment(const std::string& regex, const std::string& duration) {
  return nlohmann::json(
             {{"version", 1},
              {"title", "pause the sleepers"},
              {"targets", {{"sleepers", {{"process", {{"cmdline", regex}}}, {"select", "all"}}}}},
              {"method",
               {{{"type", "process_pause"}, {"target", "sleepers"}, {"duration", duration}}}},
              {"guards", nlohmann::json::array()}})
      .dump();
}

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override { ::mkdir(dir_.File("state").c_str(), 0700); }

  std::unique_ptr<ChildRun> Scheduler(const std::string& entries,
                                      std::vector<std::string> extra = {}) {
    dir_.Write("schedule.json", R"({"version": 1, "entries": )" + entries + "}");
    std::vector<std::string> argv = {RINGFENCE_BINARY, "scheduler", dir_.File("schedule.json"),
                                     "--state-dir", dir_.File("state")};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return std::make_unique<ChildRun>(argv, dir_.path());
  }

  std::vector<RunRecord> History() {
    auto history = OpenSqliteHistory(dir_.File("state/history.db"));
    if (!history.ok()) return {};
    auto runs = (*history)->Query({});
    return runs.ok() ? *runs : std::vector<RunRecord>{};
  }

  size_t Count(const std::string& status) {
    size_t n = 0;
    for (const auto& r : History()) n += r.status == status;
    return n;
  }

  TempDir dir_;
};

TEST_F(SchedulerTest, RunsEveryTwoSecondsNeverOverlapping) {
  dir_.Write("quick.json", WaitExperiment("quick", "100ms"));
  auto scheduler =
      Scheduler(R"([{"name": "tick", "experiment": "quick.json", "calendar": "*:*:0/2"}])",
                {"--metrics-listen", "127.0.0.1:0"});
  ASSERT_TRUE(Eventually([&] { return Count("passed") >= 3; }, std::chrono::seconds(20)))
      << scheduler->err();
  const std::smatch port = [&] {
    std::smatch m;
    static std::string err;
    err = scheduler->err();
    std::regex_search(err, m, std::regex("metrics on http://127.0.0.1:(\\d+)/metrics"));
    return m;
  }();
  ASSERT_EQ(port.size(), 2u);
  auto metrics = HttpGet("http://127.0.0.1:" + port[1].str() + "/metrics", std::chrono::seconds(5));
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->body.find("ringfence_schedule_runs_total{entry=\"tick\",status=\"passed\"}"),
            std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("ringfence_schedule_next_run_timestamp_seconds{entry=\"tick\"}"),
            std::string::npos);
  EXPECT_NE(metrics->body.find("ringfence_schedule_consecutive_failures{entry=\"tick\"} 0"),
            std::string::npos);
  scheduler->Signal(SIGTERM);
  EXPECT_EQ(scheduler->Wait(), 143) << scheduler->err();
  std::vector<RunRecord> runs;
  for (const auto& r : History()) {
    EXPECT_EQ(r.entry, "tick");
    EXPECT_EQ(r.title, "quick");
    if (r.status != "skipped") runs.push_back(r);  // a loaded machine may make a run slow
  }
  ASSERT_GE(runs.size(), 3u);
  for (size_t i = 0; i < runs.size(); ++i) {
    EXPECT_EQ(runs[i].trigger, "scheduled");
    EXPECT_EQ(runs[i].file_hash.size(), 64u);
    if (i > 0) {
      EXPECT_GE(runs[i].started_ms, runs[i - 1].ended_ms) << "runs overlap";
    }
  }
}

TEST_F(SchedulerTest, ASlowRunMakesTheNextOneSkippedOverlap) {
  dir_.Write("slow.json", WaitExperiment("slow", "3s"));
  auto scheduler =
      Scheduler(R"([{"name": "slow", "experiment": "slow.json", "calendar": "*:*:0/2"}])");
  ASSERT_TRUE(Eventually([&] { return Count("skipped") >= 1 && Count("passed") >= 1; },
                         std::chrono::seconds(20)))
      << scheduler->err();
  scheduler->Signal(SIGTERM);
  scheduler->Wait();
  for (const auto& r : History()) {
    if (r.status == "skipped") {
      EXPECT_EQ(r.reason, "overlap: slow was running");
    }
  }
  EXPECT_NE(scheduler->err().find("entry slow: skipped: overlap (slow is still running)"),
            std::string::npos);
}

// A run by hand holds the state dir's lock: the scheduled run due meanwhile cannot start, and is
// recorded as skipped (with why), not lost. The run by hand that is refused is not recorded.
TEST_F(SchedulerTest, ARunRefusedByTheHeldLockIsRecordedSkipped) {
  dir_.Write("quick.json", WaitExperiment("quick", "10ms"));
  // The lock another run would hold (this test holds it).
  const int fd = ::open(dir_.File("state/run.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  ChildRun by_hand({RINGFENCE_BINARY, "run", dir_.File("quick.json"), "--state-dir",
                    dir_.File("state"), "--journal", dir_.File("j.json")},
                   dir_.path());
  EXPECT_EQ(by_hand.Wait(), 3);
  EXPECT_TRUE(History().empty());
  auto scheduler =
      Scheduler(R"([{"name": "quick", "experiment": "quick.json", "calendar": "*:*:0/2"}])");
  ASSERT_TRUE(Eventually([&] { return Count("skipped") >= 1; }, std::chrono::seconds(20)))
      << scheduler->err();
  scheduler->Signal(SIGTERM);
  scheduler->Wait();
  ::close(fd);
  EXPECT_EQ(Count("passed"), 0u);
  for (const auto& r : History()) {
    EXPECT_EQ(r.status, "skipped");
    EXPECT_EQ(r.reason, "overlap: another run is active on state dir " + dir_.File("state") +
                            " (its lock is held)");
    EXPECT_EQ(r.title, "quick");
    EXPECT_EQ(r.trigger, "scheduled");
    EXPECT_EQ(r.entry, "quick");
    EXPECT_EQ(r.run_id.rfind("skip-quick-", 0), 0u) << r.run_id;
  }
}

// `concurrency: allow`: two entries whose runs outlast their interval run at once, each pausing
// its own sleepers; seen from outside, both groups are stopped at the same moment, and nothing
// is skipped.
TEST_F(SchedulerTest, ConcurrencyAllowRunsTwoAtOnce) {
  SleepChildren first(1), second(1);
  dir_.Write("a.json", PauseExperiment(first.cmdline_regex(), "3s"));
  dir_.Write("b.json", PauseExperiment(second.cmdline_regex(), "3s"));
  dir_.Write("schedule.json", R"({"version": 1, "concurrency": "allow", "entries": [
    {"name": "a", "experiment": "a.json", "calendar": "*:*:0/2"},
    {"name": "b", "experiment": "b.json", "calendar": "*:*:0/2"}]})");
  ChildRun scheduler({RINGFENCE_BINARY, "scheduler", dir_.File("schedule.json"), "--state-dir",
                      dir_.File("state")},
                     dir_.path());
  auto stopped = [](const SleepChildren& c) { return SleepChildren::State(c.pids()[0]) == 'T'; };
  EXPECT_TRUE(
      Eventually([&] { return stopped(first) && stopped(second); }, std::chrono::seconds(20)))
      << scheduler.err();
  scheduler.Signal(SIGTERM);
  scheduler.Wait();
  EXPECT_FALSE(stopped(first));
  EXPECT_FALSE(stopped(second));
  EXPECT_EQ(Count("skipped"), 0u);
  EXPECT_EQ(scheduler.err().find("skipped: overlap"), std::string::npos) << scheduler.err();
}

// `scheduler --pushgateway URL` pushes each run's result to a real Pushgateway (Debian's
// prometheus-pushgateway): the metrics of the run are there once it is recorded.
TEST_F(SchedulerTest, PushgatewayGetsEachRunsResult) {
  Result<std::unique_ptr<PushgatewayServer>> gateway = PushgatewayServer::Start();
  ASSERT_TRUE(gateway.ok()) << gateway.status().message();
  dir_.Write("quick.json", WaitExperiment("quick", "10ms"));
  auto scheduler =
      Scheduler(R"([{"name": "quick", "experiment": "quick.json", "calendar": "*:*:0/2"}])",
                {"--pushgateway", (*gateway)->url()});
  // Read before the scheduler stops (a run it interrupts pushes its own result).
  std::map<std::string, MetricSample> ours;
  ASSERT_TRUE(Eventually(
      [&] {
        Result<MetricExposition> pushed = ParseMetricText((*gateway)->Metrics());
        if (!pushed.ok()) return false;
        ours.clear();
        for (const auto& s : pushed->samples) {
          if (s.name.rfind("ringfence_last_run_", 0) == 0) ours[s.name] = s;
        }
        return ours.count("ringfence_last_run_success") == 1 &&
               ours["ringfence_last_run_success"].value == 1;
      },
      std::chrono::seconds(20)))
      << scheduler->err() << (*gateway)->Metrics();
  scheduler->Signal(SIGTERM);
  scheduler->Wait();
  ASSERT_EQ(ours.count("ringfence_last_run_status"), 1u);
  EXPECT_EQ(ours["ringfence_last_run_status"].labels.at("status"), "passed");
  EXPECT_EQ(ours["ringfence_last_run_status"].labels.at("title"), "quick");
  EXPECT_EQ(ours["ringfence_last_run_status"].labels.at("job"), "ringfence");
  EXPECT_GE(Count("passed"), 1u);
}

TEST_F(SchedulerTest, SigtermLetsTheRunRevertThenExits) {
  SleepChildren sleepers(2);
  dir_.Write("pause.json", PauseExperiment(sleepers.cmdline_regex(), "30s"));
  auto scheduler =
      Scheduler(R"([{"name": "pause", "experiment": "pause.json", "calendar": "*:*:0/2"}])");
  ASSERT_TRUE(Eventually([&] { return SleepChildren::State(sleepers.pids()[0]) == 'T'; },
                         std::chrono::seconds(20)))
      << scheduler->err();
  scheduler->Signal(SIGTERM);
  EXPECT_EQ(scheduler->Wait(), 143) << scheduler->err();
  for (pid_t pid : sleepers.pids()) EXPECT_NE(SleepChildren::State(pid), 'T');
  std::vector<RunRecord> runs;
  for (const auto& r : History()) {
    if (r.status != "skipped") runs.push_back(r);  // the dues while it ran: overlap
  }
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].status, "interrupted");
  EXPECT_EQ(runs[0].exit_code, 143);
  EXPECT_EQ(runs[0].entry, "pause");
  EXPECT_NE(scheduler->err().find("letting 1 run(s) revert and finish before exiting"),
            std::string::npos);
}

TEST_F(SchedulerTest, ARunPastItsTimeoutIsStoppedThroughItsRevert) {
  SleepChildren sleepers(1);
  dir_.Write("pause.json", PauseExperiment(sleepers.cmdline_regex(), "30s"));
  auto scheduler = Scheduler(
      R"([{"name": "late", "experiment": "pause.json", "calendar": "*:*:0/5", "timeout": "2s"}])");
  ASSERT_TRUE(Eventually([&] { return Count("interrupted") >= 1; }, std::chrono::seconds(30)))
      << scheduler->err();
  EXPECT_NE(SleepChildren::State(sleepers.pids()[0]), 'T');
  EXPECT_NE(scheduler->err().find("entry late: timeout 2s passed: stopping the run (SIGTERM); it "
                                  "reverts"),
            std::string::npos);
  scheduler->Signal(SIGTERM);
  scheduler->Wait();
}

// A run recorded long ago: the scheduler was not running when the next ones were due.
void SeedOldRun(const std::string& db, const std::string& entry) {
  auto history = OpenSqliteHistory(db);
  ASSERT_TRUE(history.ok());
  RunRecord r;
  r.run_id = "old";
  r.title = "quick";
  r.started_ms = r.ended_ms = 1577836800000;  // 2020-01-01
  r.status = "passed";
  r.trigger = "scheduled";
  r.entry = entry;
  ASSERT_TRUE((*history)->Record(r).ok());
}

TEST_F(SchedulerTest, MissedRunsRunOnceWhenAsked) {
  dir_.Write("quick.json", WaitExperiment("quick", "100ms"));
  SeedOldRun(dir_.File("state/history.db"), "yearly");
  auto scheduler = Scheduler(R"([{"name": "yearly", "experiment": "quick.json",
      "calendar": "*-01-01 00:00", "on_missed": "run_once"}])");
  ASSERT_TRUE(Eventually([&] { return History().size() == 2; }, std::chrono::seconds(20)))
      << scheduler->err();
  const auto runs = History();
  EXPECT_EQ(runs.back().trigger, "missed");
  EXPECT_EQ(runs.back().status, "passed");
  scheduler->Signal(SIGTERM);
  scheduler->Wait();
  EXPECT_EQ(History().size(), 2u);  // once, not once per missed year
}

TEST_F(SchedulerTest, MissedRunsAreSkippedByDefault) {
  dir_.Write("quick.json", WaitExperiment("quick", "100ms"));
  SeedOldRun(dir_.File("state/history.db"), "yearly");
  auto scheduler = Scheduler(R"([{"name": "yearly", "experiment": "quick.json",
      "calendar": "*-01-01 00:00"}])");
  ASSERT_TRUE(Eventually([&] {
    return scheduler->err().find("entry yearly: next run at") != std::string::npos;
  })) << scheduler->err();
  EXPECT_NE(scheduler->err().find("on_missed skip: not run"), std::string::npos);
  scheduler->Signal(SIGTERM);
  EXPECT_EQ(scheduler->Wait(), 143);
  EXPECT_EQ(History().size(), 1u);
}

TEST_F(SchedulerTest, AnInvalidScheduleSchedulesNothing) {
  dir_.Write("quick.json", WaitExperiment("quick", "100ms"));
  auto scheduler =
      Scheduler(R"([{"name": "x", "experiment": "quick.json", "calendar": "Mon..Fry"}])");
  EXPECT_EQ(scheduler->Wait(), 2);
  EXPECT_EQ(scheduler->err(),
            dir_.File("schedule.json") +
                ": /entries/0/calendar: \"Mon..Fry\": a systemd calendar expression such as "
                "\"Mon..Fri 10:00\" (unknown weekday \"Fry\")\n1 error; nothing was scheduled\n");
  EXPECT_FALSE(std::filesystem::exists(dir_.File("state/history.db")));
}

TEST_F(SchedulerTest, EveryRunByHandIsRecordedAndAFailureToRecordChangesNothing) {
  dir_.Write("quick.json", WaitExperiment("quick", "100ms"));
  ChildRun run({RINGFENCE_BINARY, "run", dir_.File("quick.json"), "--state-dir", dir_.File("state"),
                "--journal", dir_.File("j.json")},
               dir_.path());
  ASSERT_EQ(run.Wait(), 0) << run.err();
  auto runs = History();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].trigger, "manual");
  EXPECT_EQ(runs[0].status, "passed");
  EXPECT_EQ(runs[0].journal, dir_.File("j.json"));
  ChildRun json({RINGFENCE_BINARY, "history", "--json", "--state-dir", dir_.File("state")},
                dir_.path());
  ASSERT_EQ(json.Wait(), 0) << json.err();
  const auto doc = nlohmann::json::parse(json.out());
  EXPECT_EQ(doc["experiments"][0]["title"], "quick");
  EXPECT_EQ(doc["experiments"][0]["score"], 100);

  // A history that cannot be written: the run's verdict and exit code stay what they are.
  std::filesystem::remove(dir_.File("state/history.db"));
  std::filesystem::remove(dir_.File("state/history.db-wal"));
  std::filesystem::remove(dir_.File("state/history.db-shm"));
  std::filesystem::create_directory(dir_.File("state/history.db"));
  ChildRun again({RINGFENCE_BINARY, "run", dir_.File("quick.json"), "--state-dir",
                  dir_.File("state"), "--journal", dir_.File("j2.json")},
                 dir_.path());
  EXPECT_EQ(again.Wait(), 0) << again.err();
  EXPECT_NE(again.out().find("verdict: passed (exit 0)"), std::string::npos);
  EXPECT_NE(again.err().find("not recorded in the history"), std::string::npos) << again.err();
}

TEST_F(SchedulerTest, InstalledUnitsPassSystemdVerifyAndUninstallRemovesExactlyThem) {
  dir_.Write("quick.json", WaitExperiment("quick", "100ms"));
  dir_.Write("schedule.json", R"({"version": 1, "time_zone": "Europe/Berlin", "entries": [
      {"name": "gd", "experiment": "quick.json", "calendar": "Mon..Fri 10:00",
       "vars": {"port": "80 80%$x"}, "window": {"days": "Mon..Fri", "hours": "09:00-15:00"},
       "jitter": "5m", "timeout": "10m", "on_missed": "run_once"},
      {"name": "nightly", "experiment": "quick.json", "calendar": "daily"}]})");
  const std::string units = dir_.File("units");
  std::filesystem::create_directory(units);
  dir_.Write("units/someone-else.service", "[Service]\nExecStart=/bin/true\n");
  ChildRun install({RINGFENCE_BINARY, "schedule", "install", dir_.File("schedule.json"),
                    "--unit-dir", units, "--state-dir", dir_.File("state")},
                   dir_.path());
  ASSERT_EQ(install.Wait(), 0) << install.err();
  for (const char* name : {"gd", "nightly"}) {
    const std::string base = units + "/ringfence-" + std::string(name);
    auto verify = RunCommand({"systemd-analyze", "verify", base + ".service", base + ".timer"},
                             std::chrono::seconds(30));
    ASSERT_TRUE(verify.ok());
    EXPECT_EQ(verify->exit_code, 0) << verify->err;
    EXPECT_EQ(verify->err, "");
  }
  const std::string timer = ReadFile(units + "/ringfence-gd.timer");
  EXPECT_NE(timer.find("OnCalendar=Mon..Fri 10:00 Europe/Berlin\n"), std::string::npos);
  EXPECT_NE(timer.find("RandomizedDelaySec=300s\n"), std::string::npos);
  EXPECT_NE(timer.find("Persistent=true\n"), std::string::npos);
  const std::string service = ReadFile(units + "/ringfence-gd.service");
  EXPECT_NE(service.find("TimeoutStartSec=600s\n"), std::string::npos);
  // Only ringfence is signalled: a run's watchdog outlives a ringfence that died, to revert.
  EXPECT_NE(service.find("KillMode=process\n"), std::string::npos) << service;
  EXPECT_NE(service.find("\"port=80 80%%$$x\""), std::string::npos) << service;
  EXPECT_NE(service.find("ExecCondition="), std::string::npos);

  ChildRun uninstall({RINGFENCE_BINARY, "schedule", "uninstall", "--unit-dir", units}, dir_.path());
  ASSERT_EQ(uninstall.Wait(), 0) << uninstall.err();
  std::vector<std::string> left;
  for (const auto& e : std::filesystem::directory_iterator(units)) {
    left.push_back(e.path().filename());
  }
  EXPECT_EQ(left, std::vector<std::string>{"someone-else.service"});
}

TEST_F(SchedulerTest, UninstallKeepsAUnitChangedSinceItWasWritten) {
  dir_.Write("quick.json", WaitExperiment("quick", "100ms"));
  dir_.Write("schedule.json", R"({"version": 1, "entries": [
      {"name": "nightly", "experiment": "quick.json", "calendar": "daily"}]})");
  const std::string units = dir_.File("units");
  ChildRun install(
      {RINGFENCE_BINARY, "schedule", "install", dir_.File("schedule.json"), "--unit-dir", units},
      dir_.path());
  ASSERT_EQ(install.Wait(), 0) << install.err();
  dir_.Write("units/ringfence-nightly.timer", "[Timer]\nOnCalendar=hourly\n");
  ChildRun uninstall({RINGFENCE_BINARY, "schedule", "uninstall", "--unit-dir", units}, dir_.path());
  EXPECT_EQ(uninstall.Wait(), 3);
  EXPECT_EQ(uninstall.err(), "ringfence schedule uninstall: " + units +
                                 "/ringfence-nightly.timer changed since it was installed; kept\n");
  EXPECT_FALSE(std::filesystem::exists(units + "/ringfence-nightly.service"));
  EXPECT_TRUE(std::filesystem::exists(units + "/ringfence-nightly.timer"));
}

}  // namespace
}  // namespace ringfence::testing
