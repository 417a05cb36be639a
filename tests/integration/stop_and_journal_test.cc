// Issue 11, points 6, 7 and 10 through the real binary:
//  - a signal during a long probe (an HTTP server that never answers, a `sleep` command) cuts it
//    short, the revert runs and the runner exits 143;
//  - the journal is on disk while the run goes: after SIGKILL it is marked incomplete and holds
//    the guard samples so far (every one of them in the event log beside it), `status` points at
//    it; a normal run's journal is complete, with every sample;
//  - `observed_after_revert` is the fault's observation once it was reverted.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/base/clock.h"
#include "core/base/process_table.h"
#include "core/sys/http_client.h"
#include "core/sys/run_command.h"
#include "tests/support/chaos.h"
#include "tests/support/processes.h"

namespace ringfence::testing {
namespace {

using nlohmann::json;
using std::chrono::seconds;

// A TCP server on 127.0.0.1 that accepts connections and never says a word.
class SilentServer {
 public:
  SilentServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "silent server: " << std::strerror(errno);
      return;
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      while (true) {
        int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) return;  // shut down
        accepted_.fetch_add(1);
        held_.push_back(c);
      }
    });
  }
  ~SilentServer() {
    ::shutdown(fd_, SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
    for (int c : held_) ::close(c);
  }
  int port() const { return port_; }
  int accepted() const { return accepted_.load(); }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::atomic<int> accepted_{0};
  std::vector<int> held_;  // only the accepting thread touches it until the join
  std::thread thread_;
};

class StopAndJournalTest : public ::testing::Test {
 protected:
  void TearDown() override {
    EXPECT_TRUE(Eventually([&] { return ProcessesMentioning(state()).empty(); }));
    for (pid_t p : ProcessesMentioning(state())) ::kill(p, SIGKILL);
  }
  std::string state() const { return dir_.File("state"); }
  std::string journal() const { return dir_.File("journal.json"); }
  std::vector<std::string> RunArgs(const std::string& file) const {
    return {RINGFENCE_BINARY, "run",   dir_.File(file),    "--journal", journal(),
            "--state-dir",    state(), "--watchdog-grace", "300ms"};
  }
  bool NoneStopped() const {
    return std::none_of(children_.pids().begin(), children_.pids().end(),
                        [](pid_t p) { return SleepChildren::State(p) == 'T'; });
  }
  bool AllStopped() const {
    return std::all_of(children_.pids().begin(), children_.pids().end(),
                       [](pid_t p) { return SleepChildren::State(p) == 'T'; });
  }
  // Pauses the children for `pause`, then runs `probe` as a method step; `guards` as given.
  std::string Experiment(const std::string& pause, const json& probe,
                         const json& guards = json::array()) const {
    json method = {
        {{"type", "process_pause"}, {"name", "pause"}, {"target", "sleepers"}, {"duration", pause}},
        {{"type", "wait"}, {"duration", "200ms"}}};
    if (!probe.is_null()) method.push_back(probe);
    json doc = {
        {"version", 1},
        {"title", "stop and journal"},
        {"targets", {{"sleepers", {{"process", {{"cmdline", children_.cmdline_regex()}}}}}}},
        {"method", method},
        {"guards", guards},
        {"settings", {{"max_fault_lifetime", "1h"}}}};
    return doc.dump(2);
  }
  json Journal() const { return json::parse(ReadFile(journal()), nullptr, false); }
  // The fault is in place and the journal's checkpoint holds at least 10 guard samples.
  bool PausedAndSampled() const {
    json j = Journal();
    return AllStopped() && !j.is_discarded() && j["guards"].is_array() && !j["guards"].empty() &&
           j["guards"][0]["samples"].size() >= 10;
  }
  static size_t SampleLines(const std::string& events) {
    std::ifstream in(events);
    std::string line;
    size_t n = 0;
    while (std::getline(in, line)) {
      n += line.find("\"event\":\"guard_sample\"") != std::string::npos;
    }
    return n;
  }

