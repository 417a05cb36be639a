#include "faults/bad_update/bad_update.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/base/parallel_for.h"
#include "core/base/shell_quote.h"
#include "core/sys/system_file_system.h"
#include "faults/bad_update/gates.h"
#include "faults/bad_update/mutations.h"
#include "faults/bad_update/waves.h"
#include "faults/common/process_targets.h"

namespace ringfence {
namespace {

namespace fs = std::filesystem;
using Mono = std::chrono::steady_clock::time_point;

constexpr char kType[] = "bad_update";
constexpr char kCommandAllowed[] = "a non-empty command: the program, then its arguments";
constexpr double kHourMs = 3600.0 * 1000;

enum class Mode { kRehearse, kPipeline, kAa };

// bad_update's params, typed: built once from params that validated (ParseConfig). The initial
// values here are only zeros; the defaults are the declaration's.
struct BadUpdateConfig {
  Mode mode = Mode::kRehearse;
  std::string hosts_file;
  std::string artifact;
  std::string bad_artifact;
  MutationSpec mutation;
  std::vector<std::string> deploy, rollback, pipeline_command;
  Duration command_timeout{0};
  int max_concurrency = 0;
  int max_errors = 0;
  std::vector<WaveSize> waves;
  std::string stratify_by;
  Duration bake{0};
  Duration gate_interval{0};
  Duration probe_timeout{0};
  Duration inconclusive_deadline{0};
  Duration verify_timeout{0};
  Duration pipeline_timeout{0};
  Duration pipeline_stop_grace{0};
  double max_blast_radius = 0;
  GateConfig gates;
};

const FaultDecl& BadUpdateDecl();

std::vector<std::string> ListParam(const ParamReader& read, const char* key) {
  return read.Optional<std::vector<std::string>>(key).value_or(std::vector<std::string>{});
}

// `waves` as texts: a count may be written 3 or "3".
std::vector<std::string> WaveTexts(const ParamReader& read) {
  std::vector<std::string> out;
  for (const auto& v : read.Get<nlohmann::json>("waves")) {
    if (v.is_string())
      out.push_back(v.get<std::string>());
    else if (v.is_number_integer())
      out.push_back(std::to_string(v.get<int64_t>()));
  }
  return out;
}

GateConfig GatesFrom(const ParamReader& read) {
  GateConfig gates;
  gates.unhealthy_samples = read.Get<int>("unhealthy_samples");
  gates.fail_on_restart = read.Get<bool>("fail_on_restart");
  gates.max_error_rate = read.Optional<double>("max_error_rate");
  gates.comparative = read.Get<bool>("comparative");
  gates.alpha = read.Get<double>("alpha");
  gates.min_latency_effect = read.Get<double>("min_latency_effect");
  gates.min_unhealthy_effect = read.Get<double>("min_unhealthy_effect");
  gates.min_samples = read.Get<int>("min_samples");
  return gates;
}

// `params` validated against the declaration.
BadUpdateConfig ParseConfig(const nlohmann::json& p) {
  const ParamReader read(BadUpdateDecl(), p);
  const auto duration = [&](const char* key) { return *read.OptionalDuration(key); };
  BadUpdateConfig c;
  const std::string mode = read.Get<std::string>("mode");
  c.mode = mode == "pipeline" ? Mode::kPipeline : mode == "aa" ? Mode::kAa : Mode::kRehearse;
  c.hosts_file = read.Get<std::string>("hosts_file");
  c.artifact = read.Get<std::string>("artifact");
  c.bad_artifact = read.Optional<std::string>("bad_artifact").value_or("");  // none: mutate
  c.mutation.name = read.Get<std::string>("mutation");
  c.mutation.seed = read.Get<uint64_t>("mutation_seed");
  c.mutation.record = read.Get<int>("mutation_record");
  c.mutation.oversize_bytes = read.Get<size_t>("oversize_bytes");
  c.deploy = ListParam(read, "deploy");
  c.rollback = ListParam(read, "rollback");
  c.pipeline_command = ListParam(read, "pipeline_command");
  c.command_timeout = duration("command_timeout");
  c.max_concurrency = read.Get<int>("max_concurrency");
  c.max_errors = read.Get<int>("max_errors");
  for (const auto& text : WaveTexts(read)) {
    auto w = ParseWaveSize(text);
    if (w.ok()) c.waves.push_back(*w);
  }
  c.stratify_by = read.Optional<std::string>("stratify_by").value_or("");  // none: no strata
  c.bake = duration("bake");
  c.gate_interval = duration("gate_interval");
  c.probe_timeout = duration("probe_timeout");
  c.inconclusive_deadline = duration("inconclusive_deadline");
  c.verify_timeout = duration("verify_timeout");
  c.pipeline_timeout = duration("pipeline_timeout");
  c.pipeline_stop_grace = duration("pipeline_stop_grace");
  c.max_blast_radius = read.Get<double>("max_blast_radius");
  c.gates = GatesFrom(read);
  return c;
}

// Artifacts and the files they replace: regular files of at most 256 MiB, checked before
// they are read (a FIFO or a device named as an artifact must not hang or exhaust the runner).
constexpr size_t kMaxArtifactBytes = size_t{256} << 20;

Result<std::string> ReadWhole(FileSystem& files, const std::string& path) {
  auto bytes = files.ReadFile(path, kMaxArtifactBytes, "file");
  if (!bytes.ok()) {
    return Status::Error(bytes.status().code(), "read " + path + ": " + bytes.status().message());
  }
  return bytes;
}

std::string Fnv1a(const std::string& bytes) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return fmt::format("{:016x}", h);
}

// The bytes the rollout pushes: the user's bad file, the good file mutated, or (aa) the good file.
Result<std::string> ArtifactBytes(FileSystem& files, const BadUpdateConfig& c) {
  auto good = ReadWhole(files, c.artifact);
  if (!good.ok()) return good.status();
  if (c.mode == Mode::kAa) return good;
  if (!c.bad_artifact.empty()) return ReadWhole(files, c.bad_artifact);
  return Mutate(*good, c.mutation);
}

// {name} {host} {path} {artifact} {backup} {hosts_file} and the host's vars, filled in.
std::vector<std::string> Expand(const std::vector<std::string>& templ,
                                const std::map<std::string, std::string>& values) {
  std::vector<std::string> out;
  for (std::string arg : templ) {
    std::string filled;
    for (size_t i = 0; i < arg.size();) {
      if (arg[i] == '{') {
        const size_t close = arg.find('}', i);
        if (close != std::string::npos) {
          auto it = values.find(arg.substr(i + 1, close - i - 1));
          if (it != values.end()) {
            filled += it->second;
            i = close + 1;
            continue;
          }
        }
      }
      filled += arg[i++];
    }
    out.push_back(std::move(filled));
  }
  return out;
}

// The names of the {placeholders} in `templ`.
std::vector<std::string> PlaceholdersIn(const std::vector<std::string>& templ) {
  std::vector<std::string> names;
  for (const auto& arg : templ) {
    for (size_t i = arg.find('{'); i != std::string::npos; i = arg.find('{', i + 1)) {
      const size_t close = arg.find('}', i);
      if (close == std::string::npos) break;
      const std::string name = arg.substr(i + 1, close - i - 1);
      if (!name.empty() && name.find_first_of(" {\"'$") == std::string::npos) names.push_back(name);
    }
  }
  return names;
}

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

// Runs one command; Ok when it exited 0. Errors read
// "<argv as shell text> exited with <n>: <stderr>" | "… timed out after 10s" | "…: <reason>".
Status RunChecked(Env& system, const std::vector<std::string>& argv, Duration timeout) {
  auto ran = system.Run(argv, timeout);
  const std::string text = ShellJoin(argv);
  if (!ran.ok()) return Status::Error(ran.status().code(), text + ": " + ran.status().message());
  if (ran->timed_out) return Status::Timeout(text + " timed out after " + FormatDuration(timeout));
  if (ran->exit_code != 0) {
    const std::string err = Trimmed(ran->err);
    return Status::Runtime(text + " exited with " + std::to_string(ran->exit_code) +
                           (err.empty() ? "" : ": " + err));
  }
  return Status::Ok();
}

HostSample SampleHost(const FleetHost& host, Duration timeout, Env& system) {
  Clock& clock = system.clock();
  HostSample s;
  auto health = system.Get(host.health_url, timeout);
  if (!health.ok()) {
    s.problem = health.status().message();
  } else {
    s.healthy = health->status == 200;
    if (!s.healthy) s.problem = "status " + std::to_string(health->status);
    try {
      auto body = nlohmann::json::parse(health->body);
      if (body.is_object() && body.contains("pid") && body["pid"].is_number_integer()) {
        s.pid = body["pid"].get<long long>();
      }
    } catch (const nlohmann::json::exception&) {
      // Not JSON: the host is judged by its status alone.
    }
  }
  if (!host.work_url.empty()) {
    s.work_sampled = true;
    const Mono t0 = clock.Monotonic();
    auto work = system.Get(host.work_url, timeout);
    if (work.ok()) {
      s.work_ok = work->status == 200;
      s.work_latency_ms = std::chrono::duration<double, std::milli>(clock.Monotonic() - t0).count();
    }
  }
  return s;
}

std::string WorkDirFor(const std::string& run_id, const std::string& step) {
  std::string safe;
  for (char c : step) safe += std::isalnum(static_cast<unsigned char>(c)) || c == '-' ? c : '_';
  return (fs::temp_directory_path() / ("ringfence-bad-update-" + run_id + "-" + safe)).string();
}

long long MsBetween(Mono a, Mono b) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count();
}

