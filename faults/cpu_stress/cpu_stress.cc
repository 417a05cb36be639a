#include "faults/cpu_stress/cpu_stress.h"

#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <set>

#include "faults/common/worker_group.h"

namespace ringfence {
namespace {

constexpr char kType[] = "cpu_stress";
constexpr int64_t kPeriodNs = 100'000'000;  // the duty cycle's period
constexpr int kMaxCpu = CPU_SETSIZE - 1;
// The stressors go first when memory runs out, before the runner or the target.
constexpr int kWorkerOomScoreAdj = 1000;

// What one worker does; lives in the parent's memory, copied into each child by fork().
struct DutyCycle {
  int64_t busy_ns = kPeriodNs;
};

volatile uint64_t cpu_sink;

int64_t ClockNs(clockid_t clock) {
  struct timespec ts {};
  ::clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// In each period, spins until this process has used busy_ns of CPU time (or the period is
// over), then sleeps to the period's end. Counting CPU time rather than wall time keeps the
// achieved load at what was asked when the CPU is shared; CPU time the worker could not get in a
// period (another task had the CPU) is made up in the next ones, at most one period's worth.
// Async-signal-safe.
void CpuWorkerBody(const void* arg) {
  const auto* duty = static_cast<const DutyCycle*>(arg);
  uint64_t x = 0x9E3779B97F4A7C15ull;
  int64_t period_start = ClockNs(CLOCK_MONOTONIC);
  int64_t owed = 0;
  for (;;) {
    const int64_t period_end = period_start + kPeriodNs;
    const int64_t cpu_start = ClockNs(CLOCK_PROCESS_CPUTIME_ID);
    const int64_t want = std::min(duty->busy_ns + owed, kPeriodNs);
    int64_t used = 0;
    while ((used = ClockNs(CLOCK_PROCESS_CPUTIME_ID) - cpu_start) < want &&
           ClockNs(CLOCK_MONOTONIC) < period_end) {
      for (int i = 0; i < 20000; ++i) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
      }
      cpu_sink = x;
    }
    owed = std::clamp<int64_t>(duty->busy_ns + owed - used, 0, kPeriodNs);
    if (duty->busy_ns < kPeriodNs) {
      struct timespec end {};
      end.tv_sec = period_end / 1'000'000'000;
      end.tv_nsec = period_end % 1'000'000'000;
      while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &end, nullptr) != 0) {
      }
    }
    // After a long stall (stopped, starved), start afresh instead of catching up.
    const int64_t now = ClockNs(CLOCK_MONOTONIC);
    if (now - period_end > kPeriodNs) {
      period_start = now;
      owed = 0;
    } else {
      period_start = period_end;
    }
  }
}

const FaultDecl& CpuStressDecl() {
  static const FaultDecl decl{
      kType,
      "Load CPUs with worker processes at a duty cycle; revert kills the workers",
      TargetKind::kHost,
      {
          {"workers",
           ParamType::kInteger,
           false,
           nullptr,
           1,
           1024,
           {},
           "worker processes; default: one per CPU of `cpus`, or per CPU the runner may use"},
          {"load",
           ParamType::kInteger,
           false,
           100,
           1,
           100,
           {},
           "percent of one CPU each worker uses, as a duty cycle over 100 ms periods"},
          {"cpus",
           ParamType::kString,
           false,
           nullptr,
           std::nullopt,
           std::nullopt,
           {},
           "pin the workers to these CPUs, round robin (a list such as \"0\", \"0-3\", \"0,2-3\")"},
          {"cgroup",
           ParamType::kBoolean,
           false,
           false,
           std::nullopt,
           std::nullopt,
           {},
           "place the workers in a cgroup v1 cpu cgroup made for them (removed on revert)"},
      }};
  return decl;
}

class CpuStress : public WorkerGroupFault {
 public:
  CpuStress(std::string step_name, CpuStressConfig config)
      : WorkerGroupFault(kType, std::move(step_name)), config_(std::move(config)) {
    duty_.busy_ns = kPeriodNs * config_.load / 100;
  }

  Status Prepare(FaultEnv& env, const std::vector<Target>& targets) override {
    (void)targets;
    const std::vector<int> allowed = AllowedCpus();
    for (int cpu : config_.cpus) {
      if (std::find(allowed.begin(), allowed.end(), cpu) == allowed.end()) {
        return Status::InvalidInput(
            "cpu_stress: cpu " + std::to_string(cpu) +
            " is not available to this process (available: " + FormatCpuList(allowed) + ")");
      }
    }
    if (config_.cgroup) {
      auto dir = OwnCgroupV1Dir(env.system.files(), "cpu");
      if (!dir.ok()) {
        return Status::Unavailable("cpu_stress: cgroup: true needs the cgroup v1 cpu controller: " +
                                   dir.status().message());
      }
      if (int err = env.system.files().CheckWritable(*dir)) {
        return Status::FromErrno(err, "cpu_stress: cannot make a cgroup in " + *dir);
      }
    }
    return Status::Ok();
  }

  Result<UndoRecord> PlanUndo(FaultEnv& env, const Target& target) override {
    std::string cgroup_parent;
    if (config_.cgroup) {
      auto dir = OwnCgroupV1Dir(env.system.files(), "cpu");
      if (!dir.ok()) return dir.status();
      cgroup_parent = *dir;
    }
    return PlanGroupUndo(env, target, cgroup_parent);
  }

