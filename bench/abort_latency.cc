// bench/abort_latency: how fast a guard breach stops a run and reverts every fault.
//
// A demo service instance is the controlled target; the experiment pauses two `sleep` processes
// (two process_pause faults, 60 s each) and guards the instance's /health with a `probe` source
// ({"min": 1}). Once both faults are active, the bench waits a random (seeded) moment and then
// makes the instance fail (POST /admin/health?state=down): that is T0. The lifecycle engine, its
// GuardMonitor and the real faults do the rest, as `ringfence run` would. Measured per run:
//   detection     = the breach's detected_at − T0
//   all reverted  = the last target's reverted_at − T0
// 20 runs (--runs N) at each guard interval of 100 ms, 250 ms and 1 s; prints median and p99 of
// both, then one JSON line. Target: median detection ≤ interval + 20 ms, median all-reverted ≤
// median detection + 20 ms.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "bench/figures.h"
#include "core/base/clock.h"
#include "core/base/process_table.h"
#include "core/engine/lifecycle.h"
#include "core/fault/executor.h"
#include "core/fault/fault.h"
#include "core/ledger/revert_ledger.h"
#include "core/model/experiment.h"
#include "core/observe/guards.h"
#include "core/observe/probe.h"
#include "core/sys/http_client.h"
#include "core/sys/system_clock.h"
#include "core/sys/system_env.h"
#include "core/sys/system_process_table.h"
#include "core/targets/target_resolver.h"
#include "demo/demo_fleet.h"

namespace ringfence {
namespace {

using bench::Quantile;

using std::chrono::milliseconds;

double Ms(std::chrono::system_clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// Two `sleep` children with a marker in their command line, killed and reaped at the end.
class Sleepers {
 public:
  Sleepers()
      : marker_(std::to_string(::getpid()) + std::to_string(std::random_device{}() % 100000)) {
    for (int i = 0; i < 2; ++i) {
      const std::string arg = "3600." + marker_ + std::to_string(i);
      const pid_t parent = ::getpid();
      const pid_t pid = ::fork();
      if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(127);
        ::execlp("sleep", "sleep", arg.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
      }
      if (pid > 0) pids_.push_back(pid);
    }
  }
  ~Sleepers() {
    for (pid_t pid : pids_) {
      ::kill(pid, SIGKILL);
      ::kill(pid, SIGCONT);
      ::waitpid(pid, nullptr, 0);
    }
  }
  // A regex for child `i`, escaped for a JSON string.
  std::string regex(int i) const { return "^sleep 3600\\\\." + marker_ + std::to_string(i) + "$"; }

 private:
  std::string marker_;
  std::vector<pid_t> pids_;
};

bool Post(int port, const std::string& path) {
  Result<HttpResponse> r =
      HttpPost("http://127.0.0.1:" + std::to_string(port) + path, "", milliseconds(2000));
  return r.ok() && r->status == 200;
}

struct Sample {
  double detection_ms = 0;
  double reverted_ms = 0;
};

// One run: returns nullopt (and says why) when the run did not end in a guard abort.
std::optional<Sample> RunOnce(const Experiment& experiment, int port, std::mt19937_64& rng,
                              milliseconds interval) {
  StopSource stop;
  auto processes = MakeSystemProcessTable();
  SystemEnv system_env{*processes};
  auto probes = MakeProbeRunner(system_env);
  FaultEnv env{system_env, stop};
  LocalExecutor executor(env, FaultRegistry::Global());
  MemoryLedger ledger;
  auto monitor = MakeGuardMonitor(experiment.guards, {system_env, *probes, experiment});
  EngineDeps deps{system_env, *probes, FaultRegistry::Global(), ledger, executor, stop, {}};
  deps.guards = monitor.get();
  LifecycleEngine engine(deps);

  WallTime t0{};
  std::thread trigger([&] {
    // Both faults active, then a moment uniformly within one interval (plus 50 ms), then T0.
    for (int i = 0; i < 2000; ++i) {
      RunProgress p = engine.Progress();
      if (p.phase == "method" && p.active_faults.size() == 2) break;
      std::this_thread::sleep_for(milliseconds(2));
    }
    const auto delay = milliseconds(50 + UniformIndex(rng, interval.count()));
    std::this_thread::sleep_for(delay);
    t0 = SystemClock().Now();
    if (!Post(port, "/admin/health?state=down")) std::fprintf(stderr, "POST failed\n");
  });
  RunReport report = engine.Run(experiment, 1, "bench");
  trigger.join();
  const bool restored = Post(port, "/admin/health?state=up");
  if (!restored) std::fprintf(stderr, "could not set the instance healthy again\n");
  if (report.status != RunStatus::kAborted || !report.breach) {
    std::fprintf(stderr, "run not aborted by a guard: %s (%s)\n", RunStatusName(report.status),
                 report.reason.c_str());
    return std::nullopt;
  }
  WallTime last_revert{};
  for (const auto& f : report.faults) {
    for (const auto& t : f.targets) {
      if (!t.reverted_at) {
        std::fprintf(stderr, "a target was not reverted\n");
        return std::nullopt;
      }
      last_revert = std::max(last_revert, *t.reverted_at);
    }
  }
  return Sample{Ms(report.breach->detected_at - t0), Ms(last_revert - t0)};
}

}  // namespace
}  // namespace ringfence

int main(int argc, char** argv) {
  using namespace ringfence;
  int runs = 20;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--runs") runs = std::max(1, std::atoi(argv[i + 1]));
  }
  spdlog::set_level(spdlog::level::critical);  // every run ends in a logged breach

