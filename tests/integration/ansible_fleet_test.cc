// An Ansible INI inventory end to end: real sshd hosts in network namespaces
// (tests/support/ssh_hosts.h), a target selecting one group, --limit narrowing the inventory,
// a process_pause checked on every host from outside.
#include <signal.h>

#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/chaos.h"
#include "tests/support/processes.h"
#include "tests/support/ssh_hosts.h"

namespace ringfence::testing {
namespace {

constexpr char kPidfile[] = "/root/target.pid";

class AnsibleFleetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    hosts_ = std::make_unique<SshHosts>(5);
    ASSERT_TRUE(hosts_->ok()) << hosts_->error();
    sleepers_ = std::make_unique<SleepChildren>(5);
    for (int i = 0; i < 5; ++i) {
      std::ofstream(hosts_->OnHost(i, kPidfile)) << sleepers_->pids()[i] << "\n";
    }
    // h0..h2 in web, h3..h4 in db, both under prod; the connection settings as group vars.
    const auto& h = hosts_->hosts();
    std::string ini = "[web]\n";
    for (int i = 0; i < 3; ++i) ini += h[i].name + " ansible_host=" + h[i].address + "\n";
    ini += "\n[db]\n";
    for (int i = 3; i < 5; ++i) ini += h[i].name + " ansible_host=" + h[i].address + "\n";
    ini += "\n[prod:children]\nweb\ndb\n\n[prod:vars]\n";
    ini += "ansible_user=root\n";
    ini += "ansible_ssh_private_key_file=" + hosts_->client_key() + "\n";
    ini += "ansible_ssh_common_args='-o KexAlgorithms=curve25519-sha256 -o TCPKeepAlive=yes'\n";
    ini += "ringfence_known_hosts=" + hosts_->known_hosts() + "\n";
    ini += std::string("ringfence_binary=") + RINGFENCE_BINARY + "\n";
    ini += "ringfence_state_dir=/root/state\n";
    dir_.Write("hosts.ini", ini);
    nlohmann::json doc = {{"version", 1},
                          {"title", "pause the web group"},
                          {"targets",
                           {{"sleepers",
                             {{"hosts", {{"groups", {"web"}}, {"allow_full_blast", true}}},
                              {"process", {{"pidfile", kPidfile}}}}}}},
                          {"method",
                           {{{"type", "process_pause"},
                             {"name", "pause"},
                             {"target", "sleepers"},
                             {"duration", "3s"}}}},
                          {"guards", nlohmann::json::array()}};
    dir_.Write("exp.json", doc.dump(2));
  }

  void TearDown() override {
    if (sleepers_) {
      for (pid_t p : sleepers_->pids()) ::kill(p, SIGCONT);
    }
    hosts_.reset();
    EXPECT_TRUE(Eventually([&] { return ProcessesMentioning(dir_.File("state")).empty(); }));
    for (pid_t p : ProcessesMentioning(dir_.File("state"))) ::kill(p, SIGKILL);
  }

  std::vector<std::string> Run(std::vector<std::string> extra) {
    std::vector<std::string> argv = {RINGFENCE_BINARY,
                                     "run",
                                     dir_.File("exp.json"),
                                     "--inventory",
                                     dir_.File("hosts.ini"),
                                     "--journal",
                                     dir_.File("journal.json"),
                                     "--state-dir",
                                     dir_.File("state"),
                                     "--watchdog-grace",
                                     "1s"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }

  bool Stopped(size_t i) { return SleepChildren::State(sleepers_->pids()[i]) == 'T'; }

  TempDir dir_;
  std::unique_ptr<SshHosts> hosts_;
  std::unique_ptr<SleepChildren> sleepers_;
};

TEST_F(AnsibleFleetTest, PausesTheHostsOfOneGroupNarrowedByLimitAndRevertsThem) {
  ChildRun run(Run({"--limit", "prod:!h1"}), dir_.path());
  // Seen on the hosts: h0 and h2 (web, kept by --limit) paused; h1 (excluded) and the db hosts
  // untouched.
  ASSERT_TRUE(Eventually([&] { return Stopped(0) && Stopped(2); }, std::chrono::seconds(20)))
      << run.err();
  EXPECT_FALSE(Stopped(1));
  EXPECT_FALSE(Stopped(3));
  EXPECT_FALSE(Stopped(4));
  EXPECT_EQ(run.Wait(std::chrono::seconds(60)), 0) << run.out() << run.err();
  for (size_t i = 0; i < 5; ++i) EXPECT_FALSE(Stopped(i)) << "host " << i;
  nlohmann::json j = nlohmann::json::parse(ReadFile(dir_.File("journal.json")), nullptr, false);
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["status"], "passed");
  ASSERT_EQ(j["faults"][0]["targets"].size(), 2u);
  for (const auto& t : j["faults"][0]["targets"]) EXPECT_EQ(t["verified"], true) << t.dump();
}

TEST_F(AnsibleFleetTest, DryRunShowsTheGroupAndTheLimit) {
  ChildRun run(Run({"--limit", "prod:!h1", "--dry-run"}), dir_.path());
  EXPECT_EQ(run.Wait(std::chrono::seconds(60)), 0) << run.err();
  EXPECT_NE(run.out().find("inventory " + dir_.File("hosts.ini") +
                           " (--limit \"prod:!h1\"): 4 hosts\n"
                           "  target 'sleepers': group web → 2 hosts: h0, h2; select all\n"),
            std::string::npos)
      << run.out();
  EXPECT_NE(run.out().find("    hosts (2): h0, h2"), std::string::npos) << run.out();
  for (size_t i = 0; i < 5; ++i) EXPECT_FALSE(Stopped(i));
}

TEST_F(AnsibleFleetTest, ALimitMatchingNothingIsRefusedAndNothingRuns) {
  ChildRun run(Run({"--limit", "web:&db"}), dir_.path());
  EXPECT_EQ(run.Wait(std::chrono::seconds(60)), 2);
  EXPECT_EQ(run.err(),
            "ringfence: --limit: \"web:&db\": a pattern that matches at least one "
            "host of the inventory " +
                dir_.File("hosts.ini") + "; nothing was run\n");
  for (size_t i = 0; i < 5; ++i) EXPECT_FALSE(Stopped(i));
}

}  // namespace
}  // namespace ringfence::testing
