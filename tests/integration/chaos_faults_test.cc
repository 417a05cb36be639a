// Chaos on ourselves, for every fault type that has landed: a run of the fault is started and
// its runner SIGKILLed at seeded points spread over the run (before the watchdog exists, during
// injection, while active, during revert); then, from outside, nothing may be left: no fill
// file, no nft table, no stress worker, no killed instance that stays dead, and every ledger
// shows everything reverted. bench/chaos_soak runs the same with many more points.
#include <signal.h>
#include <sys/mount.h>
#include <sys/statvfs.h>

#include <cstring>
#include <filesystem>
#include <random>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "demo/demo_fleet.h"
#include "tests/support/chaos.h"
#include "tests/support/netns.h"

namespace ringfence::testing {
namespace {

constexpr int kPointsPerFault = 12;

TEST(ChaosFaultsTest, DiskFillOnATmpfsLeavesNoFillFile) {
  TempDir dir;
  const std::string mnt = dir.File("mnt");
  std::filesystem::create_directory(mnt);
  ASSERT_EQ(::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=16m"), 0) << std::strerror(errno);
  struct Unmount {
    std::string path;
    ~Unmount() {
      if (::umount2(path.c_str(), 0) != 0) ::umount2(path.c_str(), MNT_DETACH);
    }
  } unmount{mnt};
  ChaosRun chaos(
      dir,
      {{"type", "disk_fill"}, {"params", {{"path", mnt}, {"percent", 60}}}, {"duration", "400ms"}});
  chaos.KillAtSeededPoints(kPointsPerFault, 1001, 700, [&]() -> std::string {
    size_t files = 0;
    for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(mnt)) ++files;
    struct statvfs v;
    ::statvfs(mnt.c_str(), &v);
    const double used = 1.0 - static_cast<double>(v.f_bfree) / static_cast<double>(v.f_blocks);
    if (files != 0) return std::to_string(files) + " file(s) left in the tmpfs";
    if (used > 0.01) return "the tmpfs is still " + std::to_string(used * 100) + " % used";
    return "";
  });
}

TEST(ChaosFaultsTest, NetworkLossInANamespaceLeavesNoTable) {
  NetnsPair pair;
  ASSERT_TRUE(pair.ok()) << pair.error();
  TempDir dir;
  ChaosRun chaos(dir, {{"type", "network_loss"},
                       {"params", {{"percent", 50}, {"netns", pair.server_ns()}}},
                       {"duration", "400ms"}});
  chaos.KillAtSeededPoints(kPointsPerFault, 1002, 700, [&]() -> std::string {
    std::string tables;
    NetnsPair::Run(NetnsPair::In(pair.server_ns(), {"nft", "list", "tables"}), &tables);
    return tables.find("ringfence_") == std::string::npos ? "" : "nft tables left: " + tables;
  });
}

TEST(ChaosFaultsTest, TransparentLatencyProxyLeavesNoRedirect) {
  NetnsPair pair;
  ASSERT_TRUE(pair.ok()) << pair.error();
  TempDir dir;
  ChaosRun chaos(dir,
                 {{"type", "latency"},
                  {"params", {{"port", 18080}, {"delay", "10ms"}, {"netns", pair.server_ns()}}},
                  {"duration", "400ms"}});
  // The proxy lives in the runner and dies with it; its redirect table must go too.
  chaos.KillAtSeededPoints(kPointsPerFault, 1006, 700, [&]() -> std::string {
    std::string tables;
    NetnsPair::Run(NetnsPair::In(pair.server_ns(), {"nft", "list", "tables"}), &tables);
    return tables.find("ringfence_") == std::string::npos ? "" : "nft tables left: " + tables;
  });
}

TEST(ChaosFaultsTest, CpuStressLeavesNoWorker) {
  TempDir dir;
  ChaosRun chaos(
      dir,
      {{"type", "cpu_stress"}, {"params", {{"workers", 1}, {"load", 50}}}, {"duration", "400ms"}});
  // Workers are forks of the runner: ChaosRun already waits until no process mentions the
  // state dir, which covers them; the check adds nothing more to look at.
  chaos.KillAtSeededPoints(kPointsPerFault, 1003, 700, [] { return std::string(); });
}

TEST(ChaosFaultsTest, MemoryStressLeavesNoWorker) {
  TempDir dir;
  ChaosRun chaos(
      dir, {{"type", "memory_stress"}, {"params", {{"size", 32 << 20}}}, {"duration", "400ms"}});
  chaos.KillAtSeededPoints(kPointsPerFault, 1004, 700, [] { return std::string(); });
}

TEST(ChaosFaultsTest, ProcessKillWithRestartLeavesTheFleetWhole) {
  DemoFleetOptions options;
  options.size = 3;
  options.service_binary = RINGFENCE_DEMO_SERVICE_BINARY;
  DemoFleet fleet(options);
  ASSERT_TRUE(fleet.Start().ok());
  TempDir dir;
  const std::string regex =
      "ringfence-demo-service --port [0-9]+ --fleet-id " + fleet.fleet_id() + "( |$)";
  ChaosRun chaos(dir,
                 {{"type", "process_kill"},
                  {"target", "fleet"},
                  {"params", {{"signal", "SIGKILL"}, {"expect_restart_within", "2s"}}},
                  {"duration", "400ms"}},
                 {{"fleet", {{"process", {{"cmdline", regex}}}, {"select", {{"count", 1}}}}}});
  chaos.KillAtSeededPoints(kPointsPerFault, 1005, 700, [&]() -> std::string {
    bool whole = Eventually([&] { return CountProcesses(regex) == 3; });
    return whole ? ""
                 : "the fleet has " + std::to_string(CountProcesses(regex)) + " of 3 instances";
  });
  fleet.Stop();
}

}  // namespace
}  // namespace ringfence::testing
