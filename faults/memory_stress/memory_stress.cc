#include "faults/memory_stress/memory_stress.h"

#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>
#include <vector>

#include "faults/common/worker_group.h"

namespace ringfence {
namespace {

constexpr char kType[] = "memory_stress";
// The stressor goes first when memory runs out, before the runner or the target.
constexpr int kWorkerOomScoreAdj = 1000;
constexpr int kCapIpcLock = 14;

// What the worker does; lives in the parent's memory, copied into the child by fork().
struct MemoryPlan {
  uint64_t size = 0;
  uint64_t rate = 0;  // bytes per second; 0: all at once
  bool lock = false;
  uint64_t page = 4096;
};

int64_t MonotonicNs() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Maps `size` bytes and writes to every page (at `rate` when set, checking every 10 ms), locks
// them when asked, then sleeps until killed. Async-signal-safe: no malloc, only system calls.
void MemoryWorkerBody(const void* arg) {
  const auto* plan = static_cast<const MemoryPlan*>(arg);
  void* mapped = ::mmap(nullptr, plan->size, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mapped == MAP_FAILED) ::_exit(3);
  auto* bytes = static_cast<volatile unsigned char*>(mapped);
  const int64_t start = MonotonicNs();
  uint64_t touched = 0;
  while (touched < plan->size) {
    uint64_t until = plan->size;
    if (plan->rate > 0) {
      const double seconds = static_cast<double>(MonotonicNs() - start) / 1e9;
      until = std::min<uint64_t>(plan->size, static_cast<uint64_t>(seconds * plan->rate));
      until = std::min(plan->size, (until + plan->page - 1) / plan->page * plan->page);
    }
    if (until > touched) {
      for (uint64_t off = touched; off < until; off += plan->page) bytes[off] = 1;
      if (plan->lock) ::mlock(static_cast<unsigned char*>(mapped) + touched, until - touched);
      touched = until;
    }
    if (touched < plan->size) {
      struct timespec tick {
        0, 10'000'000
      };
      ::nanosleep(&tick, nullptr);
    }
  }
  for (;;) ::pause();
}

std::string FormatPercent(double p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", p);
  return buf;
}

bool HasCapability(int cap) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("CapEff:", 0) != 0) continue;
    const std::string hex = line.substr(line.find_first_not_of(" \t", 7));
    uint64_t caps = 0;
    std::from_chars(hex.data(), hex.data() + hex.size(), caps, 16);
    return (caps >> cap) & 1;
  }
  return false;
}

Status CheckMlockAllowed(uint64_t size) {
  struct rlimit limit {};
  if (::getrlimit(RLIMIT_MEMLOCK, &limit) != 0) return Status::FromErrno(errno, "getrlimit");
  if (limit.rlim_cur == RLIM_INFINITY || size <= limit.rlim_cur || HasCapability(kCapIpcLock)) {
    return Status::Ok();
  }
  return Status::Error(StatusCode::kPermission,
                       "memory_stress: mlock of " + std::to_string(size) +
                           " bytes needs CAP_IPC_LOCK or a memlock limit of at least that (now " +
                           std::to_string(limit.rlim_cur) + " bytes)");
}

const FaultDecl& MemoryStressDecl() {
  static const FaultDecl decl{
      kType,
      "Take memory with a worker process that allocates and touches it; revert kills the worker",
      TargetKind::kHost,
      {
          {"size",
           ParamType::kInteger,
           false,
           nullptr,
           4096,
           9007199254740992.0,
           {},
           "bytes to allocate and touch"},
          {"percent",
           ParamType::kNumber,
           false,
           nullptr,
           1,
           100,
           {},
           "percent of MemAvailable (at injection) to allocate and touch"},
          {"rate",
           ParamType::kInteger,
           false,
           nullptr,
           4096,
           9007199254740992.0,
           {},
           "grow by this many bytes per second; default: all at once"},
          {"mlock",
           ParamType::kBoolean,
           false,
           false,
           std::nullopt,
           std::nullopt,
           {},
           "lock the memory so that it cannot be swapped out"},
      }};
  return decl;
}

class MemoryStress : public WorkerGroupFault {
 public:
  MemoryStress(std::string step_name, MemoryStressConfig config)
      : WorkerGroupFault(kType, std::move(step_name)), config_(std::move(config)) {
    plan_.rate = config_.rate;
    plan_.lock = config_.mlock;
    const long page = ::sysconf(_SC_PAGESIZE);
    plan_.page = page > 0 ? static_cast<uint64_t>(page) : 4096;
  }

  Status Prepare(FaultEnv& env, const std::vector<Target>& targets) override {
    (void)targets;
    auto size = Size(env.system.files());
    if (!size.ok()) return size.status();
    return plan_.lock ? CheckMlockAllowed(*size) : Status::Ok();
  }

  Result<UndoRecord> PlanUndo(FaultEnv& env, const Target& target) override {
    return PlanGroupUndo(env, target, "");
  }

  Status Inject(FaultEnv& env, const Target& target, const UndoRecord& undo) override {
    (void)target;
    // Measured again just before: memory may have been taken since Prepare.
    auto size = Size(env.system.files());
    if (!size.ok()) return size.status();
    plan_.size = *size;
    Status created = CreateGroup(env, undo);
    if (!created.ok()) return created;
    WorkerSetup setup;
    setup.comm = "ringfence-mem";
    setup.oom_score_adj = kWorkerOomScoreAdj;
    auto worker = StartWorker(setup, &MemoryWorkerBody, &plan_);
    return worker.ok() ? Status::Ok() : worker.status();
  }

