// bench/tiny_run: what a tiny `ringfence run` costs from start to exit.
//
// A tiny run is one http steady-state probe (against a demo service instance on loopback that
// the bench starts) and one method step, a `true` command probe: nothing is injected, so what
// is measured is the runner's own overhead (start-up, state dir, ledger, watchdog, journal).
// Each run gets a fresh state dir. Measured per run, from the bench (the runner's parent):
//   wall  = fork to reaped exit
//   CPU   = user + system time of the runner and the children it reaped (its watchdog)
//   RSS   = the largest maximum resident set size among them (wait4's ru_maxrss)
// The baseline is `ringfence validate` of the same file by the same binary: starting the
// binary and reading the file, no run. With `--baseline PATH` a second binary (e.g. one built
// from an older commit) runs the same tiny run, interleaved with the first, for a before/after
// comparison in one program run. Prints median and p90 of each figure over --runs N (default
// 30) and the ratio of the medians to the baseline's, then one JSON line.
//
//   build/bench/tiny_run [--runs N] [--binary PATH] [--baseline PATH]
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/figures.h"
#include "demo/demo_fleet.h"

namespace ringfence {
namespace {

using bench::Quantile;

namespace fs = std::filesystem;

double Seconds(const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; }

struct Sample {
  double wall_ms = 0;
  double cpu_ms = 0;
  double rss_mib = 0;
  int exit_code = -1;
};

// Runs `argv` with stdout and stderr to `log`, and measures it (see the top of the file).
Sample Measure(const std::vector<std::string>& argv, const std::string& log) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  Sample s;
  const auto t0 = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) return s;
  if (pid == 0) {
    if (std::FILE* f = std::fopen(log.c_str(), "w")) {
      ::dup2(::fileno(f), 1);
      ::dup2(::fileno(f), 2);
    }
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  struct rusage ru {};
  while (::wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {
  }
  s.wall_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  s.cpu_ms = (Seconds(ru.ru_utime) + Seconds(ru.ru_stime)) * 1000.0;
  s.rss_mib = static_cast<double>(ru.ru_maxrss) / 1024.0;
  s.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return s;
}

struct Series {
  std::string name;
  std::vector<std::string> argv;  // "STATE" is replaced by a fresh state dir per run
  std::vector<Sample> samples;
  int failures = 0;
};

struct Figures {
  double p50 = 0, p90 = 0;
};

Figures Of(const Series& s, double Sample::*field) {
  std::vector<double> v;
  for (const auto& x : s.samples) v.push_back(x.*field);
  if (v.empty()) return {};
  return {Quantile(v, 0.5), Quantile(v, 0.9)};
}

int Main(int argc, char** argv) {
  int runs = 30;
  std::string binary = std::string(RINGFENCE_BENCH_BINARY_DIR) + "/ringfence";
  std::string baseline;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--runs") {
      runs = std::max(1, std::atoi(argv[i + 1]));
    } else if (flag == "--binary") {
      binary = argv[i + 1];
    } else if (flag == "--baseline") {
      baseline = argv[i + 1];
    } else {
      std::fprintf(stderr, "usage: tiny_run [--runs N] [--binary PATH] [--baseline PATH]\n");
      return 2;
    }
  }
  if (argc % 2 == 0) {
    std::fprintf(stderr, "usage: tiny_run [--runs N] [--binary PATH] [--baseline PATH]\n");
    return 2;
  }

  DemoFleetOptions fleet_options;
  fleet_options.size = 1;
  fleet_options.service_binary =
      std::string(RINGFENCE_BENCH_BINARY_DIR) + "/ringfence-demo-service";
  DemoFleet server(fleet_options);
  if (Status st = server.Start(); !st.ok()) {
    std::fprintf(stderr, "tiny_run: %s\n", st.message().c_str());
    return 1;
  }
  const std::string port = std::to_string(server.ports().at(0));

