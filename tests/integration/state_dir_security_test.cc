// Hostile neighbours (docs/security.md): a state dir only its owner can write, ledgers only this
// installation wrote, and no secret value on disk. Unprivileged steps run as nobody (setpriv).
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <boost/crc.hpp>
#include <nlohmann/json.hpp>

#include "core/fleet/host_protocol.h"
#include "core/fleet/host_session.h"
#include "core/fleet/ssh_executor.h"
#include "core/ledger/file_ledger.h"
#include "core/ledger/state_dir.h"
#include "core/sys/system_env.h"
#include "tests/support/chaos.h"
#include "tests/support/processes.h"

namespace ringfence::testing {
namespace {

constexpr char kSetpriv[] = "/usr/bin/setpriv";

// A line of the old (version 1) format: a CRC-32 anyone can compute.
std::string CrcLine(const nlohmann::json& record) {
  const std::string json = record.dump();
  boost::crc_32_type crc;
  crc.process_bytes(json.data(), json.size());
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(crc.checksum()));
  return std::string(buf) + " " + json + "\n";
}

mode_t ModeOf(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0 ? st.st_mode & 07777 : 01000000;
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

class StateDirSecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // nobody must reach the files it is given (a TempDir is 0700).
    ASSERT_EQ(::chmod(dir_.path().c_str(), 0755), 0);
    dir_.Write("keep.txt", "keep me");
  }
  void TearDown() override {
    for (pid_t p : ProcessesMentioning(state())) ::kill(p, SIGKILL);
  }
  std::string state() const { return dir_.File("state"); }
  std::string marker() const { return dir_.File("marker"); }
  std::string keep() const { return dir_.File("keep.txt"); }

  // The two undo records of the issue: a restart command to run, a file to delete.
  std::vector<nlohmann::json> PlantedIntents(const std::string& marker_path) const {
    nlohmann::json kill = {{"fault_type", "process_kill"},
                           {"fault_name", "k"},
                           {"host", "local"},
                           {"target", "pid 999999 (gone)"},
                           {"manual_undo", "touch"},
                           {"deadline_ms", 0},
                           {"data",
                            {{"pid", 999999},
                             {"start_ticks", 1},
                             {"kill_time_ms", 0},
                             {"selector", {{"name", "no-such-process-rf"}}},
                             {"restart_command", {"/usr/bin/touch", marker_path}}}}};
    nlohmann::json fill = {{"fault_type", "disk_fill"},
                           {"fault_name", "d"},
                           {"host", "local"},
                           {"target", "fs"},
                           {"manual_undo", "rm"},
                           {"deadline_ms", 0},
                           {"data", {{"file", keep()}, {"path", dir_.path()}}}};
    return {{{"v", 1}, {"type", "intent"}, {"id", 1}, {"undo", kill}},
            {{"v", 1}, {"type", "intent"}, {"id", 2}, {"undo", fill}}};
  }

  int Ringfence(std::vector<std::string> args, std::string* out = nullptr,
                std::string* err = nullptr) {
    args.insert(args.begin(), RINGFENCE_BINARY);
    ChildRun run(args, dir_.path());
    int code = run.Wait();
    if (out) *out = run.out();
    if (err) *err = run.err();
    return code;
  }
  // `argv` as nobody, with no groups.
  int AsNobody(std::vector<std::string> argv) {
    argv.insert(argv.begin(), {kSetpriv, "--reuid=65534", "--regid=65534", "--clear-groups"});
    ChildRun run(argv, dir_.path());
    return run.Wait();
  }

  TempDir dir_;
};

