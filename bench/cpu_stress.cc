// bench/cpu_stress: the load the cpu_stress fault achieves with one worker at 25 / 50 / 75 %
// against `stress-ng --cpu 1 --cpu-load N`, both measured the same way: utime + stime of every
// process of the stressor from /proc/PID/stat over the same window after a warm-up, divided by
// the wall time. Prints a table, then one JSON line. Target: within 3 points of the load asked.
#include <dirent.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/clock.h"
#include "core/base/process_table.h"
#include "core/fault/fault.h"
#include "core/sys/system_clock.h"
#include "core/sys/system_env.h"
#include "core/sys/system_process_table.h"

extern char** environ;

namespace {

constexpr auto kWarmUp = std::chrono::milliseconds(1000);
constexpr auto kWindow = std::chrono::milliseconds(5000);
constexpr int kLoads[] = {25, 50, 75};

struct Stat {
  pid_t ppid = 0;
  uint64_t cpu_ticks = 0;
  bool ok = false;
};

Stat ReadStat(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  Stat s;
  if (!std::getline(in, line)) return s;
  std::istringstream rest(line.substr(line.rfind(')') + 2));
  std::vector<std::string> f;
  for (std::string x; rest >> x;) f.push_back(x);
  if (f.size() < 13) return s;
  s.ppid = std::stoi(f[1]);
  s.cpu_ticks = std::stoull(f[11]) + std::stoull(f[12]);
  s.ok = true;
  return s;
}

// utime + stime of `root` and its children, in clock ticks.
uint64_t TreeTicks(pid_t root) {
  uint64_t ticks = 0;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return 0;
  while (struct dirent* e = ::readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (*end != '\0' || pid <= 0) continue;
    Stat s = ReadStat(static_cast<pid_t>(pid));
    if (s.ok && (pid == root || s.ppid == root)) ticks += s.cpu_ticks;
  }
  ::closedir(proc);
  return ticks;
}

// Percent of one CPU used by the tree under `root` over kWindow, after kWarmUp.
double MeasureLoad(pid_t root) {
  std::this_thread::sleep_for(kWarmUp);
  const uint64_t t0 = TreeTicks(root);
  const auto w0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(kWindow);
  const uint64_t t1 = TreeTicks(root);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
  return 100.0 * static_cast<double>(t1 - t0) / static_cast<double>(::sysconf(_SC_CLK_TCK)) / wall;
}

// The fault's workers are children of this process: measured as the tree of the worker itself.
double RunFault(int load, ringfence::FaultEnv& env) {
  const ringfence::FaultFactory* factory = ringfence::FaultRegistry::Global().Find("cpu_stress");
  ringfence::FaultStep step;
  step.name = "bench-cpu";
  step.type = "cpu_stress";
  step.params = {{"workers", 1}, {"load", load}, {"cgroup", false}};
  auto fault = factory->Create(step, ringfence::TargetSpec{});
  const ringfence::Target host{"local", {}, "host local"};
  ringfence::Status s = fault->Prepare(env, {host});
  auto undo = s.ok() ? fault->PlanUndo(env, host) : ringfence::Result<ringfence::UndoRecord>(s);
  if (undo.ok()) s = fault->Inject(env, host, *undo);
  double achieved = -1;
  if (undo.ok() && s.ok()) {
    auto workers = fault->Observe(env)["workers"];
    if (workers.size() == 1) achieved = MeasureLoad(workers[0]["pid"].get<pid_t>());
  } else {
    std::fprintf(stderr, "cpu_stress failed: %s\n",
                 (undo.ok() ? s : undo.status()).message().c_str());
  }
  if (undo.ok()) (void)factory->Revert(env, *undo);
  return achieved;
}

double RunStressNg(int load) {
  const std::string cpu_load = std::to_string(load);
  const char* argv[] = {"stress-ng", "--cpu", "1",       "--cpu-load", cpu_load.c_str(),
                        "--timeout", "60s",   "--quiet", nullptr};
  pid_t pid = 0;
  if (::posix_spawnp(&pid, "stress-ng", nullptr, nullptr, const_cast<char**>(argv), environ) != 0) {
    return -1;
  }
  const double achieved = MeasureLoad(pid);
  ::kill(pid, SIGTERM);
  int status = 0;
  for (int i = 0; i < 100 && ::waitpid(pid, &status, WNOHANG) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (::waitpid(pid, &status, WNOHANG) == 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  return achieved;
}

double Round1(double x) { return std::round(x * 10) / 10; }

// The 1-minute load average: the bench shares the CPUs with whatever else runs.
double LoadAverage() {
  std::ifstream in("/proc/loadavg");
  double one = -1;
  in >> one;
  return one;
}

}  // namespace

int main() {
  auto table = ringfence::MakeSystemProcessTable();
  ringfence::StopSource stop;
  ringfence::SystemEnv system_env{*table};
  ringfence::FaultEnv env{system_env, stop, "bench-cpu-stress"};
  const double load_before = LoadAverage();
  nlohmann::json rows = nlohmann::json::array();
  double worst = 0, worst_stress_ng = 0;
  bool failed = false;
  std::printf("load  cpu_stress  stress-ng  (percent of one CPU, utime+stime over %lld ms)\n",
              static_cast<long long>(kWindow.count()));
  for (int load : kLoads) {
    const double ours = RunFault(load, env);
    const double theirs = RunStressNg(load);
    failed = failed || ours < 0 || theirs < 0;
    worst = std::max(worst, std::fabs(ours - load));
    worst_stress_ng = std::max(worst_stress_ng, std::fabs(theirs - load));
    std::printf("%4d  %10.1f  %9.1f\n", load, ours, theirs);
    rows.push_back({{"load", load}, {"cpu_stress", Round1(ours)}, {"stress_ng", Round1(theirs)}});
  }
  const bool pass = !failed && worst <= 3;
  std::printf("worst error: cpu_stress %.1f points, stress-ng %.1f points (target <= 3)\n", worst,
              worst_stress_ng);
  nlohmann::json result = {{"bench", "cpu_stress"},
                           {"window_ms", kWindow.count()},
                           {"results", rows},
                           {"cpu_stress_max_error_points", Round1(worst)},
                           {"stress_ng_max_error_points", Round1(worst_stress_ng)},
                           {"target_max_error_points", 3},
                           {"cpus", std::thread::hardware_concurrency()},
                           {"loadavg_1m_before", load_before},
                           {"loadavg_1m_after", LoadAverage()},
                           {"pass", pass}};
  std::printf("%s\n", result.dump().c_str());
  return pass ? 0 : 1;
}