class BadUpdate : public Fault {
 public:
  BadUpdate(std::string step_name, BadUpdateConfig config)
      : step_name_(std::move(step_name)), config_(std::move(config)) {}

  Status Prepare(FaultEnv& env, const std::vector<Target>& targets) override {
    (void)targets;
    auto hosts = ReadHostsFile(env.system.files(), config_.hosts_file);
    if (!hosts.ok()) return hosts.status();
    hosts_ = std::move(*hosts);
    if (config_.mode != Mode::kPipeline) {
      auto plan = PlanWaves(config_.waves, hosts_, config_.stratify_by);
      if (!plan.ok()) return plan.status();
      plan_ = std::move(*plan);
      for (const auto& note : plan_.notes) spdlog::info("bad_update: {}", note);
    }
    auto artifact = ArtifactBytes(env.system.files(), config_);
    if (!artifact.ok()) return artifact.status();
    artifact_ = std::move(*artifact);
    return Status::Ok();
  }

  Result<UndoRecord> PlanUndo(FaultEnv& env, const Target& target) override {
    UndoRecord undo;
    undo.fault_type = kType;
    undo.fault_name = step_name_;
    undo.host = target.host;
    undo.target = target.label;
    work_dir_ = WorkDirFor(env.run_id, step_name_);
    nlohmann::json hosts = nlohmann::json::array();
    std::string manual;
    for (size_t i = 0; i < hosts_.size(); ++i) {
      const FleetHost& h = hosts_[i];
      auto sum = FileChecksum(env.system.files(), h.path);
      if (!sum.ok()) return sum.status();
      const std::string backup = work_dir_ + "/backup-" + std::to_string(i);
      hosts.push_back({{"name", h.name},
                       {"host", h.host},
                       {"path", h.path},
                       {"backup", backup},
                       {"checksum", *sum},
                       {"vars", h.vars}});
      manual += ShellJoin({"cp", backup, h.path}) + "; ";
    }
    undo.data = {{"work_dir", work_dir_},
                 {"hosts_file", config_.hosts_file},
                 {"rollback", config_.rollback},
                 {"command_timeout_ms", config_.command_timeout.count()},
                 {"hosts", hosts}};
    undo.manual_undo =
        manual + "then run the rollback command per host; " + ShellJoin({"rm", "-rf", work_dir_});
    planned_ = undo.data["hosts"];
    return undo;
  }