// The issue's attack: a world-writable state dir (as umask 000 used to make it), a ledger planted
// by nobody with valid CRCs. Nothing in it is acted on: the state dir itself is refused.
TEST_F(StateDirSecurityTest, PlantedLedgerInAWorldWritableDirIsNotActedOn) {
  ASSERT_EQ(::mkdir(state().c_str(), 0777), 0);
  ASSERT_EQ(::chmod(state().c_str(), 0777), 0);
  std::string planted = CrcLine({{"v", 1}, {"type", "run"}, {"run_id", "x"}, {"title", "planted"}});
  for (const auto& r : PlantedIntents(marker())) planted += CrcLine(r);
  dir_.Write("planted.ledger", planted);
  ASSERT_EQ(AsNobody({"/bin/mkdir", "-m", "777", state() + "/runs"}), 0);
  ASSERT_EQ(AsNobody({"/bin/cp", dir_.File("planted.ledger"), state() + "/runs/x.ledger"}), 0);

  std::string out, err;
  EXPECT_EQ(Ringfence({"recover", "--state-dir", state()}, &out, &err), 3) << out << err;
  EXPECT_EQ(err, "ringfence recover: state dir " + state() +
                     ": is group- or world-writable (mode 0777); fix with chmod 700 " + state() +
                     "; nothing was reverted\n");
  EXPECT_EQ(Ringfence({"status", "--state-dir", state()}, &out, &err), 3);
  EXPECT_EQ(err, "ringfence status: state dir " + state() +
                     ": is group- or world-writable (mode 0777); fix with chmod 700 " + state() +
                     "\n");
  EXPECT_FALSE(Exists(marker()));
  EXPECT_TRUE(Exists(keep()));

  // Made owner-only again, runs/ is still nobody's: refused too.
  ASSERT_EQ(::chmod(state().c_str(), 0700), 0);
  EXPECT_EQ(Ringfence({"recover", "--state-dir", state()}, &out, &err), 3);
  EXPECT_EQ(err, "ringfence recover: runs dir " + state() +
                     "/runs: is owned by uid 65534, not by "
                     "root; fix with chown 0 " +
                     state() + "/runs; nothing was reverted\n");
  // And with runs/ ours, the ledger (nobody's, 0644): skipped, reported, exit 3.
  ASSERT_EQ(::chown((state() + "/runs").c_str(), 0, 0), 0);
  ASSERT_EQ(::chmod((state() + "/runs").c_str(), 0700), 0);
  const std::string ledger = state() + "/runs/x.ledger";
  EXPECT_EQ(Ringfence({"recover", "--state-dir", state()}, &out, &err), 3);
  EXPECT_EQ(err, "SKIPPED: ledger " + ledger +
                     ": is owned by uid 65534, not by root; fix with chown 0 " + ledger +
                     "; not acted on\nrecover: 0 faults reverted; 1 ledger not trusted and "
                     "skipped: check it by hand, then move it out of " +
                     state() + "/runs\n");
  EXPECT_EQ(Ringfence({"status", "--state-dir", state()}, &out, &err), 3);
  EXPECT_EQ(out, "SKIPPED ledger " + ledger +
                     ": is owned by uid 65534, not by root; fix with chown 0 " + ledger +
                     "; not trusted\n");
  // Ours at last, but its lines carry no MAC: not trusted line by line.
  ASSERT_EQ(::chown(ledger.c_str(), 0, 0), 0);
  EXPECT_EQ(Ringfence({"recover", "--state-dir", state()}, &out, &err), 3);
  EXPECT_EQ(err, "SKIPPED: ledger " + ledger +
                     ": cannot be authenticated: the state dir has no ledger key (" + state() +
                     "/ledger.key); not acted on\nrecover: 0 faults reverted; 1 ledger not "
                     "trusted and skipped: check it by hand, then move it out of " +
                     state() + "/runs\n");
  ASSERT_TRUE(StateDir::Open(state(), false)->LedgerKey(true).ok());
  EXPECT_EQ(Ringfence({"recover", "--state-dir", state()}, &out, &err), 4);
  EXPECT_NE(err.find("LEFT: run x: " + ledger +
                     ": line 2: not authenticated: a ledger version 1 "
                     "line (CRC-32 only); not trusted: unreadable; if it recorded an injection, "
                     "check and undo it by hand\n"),
            std::string::npos)
      << err;
  // A run refuses to start over it until it is dealt with.
  dir_.Write("wait.json", R"({"version": 1, "title": "t", "guards": [],
                              "method": [{"type": "wait", "duration": "10ms"}]})");
  EXPECT_EQ(Ringfence({"run", dir_.File("wait.json"), "--journal", dir_.File("j.json"),
                       "--state-dir", state()},
                      &out, &err),
            3);
  EXPECT_EQ(err,
            "ringfence: run x has 3 ledger line(s) that cannot be trusted; run `ringfence "
            "recover --state-dir " +
                state() + "` first (see `ringfence status`); nothing was run\n");
  EXPECT_FALSE(Exists(marker()));
  EXPECT_TRUE(Exists(keep()));
}

