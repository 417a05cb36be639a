// bench/journal_soak: memory and disk of guard samples over a 1-hour-equivalent run.
//
// Two guards at a 50 ms interval for one hour of (accelerated) time: 72,000 samples each. The
// real GuardMonitor samples a fake source as fast as it can on a clock that jumps to every
// deadline; every sample goes to a real JournalWriter (event log, checkpoints every 2 s), and at
// the end the writer streams every sample into the final journal, as `ringfence run` does.
// Measured:
//   RSS growth per sample, after a warm-up of 2 × kGuardSampleWindow samples per guard
//   (target: 0 bytes; only the bounded window stays in memory)
//   the event log's and the final journal's bytes per guard-hour
// Baseline, in a child process on a fresh heap: the same samples kept in memory, as the monitor did
// before (a std::vector<GuardSample> per guard). Prints a table, then one JSON line.
// Usage: journal_soak [--hours H] [--dir DIR]
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "core/engine/journal.h"
#include "core/observe/guards.h"
#include "core/observe/metric_sources.h"

using namespace ringfence;

namespace {

constexpr std::chrono::milliseconds kInterval{50};
constexpr int kGuards = 2;

// Virtual time that jumps to whatever deadline a sampler sleeps until.
class JumpingClock : public Clock {
 public:
  WallTime Now() override { return WallTime(std::chrono::hours(493000)) + Elapsed(); }
  std::chrono::steady_clock::time_point Monotonic() override {
    return std::chrono::steady_clock::time_point(std::chrono::hours(1)) + Elapsed();
  }
  bool SleepUntil(std::chrono::steady_clock::time_point deadline, StopSource& stop) override {
    if (stop.stop_requested()) return false;
    const int64_t target =
        (deadline - std::chrono::steady_clock::time_point(std::chrono::hours(1))).count();
    int64_t now = ns_.load();
    while (now < target && !ns_.compare_exchange_weak(now, target)) {
    }
    return !stop.stop_requested();
  }

 private:
  std::chrono::nanoseconds Elapsed() const { return std::chrono::nanoseconds(ns_.load()); }
  std::atomic<int64_t> ns_{0};
};

// A source with a value that wanders, so that min/max and the samples' text vary.
class WanderingSource : public MetricSource {
 public:
  SourceReading Read() override {
    ++n_;
    return SourceReading::Value(std::round(1000 * (0.5 + 0.4 * std::sin(n_ / 97.0))) / 1000);
  }

 private:
  uint64_t n_ = 0;
};

long RssBytes() {
  std::ifstream in("/proc/self/statm");
  long pages_total = 0, pages_resident = 0;
  in >> pages_total >> pages_resident;
  return pages_resident * ::sysconf(_SC_PAGESIZE);
}

long FileBytes(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<long>(st.st_size) : -1;
}

double LoadAverage() {
  double load[1] = {0};
  return ::getloadavg(load, 1) == 1 ? load[0] : -1;
}

// The baseline: RSS growth per sample when every sample is kept in memory, one vector per
// guard, as the monitor did before. Measured in a child process, on a fresh heap.
double BaselineBytesPerSample(uint64_t per_guard, Clock& clock) {
  int fds[2];
  if (::pipe(fds) != 0) return -1;
  const pid_t pid = ::fork();
  if (pid == 0) {
    const long before = RssBytes();
    std::vector<std::vector<GuardSample>> kept(kGuards);
    WanderingSource source;
    for (uint64_t n = 0; n < per_guard; ++n) {
      for (int g = 0; g < kGuards; ++g) {
        GuardSample s;
        s.at = clock.Now();
        s.value = source.Read().value;
        kept[g].push_back(s);
      }
    }
    const double per_sample = static_cast<double>(RssBytes() - before) / (per_guard * kGuards);
    ssize_t ignored = ::write(fds[1], &per_sample, sizeof per_sample);
    (void)ignored;
    ::_exit(0);
  }
  ::close(fds[1]);
  double per_sample = -1;
  if (::read(fds[0], &per_sample, sizeof per_sample) != sizeof per_sample) per_sample = -1;
  ::close(fds[0]);
  ::waitpid(pid, nullptr, 0);
  return per_sample;
}

}  // namespace