  Status Inject(FaultEnv& env, const Target& target, const UndoRecord& undo) override {
    (void)target;
    planned_ = undo.data["hosts"];
    work_dir_ = undo.data["work_dir"].get<std::string>();
    files_ = &env.system.files();
    Status made = files_->MakeDirectories(work_dir_, 0700);
    if (!made.ok()) return made;
    artifact_path_ = work_dir_ + "/artifact";
    Status written = files_->WriteFile(artifact_path_, artifact_);
    if (!written.ok()) return written;
    artifact_sum_ = Fnv1a(artifact_);
    windows_.assign(hosts_.size(), HostWindow{});
    for (size_t i = 0; i < hosts_.size(); ++i) windows_[i].name = hosts_[i].name;
    exposed_.assign(hosts_.size(), false);
    backed_up_.assign(hosts_.size(), false);
    exposed_at_.assign(hosts_.size(), std::nullopt);

    Status rolled = config_.mode == Mode::kPipeline ? RunPipeline(env) : RunWaves(env);
    // On a stop the engine reverts from the record, which no stop cuts short.
    if (rolled.ok() && !env.stop.stop_requested()) RollBackAndVerify(env);
    Finish();
    return rolled;
  }

  nlohmann::json Observe(FaultEnv& env) override {
    (void)env;
    return observed_.is_null() ? Summary() : observed_;
  }

  bool ExpectationMet() const override { return expectation_met_; }
  std::string ExpectationDetail() const override { return expectation_detail_; }

 private:
  // ---- rehearse and aa: ringfence rolls out, wave by wave -------------------------------------

  Status RunWaves(FaultEnv& env) {
    for (size_t w = 0; w < plan_.waves.size(); ++w) {
      if (env.stop.stop_requested()) return Status::Ok();
      waves_done_ = static_cast<int>(w) + 1;
      const std::vector<int>& wave = plan_.waves[w];
      for (int i : wave)
        windows_[i].pid_before = SampleHost(hosts_[i], config_.probe_timeout, env.system).pid;
      std::atomic<int> errors{0};
      std::mutex mu;
      ParallelFor(wave.size(), config_.max_concurrency, [&](size_t k) {
        if (env.stop.stop_requested()) return;
        const int i = wave[k];
        Status st = BackUp(i);
        if (st.ok())
          st = RunChecked(env.system, Expand(config_.deploy, Values(i)), config_.command_timeout);
        std::lock_guard<std::mutex> lock(mu);
        if (!st.ok()) {
          ++errors;
          deploy_errors_.push_back(
              {{"wave", w + 1}, {"host", hosts_[i].name}, {"error", st.message()}});
          spdlog::warn("bad_update: deploy to {} failed: {}", hosts_[i].name, st.message());
          return;
        }
        MarkExposed(i, env.clock.Monotonic());
      });
      spdlog::info("bad_update: wave {} of {}: {} of {} hosts exposed", w + 1, plan_.waves.size(),
                   ExposedCount(), hosts_.size());
      if (errors > config_.max_errors) {
        Detect(env, static_cast<int>(w) + 1,
               fmt::format("deploy: {} error{} in wave {} > max_errors {}", errors.load(),
                           errors == 1 ? "" : "s", w + 1, config_.max_errors),
               false);
        return Status::Ok();
      }
      if (!Bake(env, static_cast<int>(w) + 1)) return Status::Ok();
    }
    return Status::Ok();
  }

  // One wave's bake; false when the rollout must not go on (a gate failed, or a stop).
  bool Bake(FaultEnv& env, int wave) {
    for (size_t i = 0; i < windows_.size(); ++i) {
      HostWindow fresh;
      fresh.name = hosts_[i].name;
      fresh.exposed = exposed_[i];
      fresh.pid_before = windows_[i].pid_before;
      windows_[i] = fresh;
    }
    GateStateMachine machine(env.clock.Monotonic(), config_.bake, config_.inconclusive_deadline);
    const long long max_ticks =
        (config_.bake + config_.inconclusive_deadline).count() / config_.gate_interval.count() + 3;
    for (long long tick = 0; tick < max_ticks; ++tick) {
      const Mono next = env.clock.Monotonic() + config_.gate_interval;
      SampleFleet(env, wave);
      const Mono now = env.clock.Monotonic();
      const GateResult absolute = EvaluateAbsolute(windows_, config_.gates);
      std::optional<GateResult> comparative;
      if (machine.ComparativeDue(now)) comparative = EvaluateComparative(windows_, config_.gates);
      const auto before = machine.state();
      machine.Step(now, absolute, comparative);
      if (machine.state() == GateStateMachine::State::kPaused &&
          before != GateStateMachine::State::kPaused) {
        spdlog::warn("bad_update: wave {} paused: {}", wave, machine.reason());
      }
      if (machine.failed()) {
        Detect(env, wave, machine.reason(),
               machine.state() == GateStateMachine::State::kFailedClosed);
        return false;
      }
      if (machine.done()) return true;
      if (!env.clock.SleepUntil(next, env.stop)) return false;
    }
    // Bounded loop ran out (a clock that does not move): fail closed.
    Detect(env, wave, "the bake did not end", true);
    return false;
  }

  // ---- pipeline: the user's rollout tool pushes; ringfence watches ---------------------------