// A state dir made by ringfence, a ledger it wrote, and a line forged into it (the MAC does not
// verify): the authentic entry is reverted, the forged ones never.
TEST_F(StateDirSecurityTest, ForgedLineInAnOwnedDirIsNotActedOn) {
  auto made = FileLedger::Create(state(), "r1", {{"title", "mine"}});
  ASSERT_TRUE(made.ok()) << made.status().message();
  const auto intents = PlantedIntents(marker());
  auto authentic = PlantedIntents(dir_.File("authentic-marker"))[0]["undo"];
  ASSERT_TRUE((*made)->RecordIntent(UndoRecord::FromJson(authentic)).ok());
  const std::string ledger = (*made)->path();
  made->reset();
  {
    std::ofstream out(ledger, std::ios::app);
    for (auto r : intents) {
      r["v"] = 2;
      r["id"] = r["id"].get<int>() + 10;
      out << LedgerLine(r, std::string(32, '\x01'), "r1");  // not this state dir's key
    }
  }
  std::string out, err;
  EXPECT_EQ(Ringfence({"recover", "--state-dir", state()}, &out, &err), 4) << out << err;
  const std::string failed =
      ": authentication failed: not written with this state dir's ledger key; not trusted: "
      "unreadable; if it recorded an injection, check and undo it by hand\n";
  // The authentic entry is acted on (its restart command ran); nothing it names comes back, so
  // its revert does not verify and stays left.
  EXPECT_EQ(err, "LEFT: run r1: " + ledger + ": line 3" + failed + "LEFT: run r1: " + ledger +
                     ": line 4" + failed +
                     "LEFT: run r1: k (process_kill) on pid 999999 (gone): reverted, but the state "
                     "is not back: no live process matching the selector runs after the "
                     "restart_command; undo by hand: touch\n"
                     "recover: 3 items left; undo them by hand\n");
  EXPECT_EQ(out, "");
  EXPECT_TRUE(Exists(dir_.File("authentic-marker")));  // the control: a trusted line is acted on
  EXPECT_FALSE(Exists(marker()));
  EXPECT_TRUE(Exists(keep()));
}

TEST_F(StateDirSecurityTest, StateDirMadeUnderUmask000IsOwnerOnly) {
  ChildRun run({"/bin/sh", "-c", "umask 000 && exec \"$0\" recover --state-dir \"$1\"",
                RINGFENCE_BINARY, state()},
               dir_.path());
  EXPECT_EQ(run.Wait(), 0) << run.err();
  EXPECT_EQ(run.out(), "recover: 0 faults reverted; nothing is left\n");
  EXPECT_EQ(ModeOf(state()), 0700u);
  EXPECT_EQ(ModeOf(state() + "/runs"), 0700u);
  EXPECT_EQ(ModeOf(state() + "/run.lock"), 0600u);
  // nobody can neither list it nor plant a ledger in it.
  EXPECT_NE(AsNobody({"/bin/ls", state() + "/runs"}), 0);
  EXPECT_NE(AsNobody({"/bin/cp", keep(), state() + "/runs/x.ledger"}), 0);
  EXPECT_FALSE(Exists(state() + "/runs/x.ledger"));
}

