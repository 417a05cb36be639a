#include "faults/process_kill/process_kill.h"

#include <signal.h>

#include <algorithm>
#include <optional>
#include <set>
#include <utility>

#include "core/base/shell_quote.h"
#include "core/base/signals.h"
#include "core/targets/target_resolver.h"
#include "faults/common/process_ref.h"
#include "faults/common/process_targets.h"

namespace ringfence {
namespace {

constexpr char kType[] = "process_kill";

// Waits are cut into slices this long so that a stop request ends them promptly.
constexpr std::chrono::milliseconds kPollSlice{50};
// ProcessTable::StartTime is truncated to clock ticks (10 ms at the usual 100 Hz): a process
// that started just after an instant may appear to have started up to one tick before it.
constexpr std::chrono::milliseconds kStartTimeSlack{20};
constexpr std::chrono::seconds kRestartCommandTimeout{30};  // "30s" in messages
constexpr double kMaxDurationMs = 3600.0 * 1000;

const FaultDecl& ProcessKillDecl();

// process_kill's params, typed: built once from params that validated.
struct ProcessKillConfig {
  int signo = 0;
  std::optional<Duration> grace;
  std::optional<Duration> expect_restart_within;
  std::optional<std::vector<std::string>> restart_command;

  static ProcessKillConfig FromParams(const nlohmann::json& params) {
    const ParamReader read(ProcessKillDecl(), params);
    ProcessKillConfig config;
    config.signo = read.Signal("signal");
    config.grace = read.OptionalDuration("grace");
    config.expect_restart_within = read.OptionalDuration("expect_restart_within");
    config.restart_command = read.Optional<std::vector<std::string>>("restart_command");
    return config;
  }
};

// A process that matches the selector and is new since the kill.
struct Replacement {
  ProcessRef process;
  WallTime started;
};

struct KilledProcess {
  ProcessRef process;
  WallTime kill_time;
  bool escalated = false;
};

class ProcessKill : public Fault {
 public:
  ProcessKill(std::string step_name, ProcessSelector selector, ProcessKillConfig config)
      : step_name_(std::move(step_name)),
        selector_(std::move(selector)),
        config_(std::move(config)) {}

  Status Prepare(FaultEnv& env, const std::vector<Target>& targets) override {
    return CheckTargetsSignallable(env.processes, targets);
  }

  Result<UndoRecord> PlanUndo(FaultEnv& env, const Target& target) override {
    UndoRecord undo;
    undo.fault_type = kType;
    undo.fault_name = step_name_;
    undo.host = target.host;
    undo.target = target.label;
    undo.data = ProcessRef::Of(target.process).ToJson();
    // The plan time precedes the kill, so "started since kill_time_ms" includes every
    // replacement.
    undo.data["kill_time_ms"] = EpochMs(env.clock.Now());
    undo.data["selector"] = SelectorToJson(selector_);
    if (config_.restart_command) {
      undo.data["restart_command"] = *config_.restart_command;
      undo.manual_undo = ShellJoin(*config_.restart_command);
    } else {
      undo.manual_undo =
          "nothing to undo: a killed process cannot be revived; restart it with its supervisor";
    }
    return undo;
  }

  Status Inject(FaultEnv& env, const Target& target, const UndoRecord& undo) override {
    (void)undo;
    if (!snapshot_taken_) RememberProcessesBeforeTheKill(env);
    const ProcessRef ref = ProcessRef::Of(target.process);
    before_kill_.insert({ref.pid, ref.start_ticks});

    KilledProcess killed{ref, env.clock.Now()};
    last_kill_monotonic_ = env.clock.Monotonic();
    Status sent = env.processes.Signal(ref.pid, ref.start_ticks, config_.signo);
    if (!sent.ok()) return sent;
    killed_.push_back(killed);
    if (!config_.grace) return Status::Ok();

    if (WaitForExit(env, ref, *config_.grace)) return Status::Ok();
    // A stop request ends the injection: escalating now would only add damage.
    if (env.stop.stop_requested()) return Status::Ok();
    Status escalated = env.processes.Signal(ref.pid, ref.start_ticks, SIGKILL);
    if (escalated.code() == StatusCode::kNotFound) return Status::Ok();  // it exited just now
    if (!escalated.ok()) return escalated;
    killed_.back().escalated = true;
    return Status::Ok();
  }

