// Fleets over SSH: real sshd in network namespaces (tests/support/ssh_hosts.h), the ringfence
// binary on both ends, every effect checked from outside (process states, host ledgers).
#include <dirent.h>
#include <signal.h>

#include <algorithm>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/file_ledger.h"
#include "tests/support/processes.h"
#include "tests/support/ssh_hosts.h"

namespace ringfence::testing {
namespace {

constexpr char kPidfile[] = "/root/target.pid";

// Pids of ringfence processes whose command line mentions `needle`.
std::vector<pid_t> RingfenceProcesses(const std::string& needle) {
  std::vector<pid_t> out;
  DIR* d = ::opendir("/proc");
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
    std::string cmd = ReadFile(std::string("/proc/") + e->d_name + "/cmdline");
    std::replace(cmd.begin(), cmd.end(), '\0', ' ');
    if (cmd.find(needle) != std::string::npos && cmd.find("ringfence") != std::string::npos) {
      out.push_back(std::stoi(e->d_name));
    }
  }
  ::closedir(d);
  return out;
}

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
    EXPECT_TRUE(Eventually([&] { return RingfenceProcesses(dir_.File("state")).empty(); }));
    for (pid_t p : RingfenceProcesses(dir_.File("state"))) ::kill(p, SIGKILL);
  }

  // An experiment pausing the sleeper of the hosts `hosts` selects, for `duration`.
  std::string Experiment(const nlohmann::json& hosts, const std::string& duration,
                         const nlohmann::json& settings = nlohmann::json::object()) {
    nlohmann::json doc = {
        {"version", 1},
        {"title", "pause across the fleet"},
        {"targets", {{"sleepers", {{"hosts", hosts}, {"process", {{"pidfile", kPidfile}}}}}}},
        {"method", {{{"type", "process_pause"}, {"name", "pause"}, {"target", "sleepers"},
                     {"duration", duration}}}},
        {"guards", nlohmann::json::array()},
        {"settings", settings}};
    dir_.Write("exp.json", doc.dump(2));
    return dir_.File("exp.json");
  }

  std::vector<std::string> Run(const std::string& experiment, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {RINGFENCE_BINARY, "run", experiment, "--inventory",
                                     inventory_,       "--journal", dir_.File("journal.json"),
                                     "--state-dir",    dir_.File("state"), "--watchdog-grace",
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
  ASSERT_TRUE(Eventually([&] { return Stopped() == 5; }, std::chrono::seconds(20)))
      << run.err();
  EXPECT_EQ(Stopped(), 5u);
  EXPECT_EQ(run.Wait(std::chrono::seconds(60)), 0) << run.out() << run.err();
  EXPECT_EQ(Stopped(), 0u);
  nlohmann::json j = Journal();
  ASSERT_TRUE(j.is_object()) << run.err();
  EXPECT_EQ(j["status"], "passed");
  EXPECT_EQ(j["fleet"]["blast_radius"]["selected"], 5);
  EXPECT_EQ(j["fleet"]["blast_radius"]["unknown"], 0);
  ASSERT_EQ(j["faults"][0]["targets"].size(), 5u);
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
  EXPECT_TRUE(Eventually([&] { return RingfenceProcesses("host watchdog").empty(); }));
}

}  // namespace
}  // namespace ringfence::testing