// A state dir that is a symbolic link owned by another user is refused, not followed.
TEST_F(StateDirSecurityTest, SymlinkedStateDirOfAnotherUserIsRefused) {
  ASSERT_EQ(::mkdir(dir_.File("theirs").c_str(), 0700), 0);
  ASSERT_EQ(::chown(dir_.File("theirs").c_str(), 65534, 65534), 0);
  ASSERT_EQ(::symlink(dir_.File("theirs").c_str(), state().c_str()), 0);
  ASSERT_EQ(::lchown(state().c_str(), 65534, 65534), 0);
  std::string out, err;
  EXPECT_EQ(Ringfence({"recover", "--state-dir", state()}, &out, &err), 3);
  EXPECT_EQ(err, "ringfence recover: state dir " + state() +
                     ": is a symbolic link; not followed; "
                     "nothing was reverted\n");
  EXPECT_EQ(Ringfence({"status", "--state-dir", state()}, &out, &err), 3);
  EXPECT_EQ(err, "ringfence status: state dir " + state() + ": is a symbolic link; not followed\n");
  EXPECT_EQ(Ringfence({"recover", "--state-dir", dir_.File("theirs")}, &out, &err), 3);
  EXPECT_EQ(err, "ringfence recover: state dir " + dir_.File("theirs") +
                     ": is owned by uid 65534, not by root; fix with chown 0 " +
                     dir_.File("theirs") + "; nothing was reverted\n");
  EXPECT_FALSE(Exists(dir_.File("theirs/runs")));  // nothing was made in it
}

class LiveRunTest : public StateDirSecurityTest {
 protected:
  // A run that keeps a process paused for `duration`, with a title and a restart command that
  // hold the secret.
  void WriteExperiment(const std::string& duration, const std::string& cmdline = "") {
    nlohmann::json doc = {
        {"version", 1},
        {"title", "kill with ${api_token}"},
        {"targets",
         {{"sleepers",
           {{"process", {{"cmdline", cmdline.empty() ? children_.cmdline_regex() : cmdline}}}}}}},
        {"method",
         {{{"type", "process_kill"},
           {"name", "kill-one"},
           {"target", "sleepers"},
           {"duration", duration},
           {"params",
            {{"signal", "SIGKILL"},
             {"restart_command",
              {Restarter(cmdline.empty() ? children_.cmdline_regex() : cmdline),
               dir_.File("restarted-${api_token}")}}}}}}},
        {"guards", nlohmann::json::array()}};
    dir_.Write("kill.json", doc.dump());
  }
  // Under umask 000, which made world-writable state dirs before.
  std::vector<std::string> RunArgs() {
    return {"/bin/sh",
            "-c",
            "umask 000 && exec \"$@\"",
            "sh",
            RINGFENCE_BINARY,
            "run",
            dir_.File("kill.json"),
            "--journal",
            dir_.File("j.json"),
            "--state-dir",
            state(),
            "--watchdog-grace",
            "10s",
            "--secret",
            "api_token=" + kSecret};
  }
  std::string TargetLabel() const {
    return "pid " + std::to_string(children_.pids()[0]) + " (sleep)";
  }
  bool AllGone() {
    for (pid_t p : children_.pids()) {
      if (!children_.Exited(p)) return false;
    }
    return true;
  }
  // Every name and file under the state dir, and the journal, as text.
  std::string Everything() {
    std::string all = ReadFile(dir_.File("j.json"));
    for (const auto& e : std::filesystem::recursive_directory_iterator(state())) {
      all += e.path().string() + "\n";
      if (e.is_regular_file()) all += ReadFile(e.path().string());
    }
    return all;
  }
  // A restart command that leaves a mark (its argument: a file named with the secret) and
  // starts a process the selector matches again, so that the revert verifies.
  std::string Restarter(const std::string& regex) {  // ^sleep <marker>$
    markers_.push_back(regex.substr(7, regex.size() - 8));
    dir_.Write("restart.sh", "#!/bin/sh\ntouch \"$1\"\nsleep " + markers_.back() +
                                 " </dev/null >/dev/null 2>&1 &\n");
    ::chmod(dir_.File("restart.sh").c_str(), 0755);
    return dir_.File("restart.sh");
  }
  void TearDown() override {  // the sleeps the restart command started
    for (const auto& marker : markers_) {
      for (pid_t p : ProcessesRunning("sleep " + marker)) ::kill(p, SIGKILL);
    }
    StateDirSecurityTest::TearDown();
  }
  std::vector<std::string> markers_;
  const std::string kSecret = "s3cr3t-Tok3n-value";
  SleepChildren children_{1};
};