  Status RunPipeline(FaultEnv& env) {
    // Every host may be touched: back them all up first (the record lists every backup).
    for (size_t i = 0; i < hosts_.size(); ++i) {
      Status st = BackUp(static_cast<int>(i));
      if (!st.ok()) return st;
      windows_[i].pid_before = SampleHost(hosts_[i], config_.probe_timeout, env.system).pid;
    }
    std::map<std::string, std::string> values = {
        {"artifact", artifact_path_}, {"hosts_file", config_.hosts_file}, {"work_dir", work_dir_}};
    const std::vector<std::string> argv = Expand(config_.pipeline_command, values);
    std::atomic<bool> finished{false};
    Result<CommandResult> result = Status::Runtime("the pipeline did not run");
    // A failed gate halts it: its whole process group, so everything it started stops.
    StopSource halt;
    const CommandControl control{&halt, config_.pipeline_stop_grace};
    CommandHalt halted;
    std::thread pipeline([&] {
      result = env.system.RunControlled(argv, config_.pipeline_timeout, control, &halted);
      finished = true;
    });
    std::optional<Mono> finished_at;
    const long long max_ticks =
        (config_.pipeline_timeout + config_.bake).count() / config_.gate_interval.count() + 3;
    Mono window_start = env.clock.Monotonic();
    for (long long tick = 0; tick < max_ticks && !env.stop.stop_requested(); ++tick) {
      const Mono next = env.clock.Monotonic() + config_.gate_interval;
      if (finished && !finished_at) finished_at = env.clock.Monotonic();
      ScanExposures(env);
      SampleFleet(env, 0);
      if (!detected_) {
        GateResult r = EvaluateAbsolute(windows_, config_.gates);
        if (r.verdict != GateVerdict::kFail &&
            env.clock.Monotonic() - window_start >= config_.bake) {
          r = EvaluateComparative(windows_, config_.gates);
          window_start = env.clock.Monotonic();
        }
        if (r.verdict == GateVerdict::kFail) Detect(env, 0, r.reason, false);
      }
      // A failed gate halts the pipeline at once; the rollback follows as soon as it is gone.
      if (detected_) break;
      // After the pipeline ends, watch one more bake (or until the damage shows).
      if (finished_at && env.clock.Monotonic() - *finished_at >= config_.bake) break;
      env.clock.SleepUntil(next, env.stop);
    }
    if (!finished) {
      halt_reason_ = detected_ ? "gate" : env.stop.stop_requested() ? "stop" : "watch_ended";
      halt.RequestStop(halt_reason_);
    }
    pipeline.join();
    // What it pushed until it was stopped counts too (the overshoot).
    ScanExposures(env);
    if (halted.requested) {
      pipeline_halt_ = {{"halted_by", halt_reason_},
                        {"signal", halted.sigkilled ? "SIGKILL" : "SIGTERM"},
                        {"grace_ms", config_.pipeline_stop_grace.count()},
                        {"halt_ms", halted.took.count()},
                        {"left_running", halted.left_running}};
      pipeline_left_running_ = halted.left_running;
    }
    if (!result.ok()) {
      pipeline_error_ = result.status().message();
    } else {
      pipeline_exit_ = result->timed_out ? -1 : result->exit_code;
      if (result->timed_out) {
        pipeline_error_ = "timed out after " + FormatDuration(config_.pipeline_timeout);
      }
    }
    return Status::Ok();
  }

  // A host is exposed once its artifact has the bad artifact's checksum.
  void ScanExposures(FaultEnv& env) {
    for (size_t i = 0; i < hosts_.size(); ++i) {
      auto sum = FileChecksum(*files_, hosts_[i].path);
      if (!exposed_[i] && sum.ok() && *sum == artifact_sum_) {
        MarkExposed(static_cast<int>(i), env.clock.Monotonic());
        windows_[i].exposed = true;
      }
    }
  }

  // ---- shared -----------------------------------------------------------------------------

  std::map<std::string, std::string> Values(int i) const {
    std::map<std::string, std::string> v = hosts_[i].vars;
    v["name"] = hosts_[i].name;
    v["host"] = hosts_[i].host;
    v["path"] = hosts_[i].path;
    v["artifact"] = artifact_path_;
    v["backup"] = planned_[i]["backup"].get<std::string>();
    v["hosts_file"] = config_.hosts_file;
    return v;
  }

  Status BackUp(int i) {
    const std::string backup = planned_[i]["backup"].get<std::string>();
    auto bytes = ReadWhole(*files_, hosts_[i].path);
    if (!bytes.ok()) return bytes.status();
    Status st = files_->WriteFile(backup, *bytes);
    if (st.ok()) backed_up_[i] = true;
    return st;
  }

  void MarkExposed(int i, Mono at) {
    exposed_[i] = true;
    exposed_at_[i] = at;
    if (!first_exposure_ || at < *first_exposure_) first_exposure_ = at;
    if (detected_at_ && at > *detected_at_) ++overshoot_;
  }

  int ExposedCount() const {
    return static_cast<int>(std::count(exposed_.begin(), exposed_.end(), true));
  }

  void SampleFleet(FaultEnv& env, int wave) {
    int unhealthy = 0;
    for (size_t i = 0; i < hosts_.size(); ++i) {
      HostSample s = SampleHost(hosts_[i], config_.probe_timeout, env.system);
      windows_[i].Record(s);
      if (exposed_[i] && !s.healthy) ++unhealthy;
    }
    unhealthy_ = unhealthy;
    peak_unhealthy_ = std::max(peak_unhealthy_, unhealthy);
    if (unhealthy > 0 && first_unhealthy_wave_ == 0 && wave > 0) first_unhealthy_wave_ = wave;
  }

  void Detect(FaultEnv& env, int wave, const std::string& reason, bool failed_closed) {
    if (detected_) return;
    detected_ = true;
    detected_at_ = env.clock.Monotonic();
    detected_in_wave_ = wave;
    detect_reason_ = reason;
    failed_closed_ = failed_closed;
    spdlog::warn("bad_update: gate failed{}: {}",
                 wave > 0 ? " in wave " + std::to_string(wave) : "", reason);
  }

