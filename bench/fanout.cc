// bench/fanout: a light fault (process_pause on one `sleep` per host) injected and reverted on
// 1, 10, 50 and 100 hosts (network namespaces with a real sshd each, tests/support/ssh_hosts.h)
// through the whole engine: resolve (connect, version check, match on every host), prepare (arm
// the host-side watchdog), inject, a 10 ms fault window, revert, end. Wall time per run with
// max_concurrency 1 / 32 / 100 and with and without SSH multiplexing; the baseline is one host.
// Prints a table and a final JSON line. Needs root, iproute2, openssh-server and -client.
// Host-side actions go over one `ringfence host session` per host; `--one-shot` measures one
// `ssh` command per action instead (as before sessions).
//
// `--hosts N` runs only the cases of one host and of N hosts; `--verbose` logs each inject and
// revert with a timestamp (where the time goes).
//
//   build/bench/fanout [--max-hosts N] [--repeat R] [--one-shot] [--hosts N] [--verbose]
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "core/engine/lifecycle.h"
#include "core/fault/fault.h"
#include "core/fleet/ssh_executor.h"
#include "core/ledger/revert_ledger.h"
#include "core/model/experiment.h"
#include "core/model/inventory.h"
#include "core/observe/probe.h"
#include "core/sys/system_clock.h"
#include "core/sys/system_env.h"
#include "core/sys/system_process_table.h"
#include "tests/support/ssh_hosts.h"

namespace ringfence {
namespace {

struct Case {
  int hosts;
  int concurrency;
  bool multiplex;
};

struct Outcome {
  double seconds = 0;
  bool ok = false;
  std::string error;
};

Outcome RunOnce(const testing::SshHosts& fleet_hosts, const std::string& binary, const Case& c,
                uint64_t seed, bool host_sessions) {
  nlohmann::json inv = nlohmann::json::parse(fleet_hosts.InventoryJson(binary));
  inv["hosts"].erase(inv["hosts"].begin() + c.hosts, inv["hosts"].end());
  inv["ssh"] = {{"multiplex", c.multiplex}, {"command_timeout", "60s"}};
  ValidationErrors errors;
  Inventory inventory = ParseInventory(inv, "", "", errors);
  inventory.source = "bench";
  nlohmann::json names = nlohmann::json::array();
  for (int i = 0; i < c.hosts; ++i) names.push_back("h" + std::to_string(i));
  nlohmann::json doc = {
      {"version", 1},
      {"title", "fanout"},
      {"targets",
       {{"sleepers",
         {{"hosts", {{"names", names}}}, {"process", {{"pidfile", "/root/target.pid"}}}}}}},
      {"method", {{{"type", "process_pause"}, {"target", "sleepers"}, {"duration", "10ms"}}}},
      {"guards", nlohmann::json::array()},
      {"settings", {{"max_concurrency", c.concurrency}}}};
  LoadOptions options;
  options.catalog = &FaultRegistry::Global();
  auto experiment = LoadExperimentText(doc.dump(), options, errors);
  Outcome out;
  if (!experiment || !errors.empty()) {
    out.error = errors.empty() ? "experiment" : errors.Format("bench")[0];
    return out;
  }
  const auto t0 = std::chrono::steady_clock::now();
  FleetOptions fo;
  fo.run_id = "bench-" + std::to_string(seed);
  fo.title = "fanout";
  fo.grace = std::chrono::seconds(10);
  fo.max_concurrency = c.concurrency;
  fo.host_sessions = host_sessions;
  StopSource stop;
  auto processes = MakeSystemProcessTable();
  SystemEnv system_env{*processes};
  SshFleet fleet(system_env, inventory, fo);
  auto probes = MakeProbeRunner(system_env);
  FaultEnv env{system_env, stop};
  LocalExecutor local(env, FaultRegistry::Global());
  MemoryLedger ledger;
  EngineDeps deps{system_env, *probes, FaultRegistry::Global(), ledger, local, stop, {}};
  deps.hosts = &fleet;
  deps.deadline_grace = fo.grace + fleet.FanoutAllowance();  // as `ringfence run` does
  LifecycleEngine engine(deps);
  spdlog::info("case: {} hosts, max_concurrency {}: run starts", c.hosts, c.concurrency);
  RunReport report = engine.Run(*experiment, seed, fo.run_id);
  spdlog::info("case: run done; ending the run on the hosts");
  fleet.Finish(RunStatusName(report.status));
  spdlog::info("case: hosts ended, sessions and masters closed");
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  size_t reverted = 0;
  for (const auto& t :
       report.faults.empty() ? std::vector<TargetRecord>{} : report.faults[0].targets) {
    reverted += t.inject_ok && t.revert_ok;
  }
  out.ok = report.status == RunStatus::kPassed && reverted == static_cast<size_t>(c.hosts);
  if (!out.ok) out.error = report.reason;
  return out;
}

// The floor under any fan-out over SSH here: `ssh host <command>` (a full handshake, no
// multiplexing) on `n` hosts at once; seconds of wall time.
double SshFloor(const testing::SshHosts& hosts, int n, const std::string& command) {
  SystemEnv system_env;
  auto transport = MakeSshTransport(system_env);
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      auto r = transport->Run({"ssh",
                               "-p",
                               "22",
                               "-l",
                               "root",
                               "-o",
                               "BatchMode=yes",
                               "-i",
                               hosts.client_key(),
                               "-o",
                               "IdentitiesOnly=yes",
                               "-o",
                               "StrictHostKeyChecking=yes",
                               "-o",
                               "UserKnownHostsFile=" + hosts.known_hosts(),
                               "-o",
                               "LogLevel=ERROR",
                               hosts.hosts()[i].address,
                               "--",
                               command},
                              "", std::chrono::seconds(60));
      if (!r.ok() || r->exit_code != 0) {
        std::fprintf(stderr, "floor: h%d: %s\n", i, r.ok() ? r->err.c_str() : "no ssh");
      }
    });
  }
  for (auto& t : threads) t.join();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace
}  // namespace ringfence