  SleepChildren children_{2};
  TempDir dir_;
};

// A 1000 s HTTP probe against a server that accepts and never answers: SIGTERM ends it at once,
// the paused processes are resumed, the journal says interrupted, exit 143.
TEST_F(StopAndJournalTest, SigtermInterruptsALongHttpProbeAndReverts) {
  SilentServer server;
  dir_.Write("http.json",
             Experiment("1000s",
                        {{"type", "probe"},
                         {"probe",
                          {{"type", "http"},
                           {"name", "silent"},
                           {"url", "http://127.0.0.1:" + std::to_string(server.port()) + "/health"},
                           {"timeout", "1000s"}}}}));
  ChildRun run(RunArgs("http.json"), dir_.path());
  ASSERT_TRUE(Eventually([&] { return AllStopped() && server.accepted() >= 1; })) << run.err();
  run.Signal(SIGTERM);
  EXPECT_EQ(run.Wait(seconds(10)), 143) << run.err();
  EXPECT_TRUE(NoneStopped());
  json j = Journal();
  ASSERT_FALSE(j.is_discarded()) << ReadFile(journal());
  EXPECT_EQ(j["status"], "interrupted");
  EXPECT_EQ(j["reason"], "interrupted by SIGTERM");
  EXPECT_EQ(j["incomplete"], false);
  EXPECT_EQ(j["reverted_cleanly"], true);
  ASSERT_EQ(j["method"].size(), 2u) << j["method"].dump();
  EXPECT_EQ(j["method"][1]["probe"]["detail"], "interrupted by SIGTERM");
  EXPECT_EQ(j["method"][1]["probe"]["met"], false);
}

// A `sleep 1000` command probe: SIGTERM kills its process group, the pause is reverted, 143.
TEST_F(StopAndJournalTest, SigtermInterruptsALongCommandProbeAndReverts) {
  const std::string marker = "987.654";  // a sleep no one else runs
  dir_.Write("cmd.json", Experiment("1000s", {{"type", "probe"},
                                              {"probe",
                                               {{"type", "command"},
                                                {"name", "slow"},
                                                {"argv", {"sleep", marker}},
                                                {"timeout", "1000s"}}}}));
  ChildRun run(RunArgs("cmd.json"), dir_.path());
  ASSERT_TRUE(Eventually([&] { return AllStopped() && CountProcesses("sleep 987\\.654$") == 1; }))
      << run.err();
  run.Signal(SIGTERM);
  EXPECT_EQ(run.Wait(seconds(10)), 143) << run.err();
  EXPECT_TRUE(NoneStopped());
  EXPECT_TRUE(Eventually([] { return CountProcesses("sleep 987\\.654$") == 0; }));
  json j = Journal();
  ASSERT_FALSE(j.is_discarded()) << ReadFile(journal());
  EXPECT_EQ(j["status"], "interrupted");
  EXPECT_EQ(j["method"][1]["probe"]["detail"], "interrupted by SIGTERM");
  EXPECT_EQ(j["reverted_cleanly"], true);
}

// A probe timeout beyond settings.max_fault_lifetime is refused before anything runs.
TEST_F(StopAndJournalTest, ProbeTimeoutAboveTheLifetimeIsInvalid) {
  dir_.Write(
      "long.json",
      Experiment("1s", {{"type", "probe"},
                        {"probe", {{"type", "command"}, {"argv", {"true"}}, {"timeout", "2h"}}}}));
  ChildRun run(RunArgs("long.json"), dir_.path());
  EXPECT_EQ(run.Wait(), 2);
  EXPECT_NE(run.err().find(dir_.File("long.json") + ": /method/2/probe/timeout: \"2h\": at most "
                                                    "settings.max_fault_lifetime (1h)"),
            std::string::npos)
      << run.err();
  EXPECT_TRUE(NoneStopped());
}