// With the 0700 state dir, another user cannot delete (or read) a live run's ledger.
TEST_F(LiveRunTest, NobodyCannotDeleteALiveLedger) {
  WriteExperiment("3s");
  ChildRun run(RunArgs(), dir_.path());
  ASSERT_TRUE(Eventually([&] { return AllGone(); })) << run.err();
  const auto ledgers = ListLedgers(state());
  ASSERT_EQ(ledgers.size(), 1u);
  EXPECT_NE(AsNobody({"/bin/rm", "-f", ledgers[0]}), 0);
  EXPECT_NE(AsNobody({"/bin/cat", ledgers[0]}), 0);
  EXPECT_TRUE(Exists(ledgers[0]));
  // The watchdog holds the heartbeat socket on fd 3 and the state dir's lock on fd 4 (both
  // survive its exec whatever numbers the runner had them under).
  for (pid_t p : ProcessesMentioning(state())) {
    if (p == run.pid()) continue;
    const auto fd = [&](int n) {
      std::error_code ec;
      return std::filesystem::read_symlink(
                 "/proc/" + std::to_string(p) + "/fd/" + std::to_string(n), ec)
          .string();
    };
    EXPECT_EQ(fd(3).rfind("socket:", 0), 0u) << fd(3);
    EXPECT_EQ(fd(4), state() + "/run.lock");
  }
  // recover under a live run names only what recover accepts.
  std::string out, err;
  EXPECT_EQ(Ringfence({"recover", "--state-dir", state()}, &out, &err), 3);
  EXPECT_EQ(err,
            "ringfence recover: another run is active on state dir " + state() +
                " (its lock is held); wait for it to end: recover does not act under a live run\n");
  EXPECT_EQ(ModeOf(state()), 0700u);
  EXPECT_EQ(ModeOf(state() + "/runs"), 0700u);
  EXPECT_EQ(ModeOf(state() + "/ledger.key"), 0600u);
  EXPECT_EQ(ModeOf(ledgers[0]), 0600u);
  EXPECT_EQ(run.Wait(), 0) << run.err();
  for (const auto& e : std::filesystem::recursive_directory_iterator(state())) {
    EXPECT_EQ(ModeOf(e.path().string()), e.is_directory() ? 0700u : 0600u) << e.path();
  }
}

// The secret in the title and in a restart command: nowhere on disk, in no output; the watchdog
// (given it over its socket pair) reverts with it.
TEST_F(LiveRunTest, SecretNeverOnDiskAndTheWatchdogRevertsWithIt) {
  WriteExperiment("5s");
  std::string out, err;
  {
    ChildRun run(RunArgs(), dir_.path());
    ASSERT_TRUE(Eventually([&] { return AllGone(); })) << run.err();
    ASSERT_TRUE(Eventually([&] { return ProcessesMentioning(state()).size() >= 2; }));
    run.Signal(SIGKILL);  // the watchdog reverts: runs the restart command with the secret
    run.Wait();
    out = run.out();
    err = run.err();
  }
  EXPECT_TRUE(Eventually([&] { return Exists(dir_.File("restarted-" + kSecret)); }));
  EXPECT_TRUE(Eventually([&] { return ProcessesMentioning(state()).empty(); }));
  ASSERT_EQ(ListLedgers(state()).size(), 1u);
  auto c = ReadLedger(ListLedgers(state())[0]);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->Outstanding().empty());
  EXPECT_EQ(c->run["title"], "kill with [redacted:api_token]");
  std::string status_out, status_err;
  EXPECT_EQ(Ringfence({"status", "--state-dir", state()}, &status_out, &status_err), 0);
  EXPECT_NE(status_out.find("kill with [redacted:api_token]"), std::string::npos) << status_out;
  // A finished run too: its journal and verdict.
  SleepChildren more(1);
  WriteExperiment("100ms", more.cmdline_regex());
  ChildRun again(RunArgs(), dir_.path());
  EXPECT_EQ(again.Wait(), 0) << again.err();
  const std::string everything = Everything();
  for (const std::string& text :
       {out, err, status_out, status_err, again.out(), again.err(), everything}) {
    EXPECT_EQ(text.find(kSecret), std::string::npos) << text;
  }
  EXPECT_NE(everything.find("[redacted:api_token]"), std::string::npos);
  EXPECT_NE(ReadFile(dir_.File("j.json")).find("[redacted:api_token]"), std::string::npos);
}

