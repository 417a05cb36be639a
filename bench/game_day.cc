// bench/game_day: what the game-day controls cost and how fast they abort (docs/game-days.md).
//
// 1. Dashboard CPU. The live dashboard (runner/gameday/dashboard.h) draws on a pseudo-terminal
//    (120×40) for --seconds (default 10) at its 10 redraws a second, while a feeder thread plays
//    a run's observations (3 faults, 3 guards sampled 4 times a second, events); a forked child
//    drains the terminal, so only this process's CPU (getrusage) is counted. Baseline: the same
//    with the one-line status (runner/base/terminal.h StatusLine), which the dashboard replaces,
//    and with nothing drawn at all (the feeder alone). Target: the dashboard < 1 % of a core.
// 2. Abort latency. The ringfence binary runs an experiment that pauses two `sleep` processes
//    (two process_pause faults, 60 s each) with the control API on loopback; once both are
//    stopped, the bench either types `a` then `y` on the run's terminal (a pty: the dashboard's
//    keys) or POSTs /abort with a token: T0 is just before the `y` / the request. All reverted =
//    the moment both processes are seen running again in /proc (polled every 100 µs). --runs N
//    (default 10) of each; median and p99 (nearest rank). The guard figure to compare with is
//    bench/abort_latency's "all reverted − detection" (≈ 0.5 ms).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "bench/figures.h"
#include "core/model/experiment.h"
#include "runner/base/terminal.h"
#include "runner/gameday/dashboard.h"
#include "runner/gameday/game_day.h"