  // {"killed": [pids], "signal": "SIGTERM", "escalated_to_sigkill": [pids]} and, when
  // expect_restart_within is set, "replacements": [{"pid", "restart_ms"}] and "restarted".
  nlohmann::json Observe(FaultEnv& env) override {
    nlohmann::json killed = nlohmann::json::array();
    nlohmann::json escalated = nlohmann::json::array();
    for (const auto& k : killed_) {
      killed.push_back(k.process.pid);
      if (k.escalated) escalated.push_back(k.process.pid);
    }
    nlohmann::json observed = {{"killed", killed},
                               {"signal", SignalName(config_.signo)},
                               {"escalated_to_sigkill", escalated}};
    if (!config_.expect_restart_within) return observed;

    WaitForReplacements(env);
    nlohmann::json replacements = nlohmann::json::array();
    const auto pairs = PairReplacements();
    size_t in_time = 0;
    for (const auto& [replacement, restart] : pairs) {
      replacements.push_back({{"pid", replacement.process.pid}, {"restart_ms", restart.count()}});
      if (restart <= *config_.expect_restart_within) ++in_time;
    }
    restarted_ = in_time >= killed_.size();
    observed["replacements"] = replacements;
    observed["restarted"] = restarted_;
    return observed;
  }

  bool ExpectationMet() const override { return !config_.expect_restart_within || restarted_; }
  std::string ExpectationDetail() const override {
    return config_.expect_restart_within ? "no replacement within expect_restart_within " +
                                               FormatDuration(*config_.expect_restart_within)
                                         : "";
  }

 private:
  void RememberProcessesBeforeTheKill(FaultEnv& env) {
    snapshot_taken_ = true;
    auto matches = MatchProcesses(env.processes, selector_);
    if (!matches.ok()) return;
    for (const auto& p : *matches) before_kill_.insert({p.pid, p.start_ticks});
  }

  // True when the process exited within `grace`. Waits in slices so that a stop ends it early;
  // the slice count bounds the loop even on a clock that does not move.
  bool WaitForExit(FaultEnv& env, const ProcessRef& ref, Duration grace) {
    const auto deadline = env.clock.Monotonic() + grace;
    const long long slices = grace.count() / kPollSlice.count() + 1;
    for (long long i = 0; i < slices && !env.stop.stop_requested(); ++i) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - env.clock.Monotonic());
      if (left.count() <= 0) break;
      if (env.processes.WaitExit(ref.pid, ref.start_ticks, std::min(left, kPollSlice))) return true;
    }
    return env.processes.WaitExit(ref.pid, ref.start_ticks, std::chrono::milliseconds(0));
  }

  // Polls until there is a replacement for every killed process, the window after the last
  // kill has passed, or a stop is requested.
  void WaitForReplacements(FaultEnv& env) {
    if (killed_.empty()) return;
    const auto deadline = last_kill_monotonic_ + *config_.expect_restart_within;
    const long long max_polls = config_.expect_restart_within->count() / kPollSlice.count() + 2;
    for (long long i = 0; i < max_polls; ++i) {
      FindReplacements(env);
      if (replacements_.size() >= killed_.size()) return;
      const auto now = env.clock.Monotonic();
      if (now >= deadline || env.stop.stop_requested()) return;
      if (!env.clock.SleepUntil(std::min(deadline, now + kPollSlice), env.stop)) return;
    }
  }

  void FindReplacements(FaultEnv& env) {
    auto matches = MatchProcesses(env.processes, selector_);
    if (!matches.ok()) return;  // e.g. a pidfile not yet rewritten: no replacement yet
    const WallTime first_kill = killed_.front().kill_time;
    for (const auto& p : *matches) {
      const auto id = std::make_pair(p.pid, p.start_ticks);
      if (before_kill_.count(id) != 0 || known_replacements_.count(id) != 0) continue;
      const WallTime started = env.processes.StartTime(p.start_ticks);
      if (started + kStartTimeSlack < first_kill) continue;
      known_replacements_.insert(id);
      replacements_.push_back({ProcessRef::Of(p), started});
    }
  }