  char tmpl[] = "/tmp/ringfence-tiny-run-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    std::perror("tiny_run: mkdtemp");
    return 1;
  }
  const fs::path dir = tmpl;
  const std::string experiment = (dir / "tiny.json").string();
  {
    const nlohmann::json doc = {
        {"version", 1},
        {"title", "tiny run"},
        {"steady_state",
         {{{"type", "http"},
           {"name", "health"},
           {"url", "http://127.0.0.1:" + port + "/health"},
           {"status", 200}}}},
        {"method",
         {{{"type", "probe"},
           {"probe", {{"name", "true"}, {"type", "command"}, {"argv", {"true"}}}}}}},
        {"guards", nlohmann::json::array()}};
    std::ofstream(experiment) << doc.dump(2) << "\n";
  }

  auto run_argv = [&](const std::string& bin) {
    return std::vector<std::string>{bin,     "run",       experiment,           "--state-dir",
                                    "STATE", "--journal", "STATE/journal.json", "--progress",
                                    "never"};
  };
  std::vector<Series> series;
  series.push_back({"validate (baseline)", {binary, "validate", experiment}, {}, 0});
  series.push_back({"run", run_argv(binary), {}, 0});
  if (!baseline.empty()) series.push_back({"run, --baseline binary", run_argv(baseline), {}, 0});

  // Interleaved, so that a busy moment of the machine falls on every series alike; one warm-up
  // round first (page cache, the service's first request).
  for (int round = -1; round < runs; ++round) {
    for (auto& s : series) {
      const fs::path state = dir / ("state-" + std::to_string(round + 1));
      std::vector<std::string> args = s.argv;
      for (auto& a : args) {
        if (a.rfind("STATE", 0) == 0) a = state.string() + a.substr(5);
      }
      Sample sample = Measure(args, (dir / "last.log").string());
      std::error_code ignored;
      fs::remove_all(state, ignored);
      if (round < 0) continue;
      if (sample.exit_code != 0) {
        ++s.failures;
        std::ifstream log(dir / "last.log");
        std::string line, last;
        while (std::getline(log, line)) last = line;
        std::fprintf(stderr, "tiny_run: %s exited %d: %s\n", s.name.c_str(), sample.exit_code,
                     last.c_str());
        continue;
      }
      s.samples.push_back(sample);
    }
  }
  std::error_code ignored;
  fs::remove_all(dir, ignored);
  server.Stop();

  const double load_average = bench::LoadAverage();
  std::printf(
      "tiny run (one http probe, one `true` step): %d runs each, interleaved; load "
      "average %.2f\n",
      runs, load_average);
  std::printf("%-24s %-24s %-24s %-20s %s\n", "", "wall p50 / p90 (ms)", "CPU p50 / p90 (ms)",
              "max RSS p50 / p90", "vs baseline (p50 wall, CPU, RSS)");
  const Figures base_wall = Of(series[0], &Sample::wall_ms);
  const Figures base_cpu = Of(series[0], &Sample::cpu_ms);
  const Figures base_rss = Of(series[0], &Sample::rss_mib);
  nlohmann::json figures = nlohmann::json::object();
  for (const auto& s : series) {
    const Figures wall = Of(s, &Sample::wall_ms);
    const Figures cpu = Of(s, &Sample::cpu_ms);
    const Figures rss = Of(s, &Sample::rss_mib);
    auto ratio = [](double a, double b) { return b > 0 ? a / b : 0.0; };
    std::printf(
        "%-24s %7.1f / %-14.1f %7.1f / %-14.1f %5.1f / %-5.1f MiB   %.2f×, %.2f×, %.2f×%s\n",
        s.name.c_str(), wall.p50, wall.p90, cpu.p50, cpu.p90, rss.p50, rss.p90,
        ratio(wall.p50, base_wall.p50), ratio(cpu.p50, base_cpu.p50), ratio(rss.p50, base_rss.p50),
        s.failures > 0 ? (" (" + std::to_string(s.failures) + " failed)").c_str() : "");
    figures[s.name] = {{"wall_ms", {{"p50", wall.p50}, {"p90", wall.p90}}},
                       {"cpu_ms", {{"p50", cpu.p50}, {"p90", cpu.p90}}},
                       {"max_rss_mib", {{"p50", rss.p50}, {"p90", rss.p90}}},
                       {"failures", s.failures}};
  }
  bool failed = false;
  for (const auto& s : series) failed = failed || s.failures > 0;
  std::printf("%s\n", nlohmann::json{{"bench", "tiny_run"},
                                     {"runs", runs},
                                     {"binary", binary},
                                     {"baseline_binary", baseline},
                                     {"load_average", load_average},
                                     {"figures", figures}}
                          .dump()
                          .c_str());
  return failed ? 1 : 0;
}

}  // namespace
}  // namespace ringfence

int main(int argc, char** argv) { return ringfence::Main(argc, argv); }