  // Rolls back every host that was backed up (the ones the update may have reached), then waits
  // until each exposed host is healthy again.
  void RollBackAndVerify(FaultEnv& env) {
    rollback_started_ = env.clock.Monotonic();
    std::mutex mu;
    std::vector<int> touched;
    for (size_t i = 0; i < hosts_.size(); ++i) {
      if (backed_up_[i]) touched.push_back(static_cast<int>(i));
    }
    ParallelFor(touched.size(), config_.max_concurrency, [&](size_t k) {
      const int i = touched[k];
      Status st = RestoreHost(env.system, planned_[i], config_.rollback, config_.command_timeout);
      std::lock_guard<std::mutex> lock(mu);
      if (!st.ok()) {
        rollback_errors_.push_back({{"host", hosts_[i].name}, {"error", st.message()}});
        spdlog::error("bad_update: rollback of {} failed: {}", hosts_[i].name, st.message());
      }
    });
    // Verify: every exposed host answers healthy again, within verify_timeout.
    std::vector<bool> healthy(hosts_.size(), true);
    for (size_t i = 0; i < hosts_.size(); ++i) healthy[i] = !exposed_[i];
    const Mono deadline = env.clock.Monotonic() + config_.verify_timeout;
    const long long max_polls = config_.verify_timeout.count() / config_.gate_interval.count() + 2;
    std::optional<Mono> last_healthy;
    for (long long poll = 0; poll < max_polls; ++poll) {
      bool all = true;
      for (size_t i = 0; i < hosts_.size(); ++i) {
        if (healthy[i]) continue;
        if (SampleHost(hosts_[i], config_.probe_timeout, env.system).healthy) {
          healthy[i] = true;
          last_healthy = env.clock.Monotonic();
        } else {
          all = false;
        }
      }
      if (all || env.clock.Monotonic() >= deadline) break;
      // Not cut short by a stop: the rollback's verification is part of the revert.
      StopSource never;
      env.clock.SleepUntil(std::min(deadline, env.clock.Monotonic() + config_.gate_interval),
                           never);
    }
    stranded_ = 0;
    for (size_t i = 0; i < hosts_.size(); ++i) stranded_ += healthy[i] ? 0 : 1;
    const Mono from = detected_at_ ? *detected_at_ : rollback_started_;
    time_to_rollback_ms_ = MsBetween(from, last_healthy ? *last_healthy : env.clock.Monotonic());
    rolled_back_ = true;
    observed_ = Summary();
  }

  std::string VerdictReason() const {
    const int fleet = static_cast<int>(hosts_.size());
    const double blast = fleet > 0 ? static_cast<double>(ExposedCount()) / fleet : 0;
    if (stranded_ > 0 || !rollback_errors_.empty()) return "rollback_incomplete";
    if (config_.mode == Mode::kAa) {
      if (failed_closed_) return "inconclusive";
      return detected_ ? "false_positive" : "contained";
    }
    if (failed_closed_) return "inconclusive";
    // Pipeline mode: halted by ringfence after a failed gate, or the pipeline failed by itself.
    const bool halted = config_.mode == Mode::kPipeline
                            ? halt_reason_ == "gate" || (pipeline_exit_ && *pipeline_exit_ != 0)
                            : detected_;
    if (pipeline_left_running_) return "pipeline_not_stopped";
    if (!halted) return "not_detected";
    if (blast > config_.max_blast_radius + 1e-12) return "blast_radius_exceeded";
    if (overshoot_ > 0) return "overshoot";
    if (config_.mode == Mode::kRehearse && first_unhealthy_wave_ > 0 &&
        detected_in_wave_ > first_unhealthy_wave_) {
      return "late_detection";
    }
    return "contained";
  }

  // One entry per planned wave, for reports (docs/faults/bad_update.md): its hosts, how many
  // were exposed and seen unhealthy once exposed, its gate's result, whether it was rolled back.
  nlohmann::json WaveSummaries() const {
    nlohmann::json waves = nlohmann::json::array();
    for (size_t w = 0; w < plan_.waves.size(); ++w) {
      const int number = static_cast<int>(w) + 1;
      int exposed = 0, unhealthy = 0;
      for (int i : plan_.waves[w]) {
        const auto host = static_cast<size_t>(i);
        if (host >= exposed_.size() || !exposed_[host]) continue;
        ++exposed;
        if (host < windows_.size() && windows_[host].unhealthy_samples > 0) ++unhealthy;
      }
      const char* gate = number > waves_done_                       ? "not_run"
                         : detected_ && number == detected_in_wave_ ? "failed"
                                                                    : "passed";
      waves.push_back({{"wave", number},
                       {"planned", plan_.waves[w].size()},
                       {"exposed", exposed},
                       {"unhealthy", unhealthy},
                       {"gate", gate},
                       {"rolled_back", rolled_back_ && exposed > 0}});
    }
    return waves;
  }

  nlohmann::json Summary() const {
    const int fleet = static_cast<int>(hosts_.size());
    const int exposed = ExposedCount();
    nlohmann::json j;
    j["mode"] = config_.mode == Mode::kRehearse ? "rehearse"
                : config_.mode == Mode::kAa     ? "aa"
                                                : "pipeline";
    j["fleet"] = fleet;
    j["exposed"] = exposed;
    j["unhealthy"] = unhealthy_;
    j["peak_unhealthy"] = peak_unhealthy_;
    j["waves_planned"] = plan_.waves.size();
    if (!plan_.notes.empty()) j["wave_notes"] = plan_.notes;
    j["waves_run"] = waves_done_;
    j["waves"] = WaveSummaries();
    j["detected_in_wave"] =
        detected_ && detected_in_wave_ > 0 ? nlohmann::json(detected_in_wave_) : nlohmann::json();
    j["detected_by"] = detected_ ? nlohmann::json(detect_reason_) : nlohmann::json();
    j["time_to_detect_ms"] = detected_ && first_exposure_
                                 ? nlohmann::json(MsBetween(*first_exposure_, *detected_at_))
                                 : nlohmann::json();
    j["overshoot"] = overshoot_;
    j["time_to_rollback_ms"] =
        rolled_back_ ? nlohmann::json(time_to_rollback_ms_) : nlohmann::json();
    j["stranded"] = stranded_;
    j["blast_radius"] = fleet > 0 ? static_cast<double>(exposed) / fleet : 0.0;
    j["max_blast_radius"] = config_.max_blast_radius;
    j["deploy_errors"] = deploy_errors_;
    j["rollback_errors"] = rollback_errors_;
    if (config_.mode == Mode::kPipeline) {
      j["pipeline_exit_code"] = pipeline_exit_ ? nlohmann::json(*pipeline_exit_) : nlohmann::json();
      if (!pipeline_error_.empty()) j["pipeline_error"] = pipeline_error_;
      if (!pipeline_halt_.is_null()) {
        nlohmann::json halt = pipeline_halt_;
        halt["overshoot"] = overshoot_;
        // Contained: stopped with nothing of it left, before it reached another host.
        halt["contained"] = !pipeline_left_running_ && overshoot_ == 0;
        j["pipeline_halt"] = halt;
      }
    }
    j["artifact_checksum"] = artifact_sum_;
    j["verdict_reason"] = VerdictReason();
    return j;
  }