int main(int argc, char** argv) {
  double hours = 1;
  std::string dir = "/tmp";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--hours") == 0) hours = std::atof(argv[i + 1]);
    if (std::strcmp(argv[i], "--dir") == 0) dir = argv[i + 1];
  }
  spdlog::set_level(spdlog::level::warn);
  const uint64_t per_guard =
      static_cast<uint64_t>(hours * 3600 * 1000 / static_cast<double>(kInterval.count()));
  const uint64_t warm_up = 2 * kGuardSampleWindow;

  Experiment experiment;
  experiment.title = "journal soak";
  experiment.document = {{"version", 1}, {"title", experiment.title}};
  std::vector<GuardSpec> specs;
  for (int i = 0; i < kGuards; ++i) {
    GuardSpec g;
    g.name = "guard-" + std::to_string(i);
    g.pointer = "/guards/" + std::to_string(i);
    g.source = {{"type", "scrape"}, {"url", "http://127.0.0.1:9/metrics"}, {"metric", "m"}};
    g.max = 1e9;  // never breaches
    g.interval = kInterval;
    specs.push_back(g);
  }

  JumpingClock clock;
  const double baseline_per_sample = BaselineBytesPerSample(per_guard, clock);
  const std::string journal_path = dir + "/journal_soak." + std::to_string(::getpid()) + ".json";
  auto writer = JournalWriter::Open(
      journal_path, experiment, "soak",
      JournalWriter::Options{clock, nullptr, std::chrono::seconds(2), true, {}});
  if (!writer.ok()) {
    std::fprintf(stderr, "journal_soak: %s\n", writer.status().message().c_str());
    return 1;
  }
  auto monitor = MakeGuardMonitorWithSources(specs, clock, [](const GuardSpec&) {
    return Result<std::unique_ptr<MetricSource>>(std::make_unique<WanderingSource>());
  });
  (*writer)->SetLiveGuards([&monitor] { return monitor->ToJson(); });

  std::mutex mu;
  std::condition_variable cv;
  std::vector<uint64_t> counts(kGuards, 0);
  long rss_warm = 0;
  bool warm = false, done = false;
  const auto t0 = std::chrono::steady_clock::now();
  monitor->Start([](const GuardBreach&) {},
                 [&](const std::string& guard, const GuardSample& sample) {
                   (*writer)->GuardSampled(guard, sample);
                   std::lock_guard<std::mutex> lock(mu);
                   const int i = guard.back() - '0';
                   ++counts[i];
                   bool all_warm = true, all_done = true;
                   for (uint64_t c : counts) {
                     all_warm = all_warm && c >= warm_up;
                     all_done = all_done && c >= per_guard;
                   }
                   if (all_warm && !warm) {
                     warm = true;
                     rss_warm = RssBytes();
                   }
                   if (all_done && !done) {
                     done = true;
                     cv.notify_all();
                   }
                 });
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return done; });
  }
  const long rss_end = RssBytes();
  monitor->Stop();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  uint64_t total = 0;
  for (uint64_t c : counts) total += c;
  const long events_bytes = FileBytes((*writer)->events_path());

  RunReport report;
  report.run_id = "soak";
  report.status = RunStatus::kPassed;
  report.guards = monitor->ToJson();
  Status finished = (*writer)->Finish(JournalJson(report, experiment));
  if (!finished.ok()) {
    std::fprintf(stderr, "journal_soak: %s\n", finished.message().c_str());
    return 1;
  }
  const long rss_after_finish = RssBytes();
  const long journal_bytes = FileBytes(journal_path);
  // The final journal holds every sample.
  size_t in_journal = 0;
  {
    std::ifstream in(journal_path);
    nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
    if (!j.is_discarded()) {
      for (const auto& g : j["guards"]) in_journal += g["samples"].size();
    }
  }
  ::unlink(journal_path.c_str());
  const uint64_t measured = (per_guard - warm_up) * kGuards;  // between the two RSS readings
  const double growth_per_sample =
      measured > 0 ? static_cast<double>(rss_end - rss_warm) / static_cast<double>(measured) : 0;

  const double guard_hours = hours * kGuards;
  {
    std::printf("journal_soak: %d guards × %llu samples (%.2f h at %lld ms) in %.1f s, load %.2f\n",
                kGuards, static_cast<unsigned long long>(per_guard), hours,
                static_cast<long long>(kInterval.count()), seconds, LoadAverage());
    std::printf("%-44s %12s\n", "", "bytes");
    std::printf("%-44s %12.1f\n", "RSS growth per sample, streamed (target 0)", growth_per_sample);
    std::printf("%-44s %12.1f\n", "RSS growth per sample, kept in memory", baseline_per_sample);
    std::printf("%-44s %12ld\n", "RSS after warm-up", rss_warm);
    std::printf("%-44s %12ld\n", "RSS at the last sample", rss_end);
    std::printf("%-44s %12ld\n", "RSS after the final journal was written", rss_after_finish);
    std::printf("%-44s %12.0f\n", "event log per guard-hour", events_bytes / guard_hours);
    std::printf("%-44s %12.0f\n", "final journal per guard-hour", journal_bytes / guard_hours);
    std::printf("%-44s %12zu of %llu\n", "samples in the final journal", in_journal,
                static_cast<unsigned long long>(total));
    nlohmann::json line = {{"bench", "journal_soak"},
                           {"guards", kGuards},
                           {"samples_per_guard", per_guard},
                           {"rss_growth_per_sample_bytes", growth_per_sample},
                           {"baseline_rss_per_sample_bytes", baseline_per_sample},
                           {"rss_warm_bytes", rss_warm},
                           {"rss_end_bytes", rss_end},
                           {"rss_after_finish_bytes", rss_after_finish},
                           {"event_log_bytes_per_guard_hour", events_bytes / guard_hours},
                           {"journal_bytes_per_guard_hour", journal_bytes / guard_hours},
                           {"samples_in_journal", in_journal},
                           {"samples_taken", total},
                           {"target_met", growth_per_sample <= 0.5 && in_journal == total}};
    std::printf("%s\n", line.dump().c_str());
  }
  return 0;
}