  // {"requested_bytes", "rate", "mlock", "pid", "rss_bytes" (now; 0 once gone),
  //  "rss_peak_bytes" (VmHWM, the most it held)}.
  nlohmann::json Observe(FaultEnv& env) override {
    nlohmann::json j = {
        {"requested_bytes", plan_.size},
        {"rate", plan_.rate == 0 ? nlohmann::json(nullptr) : nlohmann::json(plan_.rate)},
        {"mlock", plan_.lock}};
    const auto& group = this->group();
    if (!group || group->workers().empty()) return j;
    const ProcessRef& worker = group->workers().front();
    auto sample = env.system.workers().Sample(worker.pid, worker.start_ticks);
    rss_now_ = sample.ok() ? sample->rss_bytes : 0;
    if (sample.ok()) rss_peak_ = std::max(rss_peak_, sample->rss_peak_bytes);
    j["pid"] = worker.pid;
    j["rss_bytes"] = rss_now_;
    j["rss_peak_bytes"] = rss_peak_;
    return j;
  }

 private:
  Result<uint64_t> Size(FileSystem& files) {
    auto info = ReadMemInfo(files);
    if (!info.ok()) return info.status();
    return CheckMemoryRequest(config_, *info);
  }

  MemoryStressConfig config_;
  MemoryPlan plan_;
  uint64_t rss_now_ = 0;
  uint64_t rss_peak_ = 0;
};

}  // namespace

Result<MemInfo> ReadMemInfo(FileSystem& files) {
  auto text = files.ReadFile("/proc/meminfo", 1 << 20);
  if (!text.ok()) return Status::Unavailable("memory_stress: cannot read /proc/meminfo");
  std::istringstream in(*text);
  MemInfo info;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string key;
    uint64_t kib = 0;
    fields >> key >> kib;
    if (key == "MemTotal:") info.total_bytes = kib * 1024;
    if (key == "MemAvailable:") info.available_bytes = kib * 1024;
  }
  if (info.total_bytes == 0)
    return Status::Unavailable("memory_stress: no MemTotal in /proc/meminfo");
  return info;
}

uint64_t MemoryStressMarginBytes(const MemInfo& info) {
  return std::max<uint64_t>(128ull << 20, info.total_bytes / 20);
}

Result<uint64_t> CheckMemoryRequest(const MemoryStressConfig& config, const MemInfo& info) {
  const uint64_t margin = MemoryStressMarginBytes(info);
  const uint64_t usable = info.available_bytes > margin ? info.available_bytes - margin : 0;
  const std::string limit = "MemAvailable (" + std::to_string(info.available_bytes) +
                            " bytes) less a safety margin of " + std::to_string(margin) + " bytes";
  if (config.percent) {
    const double percent = *config.percent;
    uint64_t size =
        static_cast<uint64_t>(static_cast<double>(info.available_bytes) * percent / 100);
    size -= size % 4096;
    if (size > usable) {
      return Status::InvalidInput("memory_stress: percent " + FormatPercent(percent) +
                                  " of MemAvailable is " + std::to_string(size) +
                                  " bytes, more than " + limit);
    }
    if (size == 0)
      return Status::InvalidInput("memory_stress: percent " + FormatPercent(percent) +
                                  " of MemAvailable is 0 bytes");
    return size;
  }
  const uint64_t size = config.size.value_or(0);
  if (size > info.total_bytes) {
    return Status::InvalidInput("memory_stress: size " + std::to_string(size) +
                                " bytes is more than the physical memory of this host (" +
                                std::to_string(info.total_bytes) + " bytes)");
  }
  if (size > usable) {
    return Status::InvalidInput("memory_stress: size " + std::to_string(size) +
                                " bytes is more than " + limit);
  }
  return size;
}

const FaultDecl& MemoryStressFactory::Declaration() const { return MemoryStressDecl(); }

MemoryStressConfig MemoryStressConfig::FromParams(const nlohmann::json& params) {
  const ParamReader read(MemoryStressDecl(), params);
  MemoryStressConfig config;
  config.size = read.Optional<uint64_t>("size");
  config.percent = read.Optional<double>("percent");
  config.rate = read.Optional<uint64_t>("rate").value_or(0);  // none: all at once
  config.mlock = read.Get<bool>("mlock");
  return config;
}

void MemoryStressFactory::ValidateConfig(const nlohmann::json& params, const std::string& pointer,
                                         ValidationErrors& errors) const {
  const bool size = params.contains("size"), percent = params.contains("percent");
  const std::string allowed = "exactly one of size, percent";
  if (!size && !percent) errors.Add(pointer, "missing size and percent", allowed);
  if (size && percent) errors.Add(pointer, "size and percent", allowed);
}

std::unique_ptr<Fault> MemoryStressFactory::Create(const FaultStep& step,
                                                   const TargetSpec& target) const {
  (void)target;
  return std::make_unique<MemoryStress>(step.name, MemoryStressConfig::FromParams(step.params));
}

RINGFENCE_REGISTER_FAULT(MemoryStressFactory);

}  // namespace ringfence