// Runner and watchdog both killed: recover asks for the secret, and uses it when given.
TEST_F(LiveRunTest, RecoverAsksForTheSecretWhenBothAreGone) {
  WriteExperiment("10s");
  {
    ChildRun run(RunArgs(), dir_.path());
    ASSERT_TRUE(Eventually([&] { return AllGone(); })) << run.err();
    ASSERT_TRUE(Eventually([&] { return ProcessesMentioning(state()).size() >= 2; }));
    for (pid_t p : ProcessesMentioning(state())) {
      if (p != run.pid()) ::kill(p, SIGKILL);  // the watchdog first
    }
    run.Signal(SIGKILL);
    run.Wait();
  }
  ASSERT_TRUE(Eventually([&] { return ProcessesMentioning(state()).empty(); }));
  const std::string ledger = ListLedgers(state()).at(0);
  const std::string run_id = std::filesystem::path(ledger).stem().string();
  std::string out, err;
  EXPECT_EQ(Ringfence({"status", "--state-dir", state()}, &out, &err), 0);
  EXPECT_NE(out.find("undo by hand: " + dir_.File("restart.sh") + " " +
                     dir_.File("restarted-[redacted:api_token]")),
            std::string::npos)
      << out;
  EXPECT_EQ(Ringfence({"recover", "--state-dir", state()}, &out, &err), 4);
  EXPECT_EQ(err, "LEFT: run " + run_id + ": kill-one (process_kill) on " + TargetLabel() +
                     ": needs secret api_token (its value is never on disk): pass "
                     "ringfence recover --secret api_token=VALUE; undo by hand: " +
                     dir_.File("restart.sh") + " " + dir_.File("restarted-[redacted:api_token]") +
                     "\nrecover: 1 item left; undo it by hand\n");
  EXPECT_FALSE(Exists(dir_.File("restarted-" + kSecret)));
  EXPECT_EQ(Ringfence({"recover", "--state-dir", state(), "--secret", "api_token=" + kSecret}, &out,
                      &err),
            0)
      << err;
  EXPECT_EQ(out.substr(0, out.find(" (verified: ")),
            "run " + run_id + ": reverted kill-one (process_kill) on " + TargetLabel());
  EXPECT_NE(out.find(" (verified: running again: pid "), std::string::npos) << out;
  EXPECT_EQ(out.substr(out.find('\n')), "\nrecover: 1 fault reverted; nothing is left\n");
  EXPECT_TRUE(Exists(dir_.File("restarted-" + kSecret)));
  EXPECT_EQ(ReadFile(ledger).find(kSecret), std::string::npos);
  EXPECT_EQ(out.find(kSecret) == std::string::npos && err.find(kSecret) == std::string::npos, true);
}

// A ledger made group-writable under a live run: its watchdog reports it and acts on nothing in
// it; once it is owner-only again, recover reverts.
TEST_F(LiveRunTest, WatchdogSkipsALedgerThatBreaksTheRules) {
  WriteExperiment("10s");
  std::string ledger;
  {
    ChildRun run(RunArgs(), dir_.path());
    ASSERT_TRUE(Eventually([&] { return AllGone(); })) << run.err();
    ASSERT_TRUE(Eventually([&] { return ProcessesMentioning(state()).size() >= 2; }));
    ledger = ListLedgers(state()).at(0);
    ASSERT_EQ(::chmod(ledger.c_str(), 0664), 0);
    run.Signal(SIGKILL);
    run.Wait();
  }
  ASSERT_TRUE(Eventually([&] { return ProcessesMentioning(state()).empty(); }));
  std::string log = ledger.substr(0, ledger.size() - 7) + ".watchdog.log";
  EXPECT_NE(
      ReadFile(log).find("LEFT: " + ledger + ": ledger " + ledger +
                         ": is group- or world-writable (mode 0664); fix with chmod 600 " + ledger),
      std::string::npos)
      << ReadFile(log);
  EXPECT_FALSE(Exists(dir_.File("restarted-" + kSecret)));
  std::string out, err;
  EXPECT_EQ(Ringfence({"recover", "--state-dir", state(), "--secret", "api_token=" + kSecret}, &out,
                      &err),
            3);
  ASSERT_EQ(::chmod(ledger.c_str(), 0600), 0);
  EXPECT_EQ(Ringfence({"recover", "--state-dir", state(), "--secret", "api_token=" + kSecret}, &out,
                      &err),
            0)
      << err;
  EXPECT_TRUE(Exists(dir_.File("restarted-" + kSecret)));
}