  Status Inject(FaultEnv& env, const Target& target, const UndoRecord& undo) override {
    (void)target;
    Status created = CreateGroup(env, undo);
    if (!created.ok()) return created;
    const std::vector<int>& cpus = config_.cpus;
    const std::vector<int> on = cpus.empty() ? AllowedCpus() : cpus;
    const int count = config_.workers.value_or(static_cast<int>(std::max<size_t>(on.size(), 1)));
    started_ = env.clock.Monotonic();
    for (int i = 0; i < count; ++i) {
      WorkerSetup setup;
      setup.comm = "ringfence-cpu";
      setup.oom_score_adj = kWorkerOomScoreAdj;
      if (!cpus.empty()) setup.cpu = cpus[i % cpus.size()];
      auto worker = StartWorker(setup, &CpuWorkerBody, &duty_);
      if (!worker.ok()) return worker.status();
      last_[worker->pid] = WorkerSample{};
    }
    return Status::Ok();
  }

  // {"load_requested", "load_achieved" (mean over workers, % of one CPU), "workers": [{"pid",
  //  "cpu", "cpu_seconds", "load_percent"}], "cgroup"}: CPU time is utime + stime from
  // /proc/PID/stat over the time since Inject; a worker already gone keeps its last sample.
  nlohmann::json Observe(FaultEnv& env) override {
    nlohmann::json j = {{"load_requested", config_.load}, {"workers", nlohmann::json::array()}};
    const auto& group = this->group();
    if (!group) return j;
    const double elapsed = std::chrono::duration<double>(env.clock.Monotonic() - started_).count();
    const double hz = static_cast<double>(env.system.workers().TicksPerSecond());
    double sum = 0;
    const auto& workers = group->workers();
    for (size_t i = 0; i < workers.size(); ++i) {
      const ProcessRef& ref = workers[i];
      auto sample = env.system.workers().Sample(ref.pid, ref.start_ticks);
      if (sample.ok()) last_[ref.pid] = *sample;
      const double seconds = static_cast<double>(last_[ref.pid].cpu_ticks) / hz;
      const double load = elapsed > 0 ? 100.0 * seconds / elapsed : 0;
      sum += load;
      nlohmann::json w = {
          {"pid", ref.pid}, {"cpu_seconds", seconds}, {"load_percent", std::round(load * 10) / 10}};
      if (!config_.cpus.empty()) w["cpu"] = config_.cpus[i % config_.cpus.size()];
      j["workers"].push_back(w);
    }
    j["load_achieved"] = workers.empty() ? 0.0 : std::round(sum / workers.size() * 10) / 10;
    j["cgroup"] = group->plan().cgroup_dir.empty() ? nlohmann::json(nullptr)
                                                   : nlohmann::json(group->plan().cgroup_dir);
    return j;
  }

 private:
  CpuStressConfig config_;
  DutyCycle duty_;
  std::chrono::steady_clock::time_point started_;
  std::map<pid_t, WorkerSample> last_;
};

}  // namespace

Result<std::vector<int>> ParseCpuList(const std::string& text) {
  const Status bad = Status::InvalidInput("not a CPU list: " + text);
  std::vector<int> cpus;
  std::set<int> seen;
  size_t pos = 0;
  if (text.empty()) return bad;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    const std::string item =
        text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    size_t dash = item.find('-');
    auto number = [](const std::string& s) -> std::optional<int> {
      if (s.empty() || s.size() > 4 || s.find_first_not_of("0123456789") != std::string::npos) {
        return std::nullopt;
      }
      int n = std::stoi(s);
      if (n > kMaxCpu) return std::nullopt;
      return n;
    };
    auto lo = number(item.substr(0, dash));
    auto hi = dash == std::string::npos ? lo : number(item.substr(dash + 1));
    if (!lo || !hi || *lo > *hi) return bad;
    for (int c = *lo; c <= *hi; ++c) {
      if (seen.insert(c).second) cpus.push_back(c);
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return cpus;
}

std::vector<int> AllowedCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (::sched_getaffinity(0, sizeof set, &set) != 0) return cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  }
  return cpus;
}

std::string FormatCpuList(const std::vector<int>& cpus) {
  std::string out;
  for (size_t i = 0; i < cpus.size();) {
    size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    if (!out.empty()) out += ",";
    out += std::to_string(cpus[i]);
    if (j > i) out += "-" + std::to_string(cpus[j]);
    i = j + 1;
  }
  return out;
}

const FaultDecl& CpuStressFactory::Declaration() const { return CpuStressDecl(); }

CpuStressConfig CpuStressConfig::FromParams(const nlohmann::json& params) {
  const ParamReader read(CpuStressDecl(), params);
  CpuStressConfig config;
  config.workers = read.Optional<int>("workers");
  config.load = read.Get<int>("load");
  config.cgroup = read.Get<bool>("cgroup");
  if (auto cpus = read.Optional<std::string>("cpus")) {
    auto parsed = ParseCpuList(*cpus);  // validated by ValidateConfig
    if (parsed.ok()) config.cpus = *parsed;
  }
  return config;
}

void CpuStressFactory::ValidateConfig(const nlohmann::json& params, const std::string& pointer,
                                      ValidationErrors& errors) const {
  if (params.contains("cpus") && params["cpus"].is_string() &&
      !ParseCpuList(params["cpus"].get<std::string>()).ok()) {
    errors.Add(pointer + "/cpus", params["cpus"].dump(),
               "a CPU list such as \"0\", \"0-3\" or \"0,2-3\" (CPUs 0-1023)");
  }
}

std::unique_ptr<Fault> CpuStressFactory::Create(const FaultStep& step,
                                                const TargetSpec& target) const {
  (void)target;
  return std::make_unique<CpuStress>(step.name, CpuStressConfig::FromParams(step.params));
}

RINGFENCE_REGISTER_FAULT(CpuStressFactory);

}  // namespace ringfence