 public:
  // Set once the rollout and its rollback are done (Observe may come before: then a summary).
  void Finish() {
    const std::string reason = VerdictReason();
    const int fleet = static_cast<int>(hosts_.size());
    const double blast = fleet > 0 ? static_cast<double>(ExposedCount()) / fleet : 0;
    expectation_met_ = reason == "contained" &&
                       (config_.mode == Mode::kAa || blast <= config_.max_blast_radius + 1e-12);
    expectation_detail_ =
        fmt::format("{}: {} of {} hosts exposed (blast radius {}, allowed {})", reason,
                    ExposedCount(), fleet, blast, config_.max_blast_radius);
    observed_ = Summary();
  }

  static Status RestoreHost(Env& system, const nlohmann::json& host,
                            const std::vector<std::string>& rollback, Duration timeout);

 private:
  std::string step_name_;
  BadUpdateConfig config_;
  std::vector<FleetHost> hosts_;
  WavePlan plan_;
  std::string artifact_;
  std::string artifact_path_;
  FileSystem* files_ = nullptr;  // the Env's, from Inject on
  std::string artifact_sum_;
  std::string work_dir_;
  nlohmann::json planned_ = nlohmann::json::array();

  std::vector<HostWindow> windows_;
  std::vector<bool> exposed_;
  std::vector<bool> backed_up_;
  std::vector<std::optional<Mono>> exposed_at_;
  std::optional<Mono> first_exposure_;
  int waves_done_ = 0;
  bool detected_ = false;
  std::optional<Mono> detected_at_;
  int detected_in_wave_ = 0;
  std::string detect_reason_;
  bool failed_closed_ = false;
  int first_unhealthy_wave_ = 0;
  int unhealthy_ = 0;
  int peak_unhealthy_ = 0;
  int overshoot_ = 0;
  int stranded_ = 0;
  Mono rollback_started_{};
  long long time_to_rollback_ms_ = 0;
  bool rolled_back_ = false;
  nlohmann::json deploy_errors_ = nlohmann::json::array();
  nlohmann::json rollback_errors_ = nlohmann::json::array();
  std::optional<int> pipeline_exit_;
  std::string pipeline_error_;
  std::string halt_reason_;  // why ringfence halted the pipeline: gate, stop, watch_ended
  nlohmann::json pipeline_halt_;
  bool pipeline_left_running_ = false;
  nlohmann::json observed_;
  bool expectation_met_ = false;
  std::string expectation_detail_;
};

// One host of an undo record back to its recorded bytes: nothing to do when its checksum already
// matches; otherwise the rollback template (when the backup is intact), then the check. The
// backup goes once the host matches.
Status BadUpdate::RestoreHost(Env& system, const nlohmann::json& host,
                              const std::vector<std::string>& rollback, Duration timeout) {
  const std::string name = host.value("name", "");
  const std::string path = host.value("path", "");
  const std::string backup = host.value("backup", "");
  const std::string want = host.value("checksum", "");
  FileSystem& files = system.files();
  auto now = FileChecksum(files, path);
  if (!now.ok() || *now != want) {
    auto saved = FileChecksum(files, backup);
    if (!saved.ok()) {
      // Never backed up means never deployed to: a host whose file changed anyway was changed
      // by someone else, and is not ours to touch.
      return Status::Ok();
    }
    if (*saved != want) {
      return Status::Runtime("host " + name + ": the backup " + backup +
                             " does not match the checksum recorded before the rollout");
    }
    std::map<std::string, std::string> values;
    if (host.contains("vars") && host["vars"].is_object()) {
      for (const auto& [k, v] : host["vars"].items()) {
        if (v.is_string()) values[k] = v.get<std::string>();
      }
    }
    values["name"] = name;
    values["host"] = host.value("host", "local");
    values["path"] = path;
    values["backup"] = backup;
    values["artifact"] = backup;
    Status ran = RunChecked(system, Expand(rollback, values), timeout);
    if (!ran.ok())
      return Status::Error(ran.code(), "host " + name + ": rollback: " + ran.message());
    now = FileChecksum(files, path);
    if (!now.ok() || *now != want) {
      return Status::Runtime("host " + name + ": " + path +
                             " does not match its checksum from before the rollout after the "
                             "rollback ran");
    }
  }
  (void)files.Remove(backup);
  return Status::Ok();
}

void AddCommandError(const nlohmann::json& params, const std::string& pointer, const char* key,
                     ValidationErrors& errors) {
  if (!params.contains(key)) {
    errors.Add(pointer + "/" + key, kFoundMissing, kCommandAllowed);
    return;
  }
  const auto& cmd = params[key];
  if (!cmd.is_array() || cmd.empty() || !cmd[0].is_string() || cmd[0].get<std::string>().empty()) {
    errors.Add(pointer + "/" + key, FoundValue(cmd), kCommandAllowed);
  }
}

}  // namespace

GateConfig DeclaredGateConfig() {
  return GatesFrom(
      ParamReader(BadUpdateDecl(), WithDefaults(BadUpdateDecl(), nlohmann::json::object())));
}

Result<std::string> FileChecksum(FileSystem& files, const std::string& path) {
  auto bytes = ReadWhole(files, path);
  if (!bytes.ok()) return bytes.status();
  return Fnv1a(*bytes);
}

const FaultDecl& BadUpdateFactory::Declaration() const { return BadUpdateDecl(); }