int main(int argc, char** argv) {
  using namespace ringfence;
  int max_hosts = 100;
  int repeat = 1;
  bool host_sessions = true;
  bool verbose = false;
  int only_hosts = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--one-shot") {
      host_sessions = false;
    } else if (arg == "--verbose") {
      verbose = true;
    } else if (arg == "--hosts" && i + 1 < argc) {
      only_hosts = std::atoi(argv[++i]);
    } else if (arg == "--max-hosts" && i + 1 < argc) {
      max_hosts = std::atoi(argv[++i]);
    } else if (arg == "--repeat" && i + 1 < argc) {
      repeat = std::max(1, std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr,
                   "usage: fanout [--max-hosts N] [--repeat R] [--one-shot] [--hosts N] "
                   "[--verbose]\n");
      return 2;
    }
  }
  spdlog::set_level(verbose ? spdlog::level::debug : spdlog::level::warn);
  if (verbose) spdlog::set_pattern("%H:%M:%S.%e %v");
  const std::string binary = std::string(RINGFENCE_BENCH_BINARY_DIR) + "/ringfence";
  std::fprintf(stderr, "starting %d hosts (namespaces with sshd)...\n", max_hosts);
  const auto setup0 = std::chrono::steady_clock::now();
  testing::SshHosts hosts(max_hosts);
  if (!hosts.ok()) {
    std::fprintf(stderr, "fixture: %s\n", hosts.error().c_str());
    return 3;
  }
  testing::SleepChildren sleepers(max_hosts);
  for (int i = 0; i < max_hosts; ++i) {
    std::ofstream(hosts.OnHost(i, "/root/target.pid")) << sleepers.pids()[i] << "\n";
  }
  std::fprintf(stderr, "fixture ready in %.1f s\n",
               std::chrono::duration<double>(std::chrono::steady_clock::now() - setup0).count());

  // The floor: plain ssh commands (a handshake each), and the same running `ringfence host
  // version` (the binary's start-up on top).
  const int floor_n = only_hosts > 0 ? std::min(only_hosts, max_hosts) : max_hosts;
  const std::string version_cmd = binary + " host version";
  const double floor_true_1 = SshFloor(hosts, 1, "true");
  const double floor_true_n = SshFloor(hosts, floor_n, "true");
  const double floor_rf_1 = SshFloor(hosts, 1, version_cmd);
  const double floor_rf_n = SshFloor(hosts, floor_n, version_cmd);
  std::printf(
      "floor, one ssh command per host at once: `true` %.2f s on 1 host, %.2f s on %d; "
      "`ringfence host version` %.2f s on 1, %.2f s on %d\n",
      floor_true_1, floor_true_n, floor_n, floor_rf_1, floor_rf_n, floor_n);

  std::vector<Case> cases = {{1, 1, true}, {1, 1, false}};
  for (int n : {10, 50, 100}) {
    if (n > max_hosts || (only_hosts > 0 && n != only_hosts)) continue;
    for (int conc : {1, 32, 100}) cases.push_back({n, conc, true});
    // Without multiplexing every action is a full SSH handshake: concurrency 1 only for 10
    // hosts, 32 up to 50.
    for (int conc : {1, 32, 100}) {
      if ((conc == 1 && n > 10) || (conc == 32 && n > 50)) continue;
      cases.push_back({n, conc, false});
    }
  }
  std::printf("%6s %12s %10s %10s %8s\n", "hosts", "concurrency", "multiplex", "seconds", "x one");
  nlohmann::json results = nlohmann::json::array();
  double one_mux = 0, one_plain = 0;
  bool all_ok = true;
  uint64_t seed = 1;
  for (const Case& c : cases) {
    std::vector<double> times;
    std::string error;
    for (int r = 0; r < repeat; ++r) {
      Outcome o = RunOnce(hosts, binary, c, seed++, host_sessions);
      if (!o.ok) error = o.error;
      times.push_back(o.seconds);
    }
    std::sort(times.begin(), times.end());
    const double median = times[times.size() / 2];
    if (c.hosts == 1) (c.multiplex ? one_mux : one_plain) = median;
    const double base = c.multiplex ? one_mux : one_plain;
    std::printf("%6d %12d %10s %10.2f %8.1f%s\n", c.hosts, c.concurrency,
                c.multiplex ? "yes" : "no", median, base > 0 ? median / base : 0,
                error.empty() ? "" : ("  FAILED: " + error).c_str());
    std::fflush(stdout);
    all_ok = all_ok && error.empty();
    results.push_back({{"hosts", c.hosts},
                       {"max_concurrency", c.concurrency},
                       {"multiplex", c.multiplex},
                       {"seconds", median},
                       {"ratio_to_one_host", base > 0 ? median / base : 0},
                       {"ok", error.empty()}});
  }
  for (pid_t p : sleepers.pids()) ::kill(p, SIGCONT);
  double hundred = 0;
  for (const auto& r : results) {
    if (r["hosts"] == 100 && r["max_concurrency"] == 100 && r["multiplex"] == true) {
      hundred = r["seconds"];
    }
  }
  double load[3] = {0, 0, 0};
  if (::getloadavg(load, 3) < 0) load[0] = -1;
  nlohmann::json summary = {{"bench", "fanout"},
                            {"cpus", std::thread::hardware_concurrency()},
                            {"loadavg_1m", load[0]},
                            {"host_sessions", host_sessions},
                            {"one_host_seconds", one_mux},
                            {"hundred_hosts_seconds", hundred},
                            {"hundred_vs_one", one_mux > 0 ? hundred / one_mux : 0},
                            {"target_ratio", 3},
                            {"ssh_floor",
                             {{"hosts", floor_n},
                              {"true_one_host_seconds", floor_true_1},
                              {"true_all_hosts_seconds", floor_true_n},
                              {"version_one_host_seconds", floor_rf_1},
                              {"version_all_hosts_seconds", floor_rf_n}}},
                            {"all_reverted", all_ok},
                            {"results", results}};
  std::printf("%s\n", summary.dump().c_str());
  return all_ok ? 0 : 1;
}
