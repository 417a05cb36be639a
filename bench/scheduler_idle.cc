// bench/scheduler_idle: the CPU an idle `ringfence scheduler` uses.
//
// Starts the scheduler on a schedule of three entries that are not due during the measurement
// (yearly, on 1 January), waits for it to log its next runs, then reads its user + system time
// (/proc/PID/stat) at the start and the end of --seconds S (default 60) and prints the share of
// one core. The baseline is `sleep` measured over the same time (a process that does nothing).
// Prints one JSON line at the end.
//
//   build/bench/scheduler_idle [--seconds S] [--binary PATH]

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "bench/figures.h"

namespace ringfence {
namespace {

namespace fs = std::filesystem;

// utime + stime of `pid`, in clock ticks.
long long CpuTicks(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  const auto close = text.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(text.substr(close + 2));
  std::string field;
  long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoll(field);
    if (i == 15) stime = std::stoll(field);
  }
  return utime + stime;
}

pid_t Start(const std::vector<std::string>& argv, const std::string& log) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::freopen(log.c_str(), "w", stderr);
    std::freopen("/dev/null", "w", stdout);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

double Percent(pid_t pid, int seconds) {
  const long long before = CpuTicks(pid);
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  const long long after = CpuTicks(pid);
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  return 100.0 * (after - before) / ticks / seconds;
}

int Main(int argc, char** argv) {
  int seconds = 60;
  std::string binary = RINGFENCE_BENCH_BINARY_DIR "/ringfence";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--binary") == 0) binary = argv[i + 1];
  }
  char tmpl[] = "/tmp/ringfence-bench-idle-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  {
    std::ofstream(dir + "/wait.json")
        << R"({"version": 1, "title": "wait", "method": [{"type": "wait", "duration": "1s"}],
              "guards": []})";
    std::ofstream(dir + "/schedule.json") << R"({"version": 1, "entries": [
        {"name": "a", "experiment": "wait.json", "calendar": "*-01-01 03:00"},
        {"name": "b", "experiment": "wait.json", "calendar": "*-01-01 04:00"},
        {"name": "c", "experiment": "wait.json", "calendar": "*-01-01 05:00"}]})";
  }
  const pid_t scheduler =
      Start({binary, "scheduler", dir + "/schedule.json", "--state-dir", dir + "/state"},
            dir + "/scheduler.log");
  const pid_t sleeper = Start({"sleep", std::to_string(seconds + 30)}, "/dev/null");
  std::this_thread::sleep_for(std::chrono::seconds(2));  // past the start-up
  double scheduler_pct = 0, sleep_pct = 0;
  std::thread other([&] { sleep_pct = Percent(sleeper, seconds); });
  scheduler_pct = Percent(scheduler, seconds);
  other.join();
  ::kill(scheduler, SIGTERM);
  ::kill(sleeper, SIGTERM);
  ::waitpid(scheduler, nullptr, 0);
  ::waitpid(sleeper, nullptr, 0);
  std::printf(
      "idle scheduler over %d s: %.3f %% of a core (baseline sleep: %.3f %%), load "
      "average %.2f\n",
      seconds, scheduler_pct, sleep_pct, bench::LoadAverage());
  std::printf("%s\n", nlohmann::json({{"seconds", seconds},
                                      {"scheduler_cpu_percent", scheduler_pct},
                                      {"sleep_cpu_percent", sleep_pct}})
                          .dump()
                          .c_str());
  fs::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace ringfence

int main(int argc, char** argv) { return ringfence::Main(argc, argv); }
