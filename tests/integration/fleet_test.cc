// Fleets over SSH: real sshd in network namespaces (tests/support/ssh_hosts.h), the ringfence
// binary on both ends, every effect checked from outside (process states, host ledgers).
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/ledger/file_ledger.h"
#include "tests/support/chaos.h"
#include "tests/support/processes.h"
#include "tests/support/ssh_hosts.h"

namespace ringfence::testing {
namespace {

constexpr char kPidfile[] = "/root/target.pid";

class FleetTest : public ::testing::Test {
 protected:
  void StartHosts(int n) {
    hosts_ = std::make_unique<SshHosts>(n);
    ASSERT_TRUE(hosts_->ok()) << hosts_->error();
    sleepers_ = std::make_unique<SleepChildren>(n);
    for (int i = 0; i < n; ++i) {
      std::ofstream(hosts_->OnHost(i, kPidfile)) << sleepers_->pids()[i] << "\n";
    }
    inventory_ = hosts_->WriteInventory("inventory.json", RINGFENCE_BINARY);
  }

  void TearDown() override {
    if (sleepers_) {
      for (pid_t p : sleepers_->pids()) ::kill(p, SIGCONT);
    }
    hosts_.reset();  // kills every host-side process (host watchdogs included)
    // The runner's own watchdog goes once the run is over.
    EXPECT_TRUE(Eventually([&] { return ProcessesMentioning(dir_.File("state")).empty(); }));
    for (pid_t p : ProcessesMentioning(dir_.File("state"))) ::kill(p, SIGKILL);
  }

  // An experiment pausing the sleeper of the hosts `hosts` selects, for `duration`.
  std::string Experiment(const nlohmann::json& hosts, const std::string& duration,
                         const nlohmann::json& settings = nlohmann::json::object()) {
    nlohmann::json doc = {
        {"version", 1},
        {"title", "pause across the fleet"},
        {"targets", {{"sleepers", {{"hosts", hosts}, {"process", {{"pidfile", kPidfile}}}}}}},
        {"method",
         {{{"type", "process_pause"},
           {"name", "pause"},
           {"target", "sleepers"},
           {"duration", duration}}}},
        {"guards", nlohmann::json::array()},
        {"settings", settings}};
    dir_.Write("exp.json", doc.dump(2));
    return dir_.File("exp.json");
  }

