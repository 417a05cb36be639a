// bench/disk_fill: time to fill a 1 GiB tmpfs to 90 % with the disk_fill fault (Prepare +
// PlanUndo + Inject, as the engine runs them) against plain `fallocate -l N` (util-linux) asked
// for the same level, and how close each final level is to 90 %. Rounds alternate which one goes
// first. Needs root (mount). Prints a table, then one JSON line.
// Targets: time ≤ 1.1 × fallocate; final level within 1 MiB of the target.
#include <spawn.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
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

using ringfence::FaultEnv;
using ringfence::Target;
using ringfence::UndoRecord;

constexpr uint64_t kTmpfsBytes = 1ull << 30;
constexpr double kTargetPercent = 90;
constexpr int kRounds = 7;

// A tmpfs mounted on a fresh temp dir, unmounted and removed on destruction.
class Tmpfs {
 public:
  Tmpfs() {
    char tmpl[] = "/tmp/ringfence-bench-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return;
    dir_ = tmpl;
    ok_ = ::mount("tmpfs", dir_.c_str(), "tmpfs", 0, "size=1g") == 0;
  }
  ~Tmpfs() {
    if (ok_ && ::umount2(dir_.c_str(), 0) != 0) ::umount2(dir_.c_str(), MNT_DETACH);
    if (!dir_.empty()) ::rmdir(dir_.c_str());
  }
  bool ok() const { return ok_; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  bool ok_ = false;
};

struct Level {
  uint64_t used = 0, avail = 0;
};

Level Measure(const std::string& dir) {
  struct statvfs v {};
  ::statvfs(dir.c_str(), &v);
  return {(v.f_blocks - v.f_bfree) * v.f_frsize, v.f_bavail * v.f_frsize};
}

// The used bytes that are exactly 90 % as df counts it (used / (used + avail)).
uint64_t TargetUsed(const Level& l) {
  return static_cast<uint64_t>(
      std::ceil(static_cast<double>(l.used + l.avail) * kTargetPercent / 100));
}

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

struct Run {
  double seconds = -1;
  int64_t error_bytes = 0;  // final used - target used
};

Run RunFallocate(const std::string& dir) {
  const Level before = Measure(dir);
  const uint64_t bytes = TargetUsed(before) - before.used;
  const std::string file = dir + "/baseline";
  const std::string len = std::to_string(bytes);
  const char* argv[] = {"fallocate", "-l", len.c_str(), file.c_str(), nullptr};
  const auto t0 = std::chrono::steady_clock::now();
  pid_t pid = 0;
  if (::posix_spawnp(&pid, "fallocate", nullptr, nullptr, const_cast<char**>(argv), environ) != 0) {
    return {};
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  Run run;
  run.seconds = Seconds(std::chrono::steady_clock::now() - t0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) run.seconds = -1;
  run.error_bytes =
      static_cast<int64_t>(Measure(dir).used) - static_cast<int64_t>(TargetUsed(before));
  ::unlink(file.c_str());
  return run;
}

Run RunFault(const std::string& dir, FaultEnv& env) {
  const ringfence::FaultFactory* factory = ringfence::FaultRegistry::Global().Find("disk_fill");
  ringfence::FaultStep step;
  step.name = "bench-fill";
  step.type = "disk_fill";
  step.params = {{"path", dir}, {"percent", kTargetPercent}, {"allow_root_fs", false}};
  auto fault = factory->Create(step, ringfence::TargetSpec{});
  const Target host{"local", {}, "host local"};
  const Level before = Measure(dir);
  Run run;
  const auto t0 = std::chrono::steady_clock::now();
  ringfence::Status s = fault->Prepare(env, {host});
  auto undo = s.ok() ? fault->PlanUndo(env, host) : ringfence::Result<UndoRecord>(s);
  if (undo.ok()) s = fault->Inject(env, host, *undo);
  run.seconds = Seconds(std::chrono::steady_clock::now() - t0);
  if (!undo.ok() || !s.ok()) {
    std::fprintf(stderr, "disk_fill failed: %s\n",
                 (undo.ok() ? s : undo.status()).message().c_str());
    run.seconds = -1;
  }
  run.error_bytes =
      static_cast<int64_t>(Measure(dir).used) - static_cast<int64_t>(TargetUsed(before));
  if (undo.ok()) (void)factory->Revert(env, *undo);
  return run;
}

}  // namespace

int main() {
  Tmpfs fs;
  if (!fs.ok()) {
    std::fprintf(stderr, "bench/disk_fill: cannot mount a tmpfs (needs root): %s\n",
                 std::strerror(errno));
    return 1;
  }
  auto table = ringfence::MakeSystemProcessTable();
  ringfence::StopSource stop;
  ringfence::SystemEnv system_env{*table};
  FaultEnv env{system_env, stop, "bench-disk-fill"};

  std::vector<double> fallocate_s, fault_s;
  int64_t fallocate_err = 0, fault_err = 0;
  bool failed = false;
  std::printf("round  fallocate_ms  disk_fill_ms  fallocate_err_B  disk_fill_err_B\n");
  for (int round = 0; round < kRounds; ++round) {
    Run a, b;
    if (round % 2 == 0) {
      a = RunFallocate(fs.dir());
      b = RunFault(fs.dir(), env);
    } else {
      b = RunFault(fs.dir(), env);
      a = RunFallocate(fs.dir());
    }
    failed = failed || a.seconds < 0 || b.seconds < 0;
    fallocate_s.push_back(a.seconds);
    fault_s.push_back(b.seconds);
    fallocate_err = std::max(fallocate_err, std::abs(a.error_bytes));
    fault_err = std::max(fault_err, std::abs(b.error_bytes));
    std::printf("%5d  %12.2f  %12.2f  %15lld  %15lld\n", round, a.seconds * 1e3, b.seconds * 1e3,
                static_cast<long long>(a.error_bytes), static_cast<long long>(b.error_bytes));
  }
  const double fallocate_ms = Median(fallocate_s) * 1e3;
  const double fault_ms = Median(fault_s) * 1e3;
  const double ratio = fault_ms / fallocate_ms;
  const bool pass = !failed && ratio <= 1.1 && fault_err <= (1 << 20);
  std::printf(
      "median: fallocate %.2f ms, disk_fill %.2f ms, ratio %.3f (target <= 1.1); "
      "max level error: disk_fill %lld B, fallocate %lld B (target <= 1048576 B)\n",
      fallocate_ms, fault_ms, ratio, static_cast<long long>(fault_err),
      static_cast<long long>(fallocate_err));
  nlohmann::json result = {{"bench", "disk_fill"},
                           {"tmpfs_bytes", kTmpfsBytes},
                           {"target_percent", kTargetPercent},
                           {"rounds", kRounds},
                           {"fallocate_ms_median", std::round(fallocate_ms * 100) / 100},
                           {"disk_fill_ms_median", std::round(fault_ms * 100) / 100},
                           {"ratio", std::round(ratio * 1000) / 1000},
                           {"disk_fill_level_error_bytes_max", fault_err},
                           {"fallocate_level_error_bytes_max", fallocate_err},
                           {"target_ratio_max", 1.1},
                           {"target_level_error_bytes_max", 1 << 20},
                           {"pass", pass}};
  std::printf("%s\n", result.dump().c_str());
  return pass ? 0 : 1;
}