namespace {

const FaultDecl& BadUpdateDecl() {
  static const FaultDecl decl = [] {
    FaultDecl d;
    d.name = kType;
    d.summary =
        "Push a bad artifact to a fleet in growing waves with gates between them; halt and "
        "roll back when a gate fails, and measure how far the damage got";
    d.target_kind = TargetKind::kHost;
    auto param = [&](std::string name, ParamType type, nlohmann::json def, std::string doc) {
      ParamDecl p;
      p.name = std::move(name);
      p.type = type;
      p.default_value = std::move(def);
      p.doc = std::move(doc);
      d.params.push_back(p);
      return &d.params.back();
    };
    auto mode = param("mode", ParamType::kEnum, "rehearse",
                      "rehearse: ringfence rolls out; pipeline: the user's pipeline_command rolls "
                      "out and ringfence watches; aa: the good artifact through the same waves");
    mode->choices = {"rehearse", "pipeline", "aa"};
    param("hosts_file", ParamType::kString, nullptr,
          "JSON file listing the fleet: [{name, host, path, health_url, work_url, tags, vars}]")
        ->required = true;
    param("artifact", ParamType::kString, nullptr, "The good artifact (a file)")->required = true;
    param("bad_artifact", ParamType::kString, nullptr,
          "A bad artifact of your own; without it the good one gets `mutation`");
    param("mutation", ParamType::kEnum, "extra_field",
          "How the bad artifact is made from the good one")
        ->choices = MutationNames();
    param("mutation_seed", ParamType::kInteger, 1, "Seed of corrupt_bytes")->min = 0;
    param("mutation_record", ParamType::kInteger, 1,
          "extra_field: the record (1-based) that gets one more field")
        ->min = 1;
    auto over = param("oversize_bytes", ParamType::kInteger, 8 << 20,
                      "oversize: the bad artifact is at least this many bytes");
    over->min = 1;
    over->max = 1 << 30;
    param("deploy", ParamType::kStringList, nullptr,
          "Command template run per host (argv, no shell): {host} {name} {path} {artifact} "
          "{backup} {hosts_file} and the host's vars");
    param("rollback", ParamType::kStringList, nullptr,
          "Command template that puts {backup} back at {path} on one host");
    param("pipeline_command", ParamType::kStringList, nullptr,
          "pipeline mode: your rollout tool, with {artifact} {hosts_file} {work_dir}");
    auto timeout = param("command_timeout", ParamType::kDuration, "10s",
                         "Timeout of each deploy and rollback command");
    timeout->min = 1;
    timeout->max = kHourMs;
    auto conc = param("max_concurrency", ParamType::kInteger, 4, "Hosts deployed at once");
    conc->min = 1;
    conc->max = 64;
    param("max_errors", ParamType::kInteger, 0,
          "Deploy failures a wave tolerates; more halts and rolls back")
        ->min = 0;
    param("waves", ParamType::kCountList, nlohmann::json::array({1, "10%", "50%", "100%"}),
          "Cumulative wave sizes: host counts (\"1\") or percentages of the fleet (\"10%\")");
    param("stratify_by", ParamType::kString, nullptr,
          "A host tag: every value of it is in the first wave");
    auto bake =
        param("bake", ParamType::kDuration, "5s", "How long each wave bakes under the gates");
    bake->min = 1;
    bake->max = kHourMs;
    auto interval = param("gate_interval", ParamType::kDuration, "200ms", "Sampling interval");
    interval->min = 50;
    interval->max = 60000;
    auto probe = param("probe_timeout", ParamType::kDuration, "1s", "Timeout of one HTTP sample");
    probe->min = 1;
    probe->max = 60000;
    param("unhealthy_samples", ParamType::kInteger, 2,
          "Consecutive unhealthy samples of an exposed host that fail the gate")
        ->min = 1;
    param("fail_on_restart", ParamType::kBoolean, true,
          "A new pid behind an exposed host's /health fails the gate");
    auto err = param("max_error_rate", ParamType::kNumber, nullptr,
                     "If set, the exposed hosts' /work error rate above this fails the gate");
    err->min = 0;
    err->max = 1;
    param("comparative", ParamType::kBoolean, true,
          "Compare exposed with untouched hosts (Mann-Whitney U, Fisher) at the end of each bake");
    param("alpha", ParamType::kNumber, 0.05, "Significance level of the comparative tests");
    param("min_latency_effect", ParamType::kNumber, 0.5,
          "Latency fails only when the exposed median is at least (1 + this) × the baseline's")
        ->min = 0;
    auto eff = param("min_unhealthy_effect", ParamType::kNumber, 0.2,
                     "Unhealthy share fails only when exposed − baseline is at least this");
    eff->min = 0;
    eff->max = 1;
    param("min_samples", ParamType::kInteger, 5,
          "Samples per group a comparative test needs; fewer is inconclusive")
        ->min = 1;
    auto inc = param("inconclusive_deadline", ParamType::kDuration, "10s",
                     "How long an inconclusive wave stays paused before it fails closed");
    inc->min = 0;
    inc->max = kHourMs;
    auto verify = param("verify_timeout", ParamType::kDuration, "15s",
                        "How long rolled-back hosts have to be healthy again");
    verify->min = 1;
    verify->max = kHourMs;
    auto pipe = param("pipeline_timeout", ParamType::kDuration, "60s",
                      "pipeline mode: the pipeline is killed after this");
    pipe->min = 1;
    pipe->max = kHourMs;
    auto grace = param("pipeline_stop_grace", ParamType::kDuration, "2s",
                       "pipeline mode: after a failed gate the pipeline's process group gets "
                       "SIGTERM, and SIGKILL after this");
    grace->min = 0;
    grace->max = 60000;
    auto blast = param("max_blast_radius", ParamType::kNumber, 0.1,
                       "The experiment passes only if exposed ÷ fleet stays at or below this");
    blast->min = 0;
    blast->max = 1;
    return d;
  }();
  return decl;
}

}  // namespace