  // Replacements in start order, each paired with the earliest killed process not yet paired;
  // restart time = start − that kill, at least 0.
  std::vector<std::pair<Replacement, std::chrono::milliseconds>> PairReplacements() const {
    std::vector<Replacement> by_start = replacements_;
    std::stable_sort(
        by_start.begin(), by_start.end(),
        [](const Replacement& a, const Replacement& b) { return a.started < b.started; });
    std::vector<WallTime> kills;
    for (const auto& k : killed_) kills.push_back(k.kill_time);
    std::sort(kills.begin(), kills.end());
    std::vector<std::pair<Replacement, std::chrono::milliseconds>> out;
    for (size_t i = 0; i < by_start.size() && i < kills.size(); ++i) {
      auto restart =
          std::chrono::duration_cast<std::chrono::milliseconds>(by_start[i].started - kills[i]);
      out.push_back({by_start[i], std::max(restart, std::chrono::milliseconds(0))});
    }
    return out;
  }

  std::string step_name_;
  ProcessSelector selector_;
  ProcessKillConfig config_;

  bool snapshot_taken_ = false;
  std::set<std::pair<pid_t, unsigned long long>> before_kill_;  // never a replacement
  std::vector<KilledProcess> killed_;
  std::chrono::steady_clock::time_point last_kill_monotonic_;
  std::set<std::pair<pid_t, unsigned long long>> known_replacements_;
  std::vector<Replacement> replacements_;
  bool restarted_ = false;
};

std::string CommandText(const std::vector<std::string>& argv) {
  return nlohmann::json(ShellJoin(argv)).dump();
}

}  // namespace

const FaultDecl& ProcessKillFactory::Declaration() const { return ProcessKillDecl(); }

namespace {

const FaultDecl& ProcessKillDecl() {
  static const FaultDecl decl = [] {
    FaultDecl d;
    d.name = kType;
    d.summary =
        "Kill processes with a signal, optionally escalating to SIGKILL and checking that "
        "they are restarted";
    d.target_kind = TargetKind::kProcess;
    ParamDecl signal;
    signal.name = "signal";
    signal.type = ParamType::kSignal;
    signal.default_value = "SIGTERM";
    signal.doc = "Signal sent to each target: a name (SIGTERM or TERM) or a number";
    ParamDecl grace;
    grace.name = "grace";
    grace.type = ParamType::kDuration;
    grace.min = 1;
    grace.max = kMaxDurationMs;
    grace.doc =
        "If set, how long to wait for each target to exit after `signal` before sending "
        "SIGKILL";
    ParamDecl expect;
    expect.name = "expect_restart_within";
    expect.type = ParamType::kDuration;
    expect.min = 1;
    expect.max = kMaxDurationMs;
    expect.doc =
        "If set, a new process matching the target's selector must start within this "
        "long of each kill, or the run fails";
    ParamDecl restart;
    restart.name = "restart_command";
    restart.type = ParamType::kStringList;
    restart.doc =
        "Command (argv, no shell) run on revert when nothing matching the selector has "
        "started since the kill";
    d.params = {signal, grace, expect, restart};
    return d;
  }();
  return decl;
}

}  // namespace

void ProcessKillFactory::ValidateConfig(const nlohmann::json& params, const std::string& pointer,
                                        ValidationErrors& errors) const {
  const int signo = ParamReader(ProcessKillDecl(), params).Signal("signal");
  if (signo == SIGSTOP || signo == SIGCONT) {
    errors.Add(pointer + "/signal", params["signal"].dump(),
               "a signal that ends a process (to stop one, use process_pause)");
  }
  if (signo == SIGKILL && params.contains("grace") && !params["grace"].is_null()) {
    errors.Add(pointer + "/grace", params["grace"].dump(), "only with a signal other than SIGKILL");
  }
  if (params.contains("restart_command")) {
    const auto& cmd = params["restart_command"];
    if (!cmd.is_array() || cmd.empty() || !cmd[0].is_string() ||
        cmd[0].get<std::string>().empty()) {
      errors.Add(pointer + "/restart_command", cmd.dump(),
                 "a non-empty command: the program, then its arguments");
    }
  }
}

std::unique_ptr<Fault> ProcessKillFactory::Create(const FaultStep& step,
                                                  const TargetSpec& target) const {
  return std::make_unique<ProcessKill>(step.name, target.process,
                                       ProcessKillConfig::FromParams(step.params));
}