// RunCommand with a stop: the request kills the child's whole process group (a shell and the
// sleep it started), and the result says interrupted.
TEST(InterruptibleWaitsTest, AStopKillsACommandsProcessGroup) {
  StopSource stop;
  std::thread stopper([&] {
    Eventually([] { return CountProcesses("sleep 876\\.543$") == 1; });
    stop.RequestStop("SIGINT");
  });
  auto r = RunCommand({"sh", "-c", "sleep 876.543; echo after"}, seconds(1000), &stop);
  stopper.join();
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->interrupted);
  EXPECT_FALSE(r->timed_out);
  EXPECT_EQ(r->exit_code, -1);
  EXPECT_TRUE(Eventually([] { return CountProcesses("sleep 876\\.543$") == 0; }));
}

// HttpFetch with a stop, against a server that never answers: "interrupted by <reason>".
TEST(InterruptibleWaitsTest, AStopEndsAnHttpExchange) {
  SilentServer server;
  StopSource stop;
  std::thread stopper([&] {
    Eventually([&] { return server.accepted() >= 1; });
    stop.RequestStop("SIGTERM");
  });
  HttpRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/";
  request.timeout = std::chrono::hours(1);
  request.stop = &stop;
  Result<HttpResponse> r = HttpFetch(request);
  stopper.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "interrupted by SIGTERM");
  // Without a stop, the timeout still applies.
  request.stop = nullptr;
  request.timeout = std::chrono::milliseconds(200);
  r = HttpFetch(request);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kTimeout);
}

const json kSamplingGuard = {{{"name", "fraction"},
                              {"source", {{"type", "affected_fraction"}, {"target", "sleepers"}}},
                              {"condition", {{"max", 1}}},
                              {"interval", "50ms"}}};

// SIGKILL mid-run: the journal on disk is the last checkpoint, marked incomplete, with the guard
// samples taken so far; the event log beside it holds at least as many; `status` points at it.
TEST_F(StopAndJournalTest, SigkillLeavesAnIncompleteJournalWithTheSamples) {
  dir_.Write("soak.json", Experiment("60s", json(nullptr), kSamplingGuard));
  {
    ChildRun run(RunArgs("soak.json"), dir_.path());
    ASSERT_TRUE(Eventually([&] { return PausedAndSampled(); })) << run.err();
    run.Signal(SIGKILL);
    EXPECT_EQ(run.Wait(), 128 + SIGKILL);
  }
  // The watchdog reverts, then streams every sample of the event log into the checkpoint.
  EXPECT_TRUE(Eventually([&] { return NoneStopped(); }));
  ASSERT_TRUE(Eventually([&] { return ProcessesMentioning(state()).empty(); }));
  json j = Journal();
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["incomplete"], true);
  EXPECT_EQ(j["status"], "incomplete");
  EXPECT_EQ(j["journal_version"], 3);
  EXPECT_EQ(j["phase"], "method");
  EXPECT_EQ(j["events"], "journal.json.events");
  EXPECT_EQ(j["completed_after_crash"]["by"], "watchdog");
  ASSERT_EQ(j["faults"].size(), 1u);
  EXPECT_EQ(j["faults"][0]["targets"][0]["inject_ok"], true);
  // The runner died with the fault in place: the watchdog reverted it (journal v3).
  EXPECT_EQ(j["faults"][0]["targets"][0]["reverted_by"], "watchdog");
  const size_t in_journal = j["guards"][0]["samples"].size();
  EXPECT_GE(in_journal, 10u);
  EXPECT_GE(in_journal, j["guards"][0]["samples_total"].get<size_t>());  // the checkpoint's count
  EXPECT_EQ(in_journal, SampleLines(journal() + ".events"));  // every one up to the crash
  ChildRun status({RINGFENCE_BINARY, "status", "--state-dir", state()}, dir_.path());
  EXPECT_EQ(status.Wait(), 0);
  EXPECT_NE(status.out().find("journal: " + journal() + " (incomplete: the runner did not finish"),
            std::string::npos)
      << status.out();
}