// The host side of a fleet run: the runner's secrets come with begin and inject (over the
// session, never the disk); the host ledger conceals them and the host-side watchdog, given them
// on its stdin, reverts with them when the runner goes silent.
TEST_F(LiveRunTest, HostSideLedgerConcealsAndItsWatchdogRevertsWithTheSecret) {
  SystemEnv system;
  auto transport = MakeSshTransport(system);
  const std::vector<std::string> argv = {
      RINGFENCE_BINARY, "host", "session", "--state-dir", state(), "--run", "r1", "--grace", "1s"};
  auto session = HostSession::Open(
      [&](const LineHandlers& handlers) { return transport->Open(argv, handlers); });
  ASSERT_TRUE(session.ok()) << session.status().message();
  auto call = [&](const std::string& action, const nlohmann::json& request) {
    auto r = (*session)->Call(action, request, std::chrono::seconds(20));
    EXPECT_TRUE(r.ok()) << action << ": " << r.status().message();
    return r.ok() ? *r : nlohmann::json();
  };
  const pid_t pid = children_.pids()[0];
  const nlohmann::json selector = {{"cmdline", children_.cmdline_regex()}};
  nlohmann::json match = call("match", {{"selector", selector}});
  ASSERT_EQ(match["processes"].size(), 1u) << match.dump();
  ringfence::Target target;
  target.host = "h0";
  target.label = "h0: pid " + std::to_string(pid) + " (sleep)";
  auto process = ProcessInfoFromJson(match["processes"][0]);
  ASSERT_TRUE(process.ok()) << process.status().message();
  target.process = *process;
  FaultStep step;
  step.name = "kill-one";
  step.type = "process_kill";
  step.target = "sleepers";
  step.params = {{"signal", "SIGKILL"},
                 {"restart_command",
                  {Restarter(children_.cmdline_regex()), dir_.File("restarted-" + kSecret)}}};
  step.duration = std::chrono::seconds(60);
  SecretValues secrets;
  secrets.Add("api_token", kSecret);
  ASSERT_EQ(call("begin", {{"title", "kill with [redacted:api_token]"},
                           {"host", "h0"},
                           {"secrets", secrets.ToJson()}})["ok"],
            true);
  ASSERT_EQ(call("heartbeat", nlohmann::json::object())["ok"], true);
  nlohmann::json plan = {{"host", "h0"},
                         {"step", FaultStepToJson(step)},
                         {"selector", selector},
                         {"target", TargetToWire(target)}};
  nlohmann::json undo = call("plan", plan)["undo"];
  nlohmann::json inject = plan;
  inject["undo"] = undo;
  inject["secrets"] = secrets.ToJson();
  ASSERT_EQ(call("inject", inject)["ok"], true);
  ASSERT_TRUE(Eventually([&] { return AllGone(); }));
  (*session)->Close(std::chrono::seconds(5));  // and no more heartbeats: the watchdog acts
  EXPECT_TRUE(Eventually([&] { return Exists(dir_.File("restarted-" + kSecret)); }));
  EXPECT_TRUE(Eventually([&] { return ProcessesMentioning(state()).empty(); }));
  auto ledgers = ListLedgers(state());
  ASSERT_EQ(ledgers.size(), 1u);
  auto contents = ReadLedger(ledgers[0]);
  ASSERT_TRUE(contents.ok());
  ASSERT_EQ(contents->entries.size(), 1u);
  EXPECT_EQ(contents->entries[0].reverted_by, "host watchdog");
  EXPECT_EQ(contents->entries[0].undo.manual_undo,
            dir_.File("restart.sh") + " " + dir_.File("restarted-[redacted:api_token]"));
  const std::string everything = Everything();
  EXPECT_EQ(everything.find(kSecret), std::string::npos) << everything;
}

}  // namespace
}  // namespace ringfence::testing