Status ProcessKillFactory::Revert(FaultEnv& env, const UndoRecord& undo) const {
  auto ref = ProcessRef::FromJson(undo.data);
  if (!ref.ok()) return ref.status();
  if (!undo.data.contains("restart_command")) return Status::Ok();

  const auto invalid = [&](const char* what) {
    return Status::InvalidInput(std::string("undo record has no valid ") + what + ": " +
                                undo.data.dump());
  };
  const auto& cmd_json = undo.data["restart_command"];
  if (!cmd_json.is_array() || cmd_json.empty()) return invalid("restart_command");
  std::vector<std::string> argv;
  for (const auto& arg : cmd_json) {
    if (!arg.is_string()) return invalid("restart_command");
    argv.push_back(arg.get<std::string>());
  }
  if (!undo.data.contains("kill_time_ms") || !undo.data["kill_time_ms"].is_number_integer()) {
    return invalid("kill_time_ms");
  }
  const WallTime kill_time{std::chrono::milliseconds(undo.data["kill_time_ms"].get<long long>())};
  auto selector = SelectorFromJson(undo.data.value("selector", nlohmann::json()));
  if (!selector.ok()) return selector.status();

  // Not killed after all (the injection failed before the signal, or the signal was handled):
  // restarting would start a second instance.
  auto original = env.processes.Get(ref->pid);
  if (original.ok() && original->start_ticks == ref->start_ticks && original->state != 'Z') {
    return Status::Ok();
  }
  auto matches = MatchProcesses(env.processes, *selector);
  if (!matches.ok() && matches.status().code() != StatusCode::kNotFound) return matches.status();
  if (matches.ok()) {
    for (const auto& p : *matches) {
      if (env.processes.StartTime(p.start_ticks) + kStartTimeSlack >= kill_time)
        return Status::Ok();
    }
  }

  auto ran = env.system.Run(argv, kRestartCommandTimeout);
  if (!ran.ok()) {
    return Status::Error(ran.status().code(),
                         "restart_command " + CommandText(argv) + ": " + ran.status().message());
  }
  if (ran->timed_out) {
    return Status::Timeout("restart_command " + CommandText(argv) + " timed out after 30s");
  }
  if (ran->exit_code != 0) {
    std::string err = ran->err;
    while (!err.empty() && (err.back() == '\n' || err.back() == ' ' || err.back() == '\r')) {
      err.pop_back();
    }
    return Status::Runtime("restart_command " + CommandText(argv) + " exited with " +
                           std::to_string(ran->exit_code) + (err.empty() ? "" : ": " + err));
  }
  return Status::Ok();
}

Verification ProcessKillFactory::Verify(FaultEnv& env, const UndoRecord& undo) const {
  auto ref = ProcessRef::FromJson(undo.data);
  if (!ref.ok()) return Verification::Unknown(ref.status().message());
  if (!undo.data.contains("restart_command")) {
    return Verification::Reverted(
        "no restart_command: a killed process is not revived, so "
        "nothing is to be running again");
  }
  auto original = env.processes.Get(ref->pid);
  if (original.ok() && original->start_ticks == ref->start_ticks && original->state != 'Z') {
    return Verification::Reverted("pid " + std::to_string(ref->pid) + " was never killed");
  }
  auto selector = SelectorFromJson(undo.data.value("selector", nlohmann::json()));
  if (!selector.ok()) return Verification::Unknown(selector.status().message());
  auto matches = MatchProcesses(env.processes, *selector);
  if (!matches.ok()) {
    if (matches.status().code() == StatusCode::kNotFound) {
      return Verification::NotReverted(
          "no live process matching the selector runs after the "
          "restart_command");
    }
    return Verification::Unknown("cannot list processes: " + matches.status().message());
  }
  if (!undo.data.contains("kill_time_ms") || !undo.data["kill_time_ms"].is_number_integer()) {
    return Verification::Unknown("undo record has no valid kill_time_ms");
  }
  const WallTime kill_time{std::chrono::milliseconds(undo.data["kill_time_ms"].get<long long>())};
  // Only a process started since the kill is the restarted one: the selector may match others
  // that were never killed.
  for (const auto& p : *matches) {
    if (p.state == 'Z') continue;
    if (env.processes.StartTime(p.start_ticks) + kStartTimeSlack < kill_time) continue;
    return Verification::Reverted("running again: pid " + std::to_string(p.pid) + " (" + p.name +
                                  ")");
  }
  return Verification::NotReverted(
      "no live process matching the selector runs after the "
      "restart_command");
}

RINGFENCE_REGISTER_FAULT(ProcessKillFactory);

}  // namespace ringfence