namespace ringfence {
namespace {

using Steady = std::chrono::steady_clock;

double CpuSeconds() {
  struct rusage ru;
  ::getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

Experiment BenchExperiment() {
  Experiment e;
  e.title = "checkout survives a cache outage";
  for (int i = 0; i < 3; ++i) {
    MethodStep s;
    s.kind = MethodStep::Kind::kFault;
    s.name = s.fault.name = "fault-" + std::to_string(i);
    s.fault.duration = std::chrono::minutes(10);
    e.method.push_back(s);
    GuardSpec g;
    g.name = "guard-" + std::to_string(i);
    e.guards.push_back(g);
  }
  return e;
}

// Plays observations into `day` until `stop`: 3 guards at 4 samples a second, an event a second.
void Feed(GameDay& day, const std::atomic<bool>& stop) {
  for (int i = 0; i < 3; ++i) {
    day.FaultActive("fault-" + std::to_string(i), "pid 4" + std::to_string(i) + " (sleep)", true);
  }
  for (int tick = 0; !stop; ++tick) {
    for (int g = 0; g < 3; ++g) {
      GuardSample s;
      s.at = std::chrono::system_clock::now();
      s.value = 0.1 + 0.05 * ((tick + g) % 7);
      day.GuardSampled("guard-" + std::to_string(g), s);
    }
    if (tick % 4 == 0) day.Note("bench", "tick " + std::to_string(tick));
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

enum class Drawn { kNothing, kStatusLine, kDashboard };

// CPU share of one core while `what` is drawn for `seconds`.
double MeasureCpu(Drawn what, int seconds) {
  Experiment e = BenchExperiment();
  GameDay day(e, {});
  std::atomic<bool> stop{false};
  std::thread feeder([&] { Feed(day, stop); });
  const double cpu0 = CpuSeconds();
  const auto t0 = Steady::now();
  {
    std::optional<Dashboard> board;
    std::optional<StatusLine> line;
    if (what == Drawn::kDashboard) board.emplace(day);
    if (what == Drawn::kStatusLine) {
      line.emplace([&] { return std::string(day.Status()["phase"]) + " | active faults: 3"; },
                   true);
    }
    std::this_thread::sleep_for(std::chrono::seconds(seconds));
  }
  const double cpu = CpuSeconds() - cpu0;
  const double wall = std::chrono::duration<double>(Steady::now() - t0).count();
  stop = true;
  feeder.join();
  return cpu / wall;
}

// ---- Abort latency through the binary ----

bool Stopped(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), {});
  const size_t close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'T';
}

struct Sleepers {
  pid_t a = -1, b = -1;
  Sleepers() {
    a = Spawn();
    b = Spawn();
  }
  ~Sleepers() {
    for (pid_t p : {a, b}) {
      ::kill(p, SIGCONT);
      ::kill(p, SIGKILL);
      ::waitpid(p, nullptr, 0);
    }
  }
  static pid_t Spawn() {
    pid_t p = ::fork();
    if (p == 0) {
      ::execlp("sleep", "sleep", "1000", nullptr);
      ::_exit(127);
    }
    return p;
  }
};

void WriteFile(const std::string& path, const std::string& text, mode_t mode) {
  std::ofstream(path) << text;
  ::chmod(path.c_str(), mode);
}

const char kToken[] = "bench-token-0123456789abcdef";

// POST /abort with the bench's token over a plain loopback socket; reads the reply.
void PostAbort(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    const std::string req = std::string("POST /abort HTTP/1.1\r\nHost: 127.0.0.1\r\n") +
                            "Authorization: Bearer " + kToken +
                            "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    ssize_t ignored = ::write(fd, req.data(), req.size());
    char buf[512];
    while (::read(fd, buf, sizeof buf) > 0) {
    }
    (void)ignored;
  }
  ::close(fd);
}

// One run: returns request → both resumed in ms, or a negative number on failure.
double OneAbort(const std::string& binary, const std::string& dir, bool by_key, int port) {
  Sleepers s;
  nlohmann::json exp = {
      {"version", 1},
      {"title", "abort latency"},
      {"targets", {{"a", {{"process", {{"pid", s.a}}}}}, {"b", {{"process", {{"pid", s.b}}}}}}},
      {"steady_state", nlohmann::json::array()},
      {"method",
       {{{"type", "process_pause"}, {"name", "pause-a"}, {"target", "a"}, {"duration", "60s"}},
        {{"type", "process_pause"}, {"name", "pause-b"}, {"target", "b"}, {"duration", "60s"}},
        {{"type", "wait"}, {"duration", "60s"}}}},
      {"guards", nlohmann::json::array()}};
  WriteFile(dir + "/exp.json", exp.dump(), 0600);
  const std::string listen = "127.0.0.1:" + std::to_string(port);
  int master = -1;
  struct winsize ws = {40, 120, 0, 0};
  pid_t runner = ::forkpty(&master, nullptr, nullptr, &ws);
  if (runner == 0) {
    if (!by_key) {
      int null = ::open("/dev/null", O_RDONLY);
      ::dup2(null, STDIN_FILENO);
    }
    std::vector<std::string> args = {
        binary,         "run",          dir + "/exp.json",  "--journal", dir + "/journal.json",
        "--state-dir",  dir + "/state", "--control-listen", listen,      "--control-token-file",
        dir + "/tokens"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(binary.c_str(), argv.data());
    ::_exit(127);
  }
  std::atomic<bool> draining{true};
  std::thread drain([&] {
    char buf[65536];
    while (draining) {
      struct pollfd p = {master, POLLIN, 0};
      if (::poll(&p, 1, 50) > 0 && ::read(master, buf, sizeof buf) <= 0) break;
    }
  });
  const auto give_up = Steady::now() + std::chrono::seconds(30);
  while (!(Stopped(s.a) && Stopped(s.b)) && Steady::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  double ms = -1;
  if (Stopped(s.a) && Stopped(s.b)) {
    Steady::time_point t0;
    if (by_key) {
      ssize_t ignored = ::write(master, "a", 1);
      std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the prompt is drawn
      t0 = Steady::now();
      ignored = ::write(master, "y", 1);
      (void)ignored;
    } else {
      t0 = Steady::now();
      std::thread(PostAbort, port).detach();
    }
    while ((Stopped(s.a) || Stopped(s.b)) && Steady::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    if (!Stopped(s.a) && !Stopped(s.b)) {
      ms = std::chrono::duration<double, std::milli>(Steady::now() - t0).count();
    }
  }
  int status = 0;
  if (ms < 0) ::kill(runner, SIGINT);
  ::waitpid(runner, &status, 0);
  draining = false;
  drain.join();
  ::close(master);
  return ms;
}

}  // namespace
}  // namespace ringfence

int main(int argc, char** argv) {
  using namespace ringfence;
  int seconds = 10, runs = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--runs") == 0) runs = std::atoi(argv[i + 1]);
  }
  spdlog::set_level(spdlog::level::warn);
  // 1. CPU, on a pseudo-terminal drained by a child process.
  int master = -1, slave = -1;
  struct winsize ws = {40, 120, 0, 0};
  if (::openpty(&master, &slave, nullptr, nullptr, &ws) != 0) {
    std::perror("openpty");
    return 1;
  }
  const int saved_stderr = ::dup(STDERR_FILENO);
  pid_t drain = ::fork();
  if (drain == 0) {
    ::close(slave);
    char buf[65536];
    while (::read(master, buf, sizeof buf) > 0) {
    }
    ::_exit(0);
  }
  ::dup2(slave, STDERR_FILENO);
  const double nothing = MeasureCpu(Drawn::kNothing, seconds);
  const double status_line = MeasureCpu(Drawn::kStatusLine, seconds);
  const double dashboard = MeasureCpu(Drawn::kDashboard, seconds);
  ::dup2(saved_stderr, STDERR_FILENO);
  ::close(slave);
  ::close(master);
  ::kill(drain, SIGKILL);
  ::waitpid(drain, nullptr, 0);
  std::printf("dashboard CPU over %d s at 10 redraws/s (120x40 pty), share of one core:\n",
              seconds);
  std::printf("  feeder only (baseline)  %6.3f %%\n", nothing * 100);
  std::printf("  status line             %6.3f %%\n", status_line * 100);
  std::printf("  dashboard               %6.3f %%  (minus baseline: %.3f %%)\n", dashboard * 100,
              (dashboard - nothing) * 100);

  // 2. Abort latency through the binary.
  char tmpl[] = "/tmp/rf-bench-gameday-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  WriteFile(dir + "/tokens", std::string("bench ") + kToken + "\n", 0600);
  const std::string binary = std::string(RINGFENCE_BENCH_BINARY_DIR) + "/ringfence";
  std::vector<double> key, api;
  for (int i = 0; i < runs; ++i) {
    const int port = 20000 + (::getpid() + i) % 20000;
    const double k = OneAbort(binary, dir, true, port);
    if (k >= 0) key.push_back(k);
    const double a = OneAbort(binary, dir, false, port + 1);
    if (a >= 0) api.push_back(a);
  }
  std::filesystem::remove_all(dir);
  auto show = [](const char* what, const std::vector<double>& v) {
    if (v.empty()) return std::printf("  %-28s no successful run\n", what), void();
    std::printf("  %-28s p50 %.1f ms  p99 %.1f ms  (%zu runs)\n", what, bench::Quantile(v, 0.5),
                bench::Quantile(v, 0.99), v.size());
  };
  std::printf("abort → both process_pause targets running again (seen in /proc):\n");
  show("key (a, then y on the pty)", key);
  show("API (POST /abort)", api);
  std::printf("load average %.2f\n", bench::LoadAverage());
  nlohmann::json out = {{"dashboard_cpu_pct", dashboard * 100},
                        {"status_line_cpu_pct", status_line * 100},
                        {"baseline_cpu_pct", nothing * 100},
                        {"key_abort_p50_ms", key.empty() ? -1 : bench::Quantile(key, 0.5)},
                        {"api_abort_p50_ms", api.empty() ? -1 : bench::Quantile(api, 0.5)}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