void BadUpdateFactory::ValidateConfig(const nlohmann::json& params, const std::string& pointer,
                                      ValidationErrors& errors) const {
  const std::string mode = ParamReader(BadUpdateDecl(), params).Get<std::string>("mode");
  AddCommandError(params, pointer, "rollback", errors);
  if (mode == "pipeline") {
    AddCommandError(params, pointer, "pipeline_command", errors);
  } else {
    AddCommandError(params, pointer, "deploy", errors);
  }
  if (params.contains("alpha") && params["alpha"].is_number()) {
    const double alpha = params["alpha"].get<double>();
    if (!(alpha > 0 && alpha < 1)) {
      errors.Add(pointer + "/alpha", FoundValue(params["alpha"]), "a number above 0 and below 1");
    }
  }
  bool waves_ok = true;
  std::vector<WaveSize> waves;
  if (params.contains("waves") && params["waves"].is_array()) {
    const auto& list = params["waves"];
    if (list.empty()) {
      errors.Add(pointer + "/waves", "[]", "at least one wave");
      waves_ok = false;
    }
    for (size_t i = 0; i < list.size(); ++i) {
      if (!list[i].is_string() && !list[i].is_number_integer()) continue;  // ValidateParams
      auto w = ParseWaveSize(list[i].is_string() ? list[i].get<std::string>()
                                                 : std::to_string(list[i].get<int64_t>()));
      if (!w.ok()) {
        errors.Add(pointer + "/waves/" + std::to_string(i), FoundValue(list[i]), kWaveAllowed);
        waves_ok = false;
      } else {
        waves.push_back(*w);
      }
    }
  }
  BadUpdateConfig config = ParseConfig(params);
  auto hosts = ReadHostsFile(SystemFileSystem(), config.hosts_file);
  if (!hosts.ok()) {
    errors.Add(pointer + "/hosts_file", FoundValue(nlohmann::json(config.hosts_file)),
               "a readable hosts file (" + hosts.status().message() + ")");
  } else {
    if (waves_ok && mode != "pipeline") {
      auto plan = PlanWaves(waves, *hosts, config.stratify_by);
      if (!plan.ok()) {
        errors.Add(pointer + "/waves", FoundValue(params["waves"]), plan.status().message());
      }
    }
    // Every {placeholder} of a per-host template must have a value on every host.
    for (const char* key : {"deploy", "rollback"}) {
      for (const auto& name :
           PlaceholdersIn(key == std::string("deploy") ? config.deploy : config.rollback)) {
        static const std::set<std::string> kBuiltIn = {"name",     "host",   "path",
                                                       "artifact", "backup", "hosts_file"};
        bool everywhere = kBuiltIn.count(name) > 0;
        if (!everywhere) {
          everywhere = std::all_of(hosts->begin(), hosts->end(),
                                   [&](const FleetHost& h) { return h.vars.count(name) > 0; });
        }
        if (!everywhere) {
          errors.Add(pointer + "/" + key, FoundValue(params[key]),
                     "placeholders {name} {host} {path} {artifact} {backup} {hosts_file} or a "
                     "var of every host; {" +
                         name + "} is neither");
          break;
        }
      }
    }
  }
  auto good = ReadWhole(SystemFileSystem(), config.artifact);
  if (!good.ok()) {
    errors.Add(pointer + "/artifact", FoundValue(nlohmann::json(config.artifact)),
               "a readable file (" + good.status().message() + ")");
    return;
  }
  if (mode == "aa") return;
  if (!config.bad_artifact.empty()) {
    auto bad = ReadWhole(SystemFileSystem(), config.bad_artifact);
    if (!bad.ok()) {
      errors.Add(pointer + "/bad_artifact", FoundValue(params["bad_artifact"]),
                 "a readable file (" + bad.status().message() + ")");
    }
    return;
  }
  auto bad = Mutate(*good, config.mutation);
  if (!bad.ok()) {
    errors.Add(pointer + "/mutation", FoundValue(nlohmann::json(config.mutation.name)),
               "a mutation the artifact can take: " + bad.status().message());
  } else if (*bad == *good) {
    errors.Add(pointer + "/mutation", FoundValue(nlohmann::json(config.mutation.name)),
               "a mutation the artifact can take: it leaves the artifact unchanged");
  }
}

std::unique_ptr<Fault> BadUpdateFactory::Create(const FaultStep& step,
                                                const TargetSpec& target) const {
  (void)target;
  return std::make_unique<BadUpdate>(step.name, ParseConfig(step.params));
}

Status BadUpdateFactory::Revert(FaultEnv& env, const UndoRecord& undo) const {
  const auto& data = undo.data;
  if (!data.contains("hosts") || !data["hosts"].is_array() || !data.contains("work_dir") ||
      !data["work_dir"].is_string() || !data.contains("rollback") || !data["rollback"].is_array()) {
    return Status::InvalidInput("undo record has no valid hosts, work_dir or rollback: " +
                                data.dump());
  }
  std::vector<std::string> rollback;
  for (const auto& a : data["rollback"]) {
    if (a.is_string()) rollback.push_back(a.get<std::string>());
  }
  const Duration timeout{data.value("command_timeout_ms", 10000LL)};
  std::vector<std::string> failures;
  for (const auto& host : data["hosts"]) {
    Status st = BadUpdate::RestoreHost(env.system, host, rollback, timeout);
    if (!st.ok()) failures.push_back(st.message());
  }
  if (!failures.empty()) {
    std::string joined;
    for (const auto& f : failures) joined += (joined.empty() ? "" : "; ") + f;
    return Status::Runtime(joined);
  }
  return env.system.files().RemoveTree(data["work_dir"].get<std::string>());
}

Verification BadUpdateFactory::Verify(FaultEnv& env, const UndoRecord& undo) const {
  const auto& data = undo.data;
  if (!data.contains("hosts") || !data["hosts"].is_array()) {
    return Verification::Unknown("undo record has no valid hosts");
  }
  std::vector<std::string> wrong;
  for (const auto& host : data["hosts"]) {
    if (!host.is_object()) return Verification::Unknown("undo record has a host that is no object");
    const std::string name = host.value("name", "");
    const std::string path = host.value("path", "");
    const std::string want = host.value("checksum", "");
    auto now = FileChecksum(env.system.files(), path);
    if (!now.ok()) {
      wrong.push_back(name + " (" + path + ": " + now.status().message() + ")");
    } else if (*now != want) {
      wrong.push_back(name + " (" + path + " has checksum " + *now + ", not " + want + ")");
    }
  }
  if (!wrong.empty()) {
    std::string joined;
    for (const auto& w : wrong) joined += (joined.empty() ? "" : "; ") + w;
    return Verification::NotReverted("not restored: " + joined);
  }
  return Verification::Reverted("all " + std::to_string(data["hosts"].size()) +
                                " hosts have their artifact's checksum from before the rollout");
}

RINGFENCE_REGISTER_FAULT(BadUpdateFactory);

}  // namespace ringfence