  DemoFleetOptions options;
  options.size = 1;
  options.service_binary = DemoFleet::DefaultServiceBinary();
  // The bench lives in build/bench/; the service in build/.
  if (::access(options.service_binary.c_str(), X_OK) != 0) {
    options.service_binary = options.service_binary.substr(0, options.service_binary.rfind('/'));
    options.service_binary = options.service_binary.substr(0, options.service_binary.rfind('/')) +
                             "/ringfence-demo-service";
  }
  DemoFleet fleet(options);
  if (Status s = fleet.Start(); !s.ok()) {
    std::fprintf(stderr, "demo fleet: %s\n", s.message().c_str());
    return 1;
  }
  const int port = fleet.ports().at(0);
  Sleepers sleepers;
  std::mt19937_64 rng(20261121);

  const double load_average = bench::LoadAverage();
  std::printf(
      "abort latency: %d runs per interval; T0 = the target starts failing; "
      "load average %.2f\n",
      runs, load_average);
  std::printf("%-9s %-22s %-22s %s\n", "interval", "detection p50 / p99", "all-reverted p50 / p99",
              "target (p50)");
  nlohmann::json figures = nlohmann::json::object();
  bool all_met = true;
  for (const milliseconds interval : {milliseconds(100), milliseconds(250), milliseconds(1000)}) {
    const std::string text = R"({
      "version": 1, "title": "abort latency",
      "targets": {"a": {"process": {"cmdline": ")" +
                             sleepers.regex(0) + R"("}},
                  "b": {"process": {"cmdline": ")" +
                             sleepers.regex(1) + R"("}}},
      "method": [{"type": "process_pause", "name": "pause-a", "target": "a", "duration": "60s"},
                 {"type": "process_pause", "name": "pause-b", "target": "b", "duration": "60s"},
                 {"type": "wait", "duration": "60s"}],
      "guards": [{"name": "target-healthy", "interval": ")" +
                             FormatDuration(interval) + R"(",
                  "source": {"type": "probe", "probe": {"type": "http",
                             "url": "http://127.0.0.1:)" +
                             std::to_string(port) + R"(/health",
                             "timeout": "500ms"}},
                  "condition": {"min": 1}}]
    })";
    ValidationErrors errors;
    LoadOptions load;
    load.catalog = &FaultRegistry::Global();
    std::optional<Experiment> experiment = LoadExperimentText(text, load, errors);
    if (!experiment) {
      for (const auto& line : errors.Format("bench")) std::fprintf(stderr, "%s\n", line.c_str());
      return 1;
    }
    std::vector<double> detection, reverted;
    for (int i = 0; i < runs; ++i) {
      std::optional<Sample> s = RunOnce(*experiment, port, rng, interval);
      if (!s) return 1;
      detection.push_back(s->detection_ms);
      reverted.push_back(s->reverted_ms);
    }
    const double d50 = Quantile(detection, 0.5), d99 = Quantile(detection, 0.99);
    const double r50 = Quantile(reverted, 0.5), r99 = Quantile(reverted, 0.99);
    const bool met = d50 <= interval.count() + 20 && r50 <= d50 + 20;
    all_met = all_met && met;
    char d[40], r[40];
    std::snprintf(d, sizeof d, "%.1f / %.1f ms", d50, d99);
    std::snprintf(r, sizeof r, "%.1f / %.1f ms", r50, r99);
    std::printf("%-9s %-22s %-22s %s\n", FormatDuration(interval).c_str(), d, r,
                met ? "met" : "MISSED");
    figures[FormatDuration(interval)] = {{"runs", runs},
                                         {"detection_p50_ms", d50},
                                         {"detection_p99_ms", d99},
                                         {"all_reverted_p50_ms", r50},
                                         {"all_reverted_p99_ms", r99},
                                         {"target_met", met}};
  }
  nlohmann::json line = {
      {"bench", "abort_latency"}, {"intervals", figures}, {"target_met", all_met}};
  std::printf("%s\n", line.dump().c_str());
  return 0;
}