  std::vector<std::string> Run(const std::string& experiment, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {RINGFENCE_BINARY,
                                     "run",
                                     experiment,
                                     "--inventory",
                                     inventory_,
                                     "--journal",
                                     dir_.File("journal.json"),
                                     "--state-dir",
                                     dir_.File("state"),
                                     "--watchdog-grace",
                                     "1s"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }

  size_t Stopped() {
    size_t n = 0;
    for (pid_t p : sleepers_->pids()) n += SleepChildren::State(p) == 'T';
    return n;
  }
  bool Stopped(size_t i) { return SleepChildren::State(sleepers_->pids()[i]) == 'T'; }

  // The host ledger of host i (the only run on it).
  std::optional<LedgerContents> HostLedger(size_t i) {
    auto all = ListLedgers(hosts_->OnHost(i, "/root/state"));
    if (all.empty()) return std::nullopt;
    auto c = ReadLedger(all.back());
    if (!c.ok()) return std::nullopt;
    return *c;
  }

  nlohmann::json Journal() {
    return nlohmann::json::parse(ReadFile(dir_.File("journal.json")), nullptr, false);
  }

  TempDir dir_;
  std::unique_ptr<SshHosts> hosts_;
  std::unique_ptr<SleepChildren> sleepers_;
  std::string inventory_;
};

TEST_F(FleetTest, PercentFiftyOfTenHostsPausesExactlyFiveAndRevertsAll) {
  StartHosts(10);
  ChildRun run(Run(Experiment({{"tags", {{"fleet", "test"}}}, {"select", {{"percent", 50}}}}, "3s"),
                   {"--seed", "7"}),
               dir_.path());
  // Seen from outside, on the hosts themselves: exactly five sleepers stopped at once.
  ASSERT_TRUE(Eventually([&] { return Stopped() == 5; }, std::chrono::seconds(20))) << run.err();
  EXPECT_EQ(Stopped(), 5u);
  EXPECT_EQ(run.Wait(std::chrono::seconds(60)), 0) << run.out() << run.err();
  EXPECT_EQ(Stopped(), 0u);
  nlohmann::json j = Journal();
  ASSERT_TRUE(j.is_object()) << run.err();
  EXPECT_EQ(j["status"], "passed");
  EXPECT_EQ(j["fleet"]["blast_radius"]["selected"], 5);
  EXPECT_EQ(j["fleet"]["blast_radius"]["unknown"], 0);
  ASSERT_EQ(j["faults"][0]["targets"].size(), 5u);
  // Each revert verified on its host (`ringfence host verify`).
  for (const auto& t : j["faults"][0]["targets"]) {
    EXPECT_EQ(t["verified"], true) << t.dump();
    EXPECT_EQ(t["verification"].get<std::string>().rfind(
                  "on " + t["host"].get<std::string>() + ": pid ", 0),
              0u)
        << t.dump();
  }
  size_t hosts_with_ledger = 0;
  for (size_t i = 0; i < 10; ++i) {
    auto ledger = HostLedger(i);
    if (!ledger) continue;
    ++hosts_with_ledger;
    // Each host recorded its injection before doing it, and its revert, and the end.
    EXPECT_EQ(ledger->entries.size(), 1u) << "host " << i;
    EXPECT_TRUE(ledger->Outstanding().empty()) << "host " << i;
    EXPECT_FALSE(ledger->end.is_null()) << "host " << i;
  }
  EXPECT_EQ(hosts_with_ledger, 5u);
  // The host-side watchdogs exit once their run ended.
  EXPECT_TRUE(Eventually([&] { return ProcessesMentioning("host watchdog").empty(); }));
}

TEST_F(FleetTest, HostThatStopsAnsweringAbortsTheRunAndRevertsByItself) {
  StartHosts(3);
  ChildRun run(Run(Experiment({{"names", {"h0", "h1", "h2"}}}, "30s")), dir_.path());
  ASSERT_TRUE(Eventually([&] { return Stopped() == 3; }, std::chrono::seconds(20))) << run.err();
  ASSERT_TRUE(hosts_->Cut(1));
  // The runner notices, aborts and reverts the others; h1's revert cannot be confirmed (exit 4).
  EXPECT_EQ(run.Wait(std::chrono::seconds(30)), 4) << run.out() << run.err();
  EXPECT_FALSE(Stopped(0));
  EXPECT_FALSE(Stopped(2));
  EXPECT_NE(run.out().find("verdict: aborted (exit 4): host h1 stopped answering: "),
            std::string::npos)
      << run.out();
  // h1 reverts by itself: no heartbeat reaches it for longer than the grace.
  EXPECT_TRUE(Eventually([&] { return !Stopped(1); }, std::chrono::seconds(10)));
  auto ledger = HostLedger(1);
  ASSERT_TRUE(ledger.has_value());
  ASSERT_EQ(ledger->entries.size(), 1u);
  EXPECT_TRUE(ledger->entries[0].reverted);
  EXPECT_EQ(ledger->entries[0].reverted_by, "host watchdog");
  nlohmann::json j = Journal();
  EXPECT_EQ(j["status"], "aborted");
  EXPECT_EQ(j["fleet"]["hosts"]["h1"]["state"], "unknown");
  EXPECT_EQ(j["fleet"]["blast_radius"]["unknown"], 1) << j["fleet"].dump(2) << run.err();
  ASSERT_TRUE(hosts_->Restore(1));
}

TEST_F(FleetTest, RunnerKilledMidRunEveryHostRevertsByItself) {
  StartHosts(3);
  ChildRun run(Run(Experiment({{"names", {"h0", "h1", "h2"}}}, "30s")), dir_.path());
  ASSERT_TRUE(Eventually([&] { return Stopped() == 3; }, std::chrono::seconds(20))) << run.err();
  // Killed once its journal's checkpoint holds the three injections (the revert proof's rows).
  ASSERT_TRUE(Eventually([&] {
    const nlohmann::json j = Journal();
    if (!j.is_object() || !j.contains("faults") || j["faults"].empty()) return false;
    size_t injected = 0;
    for (const auto& t : j["faults"][0].value("targets", nlohmann::json::array())) {
      injected += t.value("inject_ok", false) && t.contains("undo");
    }
    return injected == 3;
  })) << run.err();
  run.Signal(SIGKILL);
  EXPECT_EQ(run.Wait(std::chrono::seconds(10)), 128 + SIGKILL);
  EXPECT_TRUE(Eventually([&] { return Stopped() == 0; }, std::chrono::seconds(10)));
  for (size_t i = 0; i < 3; ++i) {
    auto ledger = HostLedger(i);
    ASSERT_TRUE(ledger.has_value()) << "host " << i;
    ASSERT_EQ(ledger->entries.size(), 1u) << "host " << i;
    EXPECT_EQ(ledger->entries[0].reverted_by, "host watchdog") << "host " << i;
  }
  EXPECT_TRUE(Eventually([&] { return ProcessesMentioning("host watchdog").empty(); }));
  // The runner's own watchdog never reverts a remote entry here (it is not its host's pid)...
  ASSERT_TRUE(Eventually(
      [&] { return ProcessesMentioning("watchdog --ledger " + dir_.File("state")).empty(); }));
  auto local = ListLedgers(dir_.File("state"));
  ASSERT_EQ(local.size(), 1u);
  auto contents = ReadLedger(local[0]);
  ASSERT_TRUE(contents.ok());
  EXPECT_EQ(contents->Outstanding().size(), 3u);
  // ...`recover` confirms them over SSH, through the inventory the run recorded (idempotent).
  ChildRun recover({RINGFENCE_BINARY, "recover", "--state-dir", dir_.File("state")}, dir_.path());
  EXPECT_EQ(recover.Wait(std::chrono::seconds(30)), 0) << recover.out() << recover.err();
  contents = ReadLedger(local[0]);
  ASSERT_TRUE(contents.ok());
  EXPECT_TRUE(contents->Outstanding().empty());
  EXPECT_EQ(Stopped(), 0u);
  // Who reverted them is the hosts' watchdogs, not recover: the runner's ledger, the journal and
  // the report's revert proof say so.
  for (const auto& e : contents->entries)
    EXPECT_EQ(e.reverted_by, "host watchdog") << e.undo.target;
  const nlohmann::json j = Journal();
  ASSERT_EQ(j["faults"][0]["targets"].size(), 3u) << j.dump(2);
  for (const auto& t : j["faults"][0]["targets"]) EXPECT_EQ(t["reverted_by"], "host watchdog") << t;
  ChildRun report(
      {RINGFENCE_BINARY, "report", dir_.File("journal.json"), "--html", dir_.File("r.html")},
      dir_.path());
  ASSERT_EQ(report.Wait(std::chrono::seconds(30)), 0) << report.err();
  const std::string html = ReadFile(dir_.File("r.html"));
  size_t rows = 0;
  for (size_t at = html.find("<td>host watchdog</td>"); at != std::string::npos;
       at = html.find("<td>host watchdog</td>", at + 1)) {
    ++rows;
  }
  EXPECT_EQ(rows, 3u);
}

TEST_F(FleetTest, HostKeyMismatchIsRefused) {
  StartHosts(2);
  // h0's address with h1's key.
  std::string known = ReadFile(hosts_->known_hosts());
  std::string h1_key = known.substr(known.find('\n') + 1);
  h1_key = h1_key.substr(h1_key.find(' '));
  const std::string bad = dir_.File("bad_known_hosts");
  std::ofstream(bad) << hosts_->hosts()[0].address << h1_key;
  nlohmann::json inv = nlohmann::json::parse(hosts_->InventoryJson(RINGFENCE_BINARY));
  inv["hosts"][0]["known_hosts"] = bad;
  dir_.Write("inventory.json", inv.dump());
  inventory_ = dir_.File("inventory.json");
  ChildRun run(Run(Experiment({{"names", {"h0"}}}, "1s")), dir_.path());
  EXPECT_EQ(run.Wait(std::chrono::seconds(30)), 3) << run.out() << run.err();
  const std::string expected =
      "verdict: error (exit 3): host h0 (root@" + hosts_->hosts()[0].address +
      ":22): refused: its host key does not match the known_hosts file " + bad +
      " (a man-in-the-middle, or the host was reinstalled: check "
      "the key, then update " +
      bad + ")\n";
  EXPECT_NE(run.out().find(expected), std::string::npos) << run.out();
  EXPECT_EQ(Stopped(), 0u);
  EXPECT_FALSE(HostLedger(0).has_value());
}

TEST_F(FleetTest, MissingBinaryIsNamedAndPushBinaryInstallsIt) {
  StartHosts(1);
  inventory_ = hosts_->WriteInventory("inventory.json", "/root/bin/ringfence");
  const std::string exp = Experiment({{"names", {"h0"}}}, "200ms");
  {
    ChildRun run(Run(exp), dir_.path());
    EXPECT_EQ(run.Wait(std::chrono::seconds(30)), 3) << run.out() << run.err();
    EXPECT_NE(run.out().find(
                  "verdict: error (exit 3): host h0 (root@" + hosts_->hosts()[0].address +
                  ":22): ringfence not found at /root/bin/ringfence on the host; "
                  "install ringfence " RINGFENCE_VERSION " there or pass --push-binary PATH\n"),
              std::string::npos)
        << run.out();
  }
  ChildRun pushed(Run(exp, {"--push-binary", "/root/bin/ringfence"}), dir_.path());
  EXPECT_EQ(pushed.Wait(std::chrono::seconds(60)), 0) << pushed.out() << pushed.err();
  EXPECT_EQ(ReadFile(hosts_->OnHost(0, "/root/bin/ringfence")).size(),
            ReadFile(RINGFENCE_BINARY).size());
  EXPECT_EQ(Stopped(), 0u);
}

TEST_F(FleetTest, DryRunPrintsTheResolvedHostsAndArmsNothing) {
  StartHosts(4);
  ChildRun run(Run(Experiment({{"tags", {{"parity", "even"}}}, {"allow_full_blast", true}}, "1s"),
                   {"--dry-run"}),
               dir_.path());
  EXPECT_EQ(run.Wait(std::chrono::seconds(30)), 0) << run.err();
  EXPECT_NE(run.out().find("    hosts (2): h0, h2\n"), std::string::npos) << run.out();
  EXPECT_NE(run.out().find("    h0: pid " + std::to_string(sleepers_->pids()[0]) +
                           " (sleep); "
                           "undo: kill -CONT " +
                           std::to_string(sleepers_->pids()[0]) + "\n"),
            std::string::npos)
      << run.out();
  EXPECT_EQ(Stopped(), 0u);
  for (size_t i = 0; i < 4; ++i) EXPECT_FALSE(HostLedger(i).has_value());
}

TEST_F(FleetTest, UnreachableHostAbortsByDefaultAndIsSkippedWhenAsked) {
  StartHosts(3);
  inventory_ = hosts_->WriteInventory("inventory.json", RINGFENCE_BINARY,
                                      R"({"connect_timeout": "1s", "command_timeout": "5s"})");
  ASSERT_TRUE(hosts_->Cut(2));
  {
    ChildRun run(Run(Experiment({{"names", {"h0", "h1", "h2"}}}, "300ms")), dir_.path());
    EXPECT_EQ(run.Wait(std::chrono::seconds(30)), 1) << run.out() << run.err();
    EXPECT_NE(run.out().find("verdict: aborted (exit 1): host h2 (root@" +
                             hosts_->hosts()[2].address + ":22): unreachable: "),
              std::string::npos)
        << run.out();
    EXPECT_NE(run.out().find("; the run is aborted (on_unreachable: abort)\n"), std::string::npos);
    EXPECT_FALSE(HostLedger(0).has_value());
  }
  ChildRun run(
      Run(Experiment({{"names", {"h0", "h1", "h2"}}}, "300ms", {{"on_unreachable", "skip"}})),
      dir_.path());
  EXPECT_EQ(run.Wait(std::chrono::seconds(30)), 0) << run.out() << run.err();
  nlohmann::json j = Journal();
  EXPECT_EQ(j["faults"][0]["targets"].size(), 2u);
  EXPECT_EQ(j["fleet"]["blast_radius"]["selected"], 3);
  EXPECT_EQ(j["fleet"]["blast_radius"]["unknown"], 1);
  EXPECT_EQ(j["fleet"]["hosts"]["h2"]["state"], "unknown");
  EXPECT_EQ(Stopped(), 0u);
  ASSERT_TRUE(hosts_->Restore(2));
}

TEST_F(FleetTest, EachHostIsReachedThroughOneSessionAndOlderBinariesOneCommandEach) {
  StartHosts(2);
  // Each host runs ringfence through a wrapper that logs every `ringfence host` started there;
  // h1's wrapper is a ringfence without the session action.
  const std::string log_line = "echo \"$1 $2\" >> /root/invocations.log\n";
  const std::string old_binary =
      "if [ \"$2\" = session ]; then\n"
      "  echo 'ringfence host: unknown action session (see ringfence host --help)' >&2; exit 2\n"
      "fi\n";
  for (size_t i = 0; i < 2; ++i) {
    const std::string path = hosts_->OnHost(i, "/root/bin/rf");
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path) << "#!/bin/sh\n"
                        << log_line << (i == 1 ? old_binary : "")
                        << "exec " RINGFENCE_BINARY " \"$@\"\n";
    std::filesystem::permissions(path, std::filesystem::perms::owner_all);
  }
  inventory_ = hosts_->WriteInventory("inventory.json", "/root/bin/rf");
  ChildRun run(Run(Experiment({{"names", {"h0", "h1"}}}, "1500ms")), dir_.path());
  EXPECT_EQ(run.Wait(std::chrono::seconds(60)), 0) << run.out() << run.err();
  EXPECT_EQ(Stopped(), 0u);
  // h0: every action and heartbeat of the run went over one command.
  EXPECT_EQ(ReadFile(hosts_->OnHost(0, "/root/invocations.log")), "host session\n");
  // h1: the session could not start, so one command per action, heartbeats included.
  const std::string h1 = ReadFile(hosts_->OnHost(1, "/root/invocations.log"));
  EXPECT_EQ(h1.rfind("host session\nhost version\nhost match\nhost begin\n", 0), 0u) << h1;
  EXPECT_NE(h1.find("host heartbeat\n"), std::string::npos) << h1;
  EXPECT_NE(h1.find("host inject\n"), std::string::npos) << h1;
  EXPECT_NE(h1.find("host revert\n"), std::string::npos) << h1;
  EXPECT_NE(run.err().find("host h1: no host session (the session ended: ringfence host: "
                           "unknown action session (see ringfence host --help)); its host-side "
                           "actions go one ssh command each (logged for the first such host "
                           "only)\n"),
            std::string::npos)
      << run.err();
  nlohmann::json j = Journal();
  EXPECT_EQ(j["fleet"]["hosts"]["h0"]["session"], true);
  EXPECT_EQ(j["fleet"]["hosts"]["h1"]["session"], false);
  for (size_t i = 0; i < 2; ++i) {
    auto ledger = HostLedger(i);
    ASSERT_TRUE(ledger.has_value()) << "host " << i;
    ASSERT_EQ(ledger->entries.size(), 1u);
    EXPECT_EQ(ledger->entries[0].reverted_by, "runner") << "host " << i;
  }
}

}  // namespace
}  // namespace ringfence::testing
