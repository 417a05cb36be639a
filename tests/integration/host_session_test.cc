// `ringfence host session` through the real line channel (the one the SSH executor runs `ssh`
// with), here started directly, without SSH: the actions answer as their one-shot commands do,
// and EOF ends the session without reverting anything (the host-side watchdog still judges).
#include <dirent.h>
#include <signal.h>

#include <algorithm>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/fleet/host_protocol.h"
#include "core/fleet/host_session.h"
#include "core/fleet/ssh_executor.h"
#include "core/ledger/file_ledger.h"
#include "core/sys/system_env.h"
#include "tests/support/processes.h"

namespace ringfence::testing {
namespace {

// Pids of processes whose command line mentions both `a` and `b`.
std::vector<pid_t> ProcessesWith(const std::string& a, const std::string& b) {
  std::vector<pid_t> out;
  DIR* d = ::opendir("/proc");
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
    std::string cmd = ReadFile(std::string("/proc/") + e->d_name + "/cmdline");
    std::replace(cmd.begin(), cmd.end(), '\0', ' ');
    if (cmd.find(a) != std::string::npos && cmd.find(b) != std::string::npos) {
      out.push_back(std::stoi(e->d_name));
    }
  }
  ::closedir(d);
  return out;
}

class HostSessionProcessTest : public ::testing::Test {
 protected:
  std::unique_ptr<HostSession> Open(const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {RINGFENCE_BINARY, "host", "session", "--state-dir",
                                     dir_.File("state")};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto opened = HostSession::Open(
        [&](const LineHandlers& handlers) { return transport_->Open(argv, handlers); });
    EXPECT_TRUE(opened.ok()) << opened.status().message();
    return opened.ok() ? std::move(*opened) : nullptr;
  }

  nlohmann::json Call(HostSession& s, const std::string& action, const nlohmann::json& request) {
    auto r = s.Call(action, request, std::chrono::seconds(20));
    EXPECT_TRUE(r.ok()) << action << ": " << r.status().message();
    return r.ok() ? *r : nlohmann::json();
  }

  void TearDown() override {
    if (sleepers_) {
      for (pid_t p : sleepers_->pids()) ::kill(p, SIGCONT);
    }
    EXPECT_TRUE(Eventually([&] { return ProcessesWith("ringfence", dir_.path()).empty(); }));
    for (pid_t p : ProcessesWith("ringfence", dir_.path())) ::kill(p, SIGKILL);
  }

  TempDir dir_;
  SystemEnv system_;
  std::unique_ptr<SshTransport> transport_ = MakeSshTransport(system_);
  std::unique_ptr<SleepChildren> sleepers_;
};

TEST_F(HostSessionProcessTest, AnswersManyRequestsOverOneCommandAndEndsOnEof) {
  auto session = Open({});
  ASSERT_TRUE(session);
  nlohmann::json version = Call(*session, "version", nlohmann::json::object());
  EXPECT_EQ(version["version"], RINGFENCE_VERSION);
  EXPECT_EQ(version["protocol"], kHostProtocolVersion);
  sleepers_ = std::make_unique<SleepChildren>(1);
  nlohmann::json match = Call(*session, "match", {{"selector", {{"pid", sleepers_->pids()[0]}}}});
  ASSERT_EQ(match["processes"].size(), 1u) << match.dump();
  EXPECT_EQ(match["processes"][0]["pid"], sleepers_->pids()[0]);
  // Errors are replies, word for word as the one-shot commands give them.
  EXPECT_EQ(StatusOfReply(Call(*session, "begin", nlohmann::json::object())).message(),
            "begin needs --run ID");
  EXPECT_EQ(StatusOfReply(Call(*session, "watchdog", nlohmann::json::object())).message(),
            "no action \"watchdog\" in a host session");
  EXPECT_EQ(ProcessesWith("host session", dir_.path()).size(), 1u);
  session->Close(std::chrono::seconds(5));
  EXPECT_TRUE(session->closed());
  EXPECT_TRUE(ProcessesWith("host session", dir_.path()).empty());
}

TEST_F(HostSessionProcessTest, EofRevertsNothingTheWatchdogStillJudges) {
  auto session = Open({"--run", "r1", "--grace", "3s"});
  ASSERT_TRUE(session);
  sleepers_ = std::make_unique<SleepChildren>(1);
  const pid_t pid = sleepers_->pids()[0];
  nlohmann::json match = Call(*session, "match", {{"selector", {{"pid", pid}}}});
  ASSERT_EQ(match["processes"].size(), 1u);
  Target target;
  target.host = "h0";
  target.label = "h0: pid " + std::to_string(pid) + " (sleep)";
  target.process = *ProcessInfoFromJson(match["processes"][0]);
  FaultStep step;
  step.name = "pause";
  step.type = "process_pause";
  step.target = "sleepers";
  step.params = nlohmann::json::object();
  step.duration = std::chrono::seconds(60);
  const nlohmann::json base = {{"host", "h0"}, {"step", FaultStepToJson(step)}};
  ASSERT_EQ(Call(*session, "begin", {{"title", "t"}, {"host", "h0"}})["ok"], true);
  ASSERT_EQ(Call(*session, "heartbeat", nlohmann::json::object())["ok"], true);
  nlohmann::json plan = base;
  plan["target"] = TargetToWire(target);
  nlohmann::json undo = Call(*session, "plan", plan)["undo"];
  nlohmann::json inject = plan;
  inject["undo"] = undo;
  nlohmann::json injected = Call(*session, "inject", inject);
  ASSERT_EQ(injected["ok"], true) << injected.dump();
  EXPECT_EQ(SleepChildren::State(pid), 'T');

  ASSERT_EQ(Call(*session, "heartbeat", nlohmann::json::object())["ok"], true);
  session->Close(std::chrono::seconds(5));  // EOF; the session has exited when this returns
  EXPECT_TRUE(ProcessesWith("host session", dir_.path()).empty());
  EXPECT_EQ(SleepChildren::State(pid), 'T');  // EOF reverted nothing
  // No heartbeat for longer than the grace: the watchdog reverts.
  EXPECT_TRUE(Eventually([&] { return SleepChildren::State(pid) != 'T'; }));
  auto ledgers = ListLedgers(dir_.File("state"));
  ASSERT_EQ(ledgers.size(), 1u);
  auto contents = ReadLedger(ledgers[0]);
  ASSERT_TRUE(contents.ok());
  ASSERT_EQ(contents->entries.size(), 1u);
  EXPECT_EQ(contents->entries[0].reverted_by, "host watchdog");
}

TEST_F(HostSessionProcessTest, ABegunSessionThatHearsNothingExitsByItself) {
  // Twice the grace and a second after its last line (a cut network: no EOF ever comes).
  auto session = Open({"--run", "r2", "--grace", "100ms"});
  ASSERT_TRUE(session);
  ASSERT_EQ(Call(*session, "begin", {{"title", "t"}, {"host", "h0"}})["ok"], true);
  ASSERT_TRUE(Eventually([&] { return session->closed(); }));
  auto after = session->Call("heartbeat", nlohmann::json::object(), std::chrono::seconds(1));
  EXPECT_EQ(after.status().message(),
            "the session ended: ringfence host session: nothing from the runner for 1200ms; "
            "exiting");
  EXPECT_TRUE(ProcessesWith("host session", dir_.path()).empty());
}

}  // namespace
}  // namespace ringfence::testing