// Runner and watchdog SIGKILLed together: nobody completed the checkpoint, so `recover` does —
// after reverting — with every sample of the event log, once (a second recover leaves it).
TEST_F(StopAndJournalTest, RecoverCompletesTheJournalWhenTheWatchdogDiedToo) {
  dir_.Write("soak.json", Experiment("60s", json(nullptr), kSamplingGuard));
  {
    ChildRun run(RunArgs("soak.json"), dir_.path());
    ASSERT_TRUE(Eventually([&] { return PausedAndSampled(); })) << run.err();
    // The watchdog first (its command line names the ledger under runs/), so that it cannot
    // revert between the two kills, then the runner.
    for (pid_t p : ProcessesMentioning(state() + "/runs/")) ::kill(p, SIGKILL);
    for (pid_t p : ProcessesMentioning(state())) ::kill(p, SIGKILL);
    run.Wait();
  }
  ASSERT_TRUE(Eventually([&] { return ProcessesMentioning(state()).empty(); }));
  EXPECT_TRUE(AllStopped());  // nobody reverted yet
  EXPECT_FALSE(Journal().contains("completed_after_crash"));
  ChildRun recover({RINGFENCE_BINARY, "recover", "--state-dir", state()}, dir_.path());
  EXPECT_EQ(recover.Wait(), 0) << recover.err();
  EXPECT_TRUE(NoneStopped());
  EXPECT_NE(
      recover.out().find("journal " + journal() + ": every guard sample of its event log added\n"),
      std::string::npos)
      << recover.out();
  json j = Journal();
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["incomplete"], true);
  EXPECT_EQ(j["completed_after_crash"]["by"], "recover");
  EXPECT_EQ(j["guards"][0]["samples"].size(), SampleLines(journal() + ".events"));
  ChildRun again({RINGFENCE_BINARY, "recover", "--state-dir", state()}, dir_.path());
  EXPECT_EQ(again.Wait(), 0) << again.err();
  EXPECT_EQ(again.out().find("journal "), std::string::npos) << again.out();
}

// A run that ends: the journal is complete, holds every sample the guard took, the event log is
// gone; observed (end of the window: all stopped) and observed_after_revert (none stopped).
TEST_F(StopAndJournalTest, AFinishedRunHasACompleteJournalWithEverySample) {
  dir_.Write("short.json", Experiment("1s", json(nullptr), kSamplingGuard));
  ChildRun run(RunArgs("short.json"), dir_.path());
  ASSERT_EQ(run.Wait(seconds(30)), 0) << run.err();
  json j = Journal();
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["incomplete"], false);
  EXPECT_EQ(j["status"], "passed");
  EXPECT_FALSE(j.contains("phase"));
  const json& g = j["guards"][0];
  EXPECT_GE(g["samples"].size(), 5u);
  EXPECT_EQ(g["samples"].size(), g["samples_total"].get<size_t>());
  EXPECT_EQ(g["samples_dropped"], 0);
  EXPECT_EQ(g["summary"]["verdicts"]["ok"].get<size_t>() +
                g["summary"]["verdicts"]["warming_up"].get<size_t>(),
            g["samples_total"].get<size_t>());
  EXPECT_TRUE(ReadFile(journal() + ".events").empty());  // removed
  const json& f = j["faults"][0];
  EXPECT_EQ(f["observed"]["stopped_now"].size(), 2u) << f.dump();
  EXPECT_EQ(f["observed_after_revert"]["stopped_now"].size(), 0u) << f.dump();
  EXPECT_EQ(f["observed_after_revert"]["paused"].size(), 2u) << f.dump();
  ChildRun status({RINGFENCE_BINARY, "status", "--state-dir", state()}, dir_.path());
  EXPECT_EQ(status.Wait(), 0);
  EXPECT_NE(status.out().find("journal: " + journal() + "\n"), std::string::npos) << status.out();
}

}  // namespace
}  // namespace ringfence::testing
