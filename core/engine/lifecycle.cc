#include "core/engine/lifecycle.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <exception>
#include <map>
#include <memory>
#include <random>
#include <thread>

#include <spdlog/spdlog.h>

#include "core/base/parallel_for.h"
#include "core/sys/run_command.h"
#include "core/targets/target_resolver.h"

namespace ringfence {

const char* RunStatusName(RunStatus s) {
  switch (s) {
    case RunStatus::kPassed:
      return "passed";
    case RunStatus::kFailed:
      return "failed";
    case RunStatus::kAborted:
      return "aborted";
    case RunStatus::kNotSteady:
      return "not_steady";
    case RunStatus::kError:
      return "error";
    case RunStatus::kInterrupted:
      return "interrupted";
  }
  return "error";
}

namespace {

std::string Describe(const Status& s) { return s.message(); }

}  // namespace

std::string NewRunId(Env& system) {
  std::string t = FormatRfc3339(system.clock().Now());  // 2026-11-21T16:27:48.123Z
  std::string compact;
  for (char c : t.substr(0, 19)) {
    if (c != '-' && c != ':') compact += c;
  }
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, "-%06x",
                static_cast<unsigned>(system.RandomU32() & 0xffffff));
  return compact + suffix;
}

void LifecycleEngine::SetPhase(const std::string& phase, const std::string& activity) {
  std::lock_guard<std::mutex> lock(progress_mu_);
  progress_.phase = phase;
  progress_.activity = activity;
}

void LifecycleEngine::Checkpoint(RunReport& report, const std::string& phase) {
  if (deps_.journal == nullptr) return;
  try {
    if (deps_.control != nullptr) report.operator_actions = deps_.control->Actions();
    deps_.journal->Checkpoint(report, phase);
  } catch (const std::exception& e) {
    spdlog::warn("journal checkpoint: {}", e.what());
  }
}

void LifecycleEngine::SetActivity(const std::string& activity) {
  std::lock_guard<std::mutex> lock(progress_mu_);
  progress_.activity = activity;
}

void LifecycleEngine::RefreshActive(const RunReport& report) {
  if (parallel_) return;  // the threads reverting in parallel own their faults' records
  std::vector<std::string> active;
  for (const auto& f : report.faults) {
    if (!f.started || f.ended) continue;
    size_t n = std::count_if(f.targets.begin(), f.targets.end(),
                             [](const TargetRecord& t) { return t.inject_ok; });
    active.push_back(f.name + " (" + f.type + ") on " + std::to_string(n) + " target" +
                     (n == 1 ? "" : "s"));
  }
  std::lock_guard<std::mutex> lock(progress_mu_);
  progress_.active_faults = std::move(active);
}

RunProgress LifecycleEngine::Progress() const {
  std::lock_guard<std::mutex> lock(progress_mu_);
  return progress_;
}

void LifecycleEngine::RequestOperatorAbort(const std::string& who, const std::string& why) {
  {
    std::lock_guard<std::mutex> lock(breach_mu_);
    if (operator_abort_ || host_lost_ || breach_ || deps_.stop.stop_requested()) return;
    operator_abort_ = OperatorAbort{who, why, deps_.system.clock().Now()};
  }
  spdlog::error("aborted by {} ({}); reverting every active fault", who, why);
  deps_.stop.RequestStop("operator " + who);
}

// Asks the operators before method step `step` (game days, docs/game-days.md). Returns kRun,
// kSkip, or kHold; a hold past settings.max_hold aborts the run (the engine then stops).
StepGate LifecycleEngine::GateStep(const Experiment& experiment, size_t step, RunReport& report,
                                   std::optional<Mono>& held_since) {
  if (deps_.control == nullptr) return StepGate::kRun;
  std::string who;
  const StepGate gate =
      deps_.control->BeforeStep(step, experiment.method.size(), experiment.method[step], &who);
  {
    std::lock_guard<std::mutex> lock(progress_mu_);
    progress_.held = gate == StepGate::kHold;
  }
  if (gate != StepGate::kHold) {
    held_since.reset();
    if (gate == StepGate::kSkip) {
      report.method_log.push_back({{"step", step},
                                   {"name", experiment.method[step].name},
                                   {"at", FormatRfc3339(deps_.system.clock().Now())},
                                   {"skipped", true},
                                   {"by", who}});
      spdlog::warn("step {} ({}) skipped by {}", step, experiment.method[step].name, who);
    }
    return gate;
  }
  const Mono now = deps_.system.clock().Monotonic();
  if (!held_since) held_since = now;
  if (now - *held_since > experiment.settings.max_hold) {
    RequestOperatorAbort("max_hold", "held longer than settings.max_hold (" +
                                         FormatDuration(experiment.settings.max_hold) + ")");
  }
  SetActivity("held before step " + std::to_string(step + 1) + " (" + experiment.method[step].name +
              ")");
  return gate;
}

bool LifecycleEngine::Resolve(const Experiment& experiment, uint64_t seed, RunReport& report) {
  SetPhase("resolving", "resolving targets");
  std::mt19937_64 rng(seed);
  faults_.clear();
  report.faults.clear();
  for (const MethodStep& step : experiment.method) {
    if (step.kind != MethodStep::Kind::kFault) continue;
    const FaultStep& fs = step.fault;
    const TargetSpec* spec = experiment.FindTarget(fs.target);
    const FaultFactory* factory = deps_.registry.Find(fs.type);
    const bool host_fault =
        factory != nullptr && factory->Declaration().target_kind == TargetKind::kHost;
    if (factory == nullptr || (spec == nullptr && !host_fault)) {
      // The validator guarantees both; a model built by hand may not.
      report.status = RunStatus::kError;
      report.input_error = true;
      report.reason = step.pointer + ": unknown target or fault type";
      return false;
    }
    std::vector<Target> resolved;
    if (spec != nullptr && spec->hosts) {
      // On inventory hosts: hosts, then processes matched on each host.
      if (deps_.hosts == nullptr) {
        report.status = RunStatus::kError;
        report.input_error = true;
        report.reason = spec->pointer +
                        "/hosts: a target on inventory hosts needs an inventory "
                        "(--inventory FILE or /inventory)";
        return false;
      }
      auto targets = deps_.hosts->ResolveTargets(*spec, rng);
      if (!targets.ok()) {
        const StatusCode code = targets.status().code();
        // Unreachable hosts abort (fail closed); the input being wrong is exit 2.
        report.status = code == StatusCode::kUnavailable || code == StatusCode::kTimeout
                            ? RunStatus::kAborted
                            : RunStatus::kError;
        report.input_error = code == StatusCode::kInvalidInput || code == StatusCode::kNotFound;
        report.reason = targets.status().message();
        return false;
      }
      resolved = std::move(*targets);
    } else if (host_fault) {
      Target local;
      local.label = "host " + local.host;
      resolved.push_back(local);
    } else {
      auto targets = ResolveTargets(deps_.system.processes(), *spec, rng, deps_.protected_pids);
      if (!targets.ok()) {
        report.status = RunStatus::kError;
        report.input_error = true;
        report.reason = targets.status().message();
        return false;
      }
      resolved = std::move(*targets);
    }
    FaultRecord record;
    record.name = fs.name;
    record.type = fs.type;
    record.target = fs.target;
    record.params = fs.params;
    record.duration = fs.duration;
    record.start_after = fs.start_after;
    for (const Target& t : resolved) {
      TargetRecord tr;
      tr.target = t;
      record.targets.push_back(std::move(tr));
    }
    report.faults.push_back(std::move(record));
    static const TargetSpec kNoSpec;
    faults_.push_back(factory->Create(fs, spec != nullptr ? *spec : kNoSpec));
    if (deps_.hosts != nullptr) {
      deps_.hosts->RegisterFault(faults_.back().get(), fs, spec != nullptr ? *spec : kNoSpec);
    }
  }
  size_t total = 0;
  for (const auto& f : report.faults) total += f.targets.size();
  if (deps_.max_targets > 0 && total > static_cast<size_t>(deps_.max_targets)) {
    report.status = RunStatus::kError;
    report.input_error = true;
    report.reason = "the run would touch " + std::to_string(total) +
                    " targets; --max-targets allows " + std::to_string(deps_.max_targets);
    return false;
  }
  return true;
}

RunReport LifecycleEngine::Plan(const Experiment& experiment, uint64_t seed) {
  RunReport report;
  report.seed = seed;
  report.started_at = deps_.system.clock().Now();
  report.run_id = "dry-run";
  if (Resolve(experiment, seed, report)) {
    for (size_t i = 0; i < report.faults.size(); ++i) {
      auto groups = TargetsByHost(report.faults[i]);
      ParallelFor(groups.size(), Concurrency(), [&](size_t g) {
        for (size_t t : groups[g]) {
          TargetRecord& tr = report.faults[i].targets[t];
          Executor* executor = ExecutorFor(tr.target.host);
          auto undo =
              executor != nullptr
                  ? executor->PlanUndo(*faults_[i], tr.target)
                  : Result<UndoRecord>(Status::NotFound("no executor for host " + tr.target.host));
          if (undo.ok())
            tr.undo = *undo;
          else
            tr.error = Describe(undo.status());
        }
      });
    }
    report.status = RunStatus::kPassed;
    report.reason = "dry run: nothing was injected";
  }
  report.ended_at = deps_.system.clock().Now();
  return report;
}

std::vector<ProbeOutcome> LifecycleEngine::CheckSteadyState(const Experiment& experiment,
                                                            const StopSource* stop) {
  std::vector<ProbeOutcome> out;
  for (const ProbeSpec& probe : experiment.steady_state) {
    SetActivity("probe " + probe.name);
    if (stop == nullptr) {
      out.push_back(deps_.probes.Run(probe, experiment));
      continue;
    }
    if (stop->stop_requested()) break;
    out.push_back(deps_.probes.Run(probe, experiment, *stop));
  }
  if (deps_.observer) {
    for (const auto& o : out) deps_.observer->ProbeChecked(o.name, o.met, o.detail);
  }
  return out;
}

Executor* LifecycleEngine::ExecutorFor(const std::string& host) {
  if (host == deps_.executor.host()) return &deps_.executor;
  return deps_.hosts != nullptr ? deps_.hosts->ExecutorFor(host) : nullptr;
}

std::vector<std::vector<size_t>> LifecycleEngine::TargetsByHost(const FaultRecord& fault) const {
  std::vector<std::vector<size_t>> groups;
  std::map<std::string, size_t> group_of;
  for (size_t i = 0; i < fault.targets.size(); ++i) {
    auto [it, inserted] = group_of.emplace(fault.targets[i].target.host, groups.size());
    if (inserted) groups.emplace_back();
    groups[it->second].push_back(i);
  }
  return groups;
}

bool LifecycleEngine::SkipsUnreachable(const std::string& host, const Status& st) const {
  return deps_.hosts != nullptr && deps_.hosts->skip_unreachable() &&
         host != deps_.executor.host() &&
         (st.code() == StatusCode::kUnavailable || st.code() == StatusCode::kTimeout);
}

int LifecycleEngine::Concurrency() const {
  return deps_.hosts != nullptr ? deps_.hosts->max_concurrency() : 1;
}

// Plans, records and injects one target. False when the method must stop. Called for the
// targets of one host in order; hosts may run in parallel (report's shared parts under
// report_mu_).
bool LifecycleEngine::InjectOne(size_t index, TargetRecord& tr, RunReport& report) {
  FaultRecord& fr = report.faults[index];
  auto fail = [&](const std::string& error, bool stop_method) {
    tr.error = error;
    std::lock_guard<std::mutex> lock(report_mu_);
    if (report.status != RunStatus::kError && !deps_.stop.stop_requested()) {
      report.status = RunStatus::kError;
      report.reason = fr.name + " on " + tr.target.label + ": " + error;
    }
    return !stop_method;
  };
  Executor* executor = ExecutorFor(tr.target.host);
  if (executor == nullptr) return fail("no executor for host " + tr.target.host, true);
  SetActivity("injecting " + fr.name + " on " + tr.target.label);
  auto undo = executor->PlanUndo(*faults_[index], tr.target);
  if (!undo.ok() && SkipsUnreachable(tr.target.host, undo.status())) {
    tr.error = "plan: " + Describe(undo.status()) + " (skipped: on_unreachable is skip)";
    return true;
  }
  if (!undo.ok()) return fail("plan: " + Describe(undo.status()), true);
  undo->fault_type = fr.type;
  undo->fault_name = fr.name;
  undo->host = executor->host();
  undo->target = tr.target.label;
  // The watchdog reverts at this deadline even if the runner is alive but late or hung.
  const Duration lifetime =
      std::min<Duration>(fr.duration + deps_.deadline_grace, deps_.max_fault_lifetime);
  undo->deadline_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          (deps_.system.clock().Now() + lifetime).time_since_epoch())
                          .count();
  auto id = deps_.ledger.RecordIntent(*undo);
  if (!id.ok()) {
    tr.error = "ledger: " + Describe(id.status());
    std::lock_guard<std::mutex> lock(report_mu_);
    report.status = RunStatus::kError;
    report.reason = fr.name + ": could not record the undo before injecting: " + tr.error;
    return false;
  }
  tr.undo = *undo;
  tr.ledger_id = *id;
  tr.injected_at = deps_.system.clock().Now();
  spdlog::info("inject {} ({}) on {}", fr.name, fr.type, tr.target.label);
  Status st = executor->Inject(*faults_[index], tr.target, *undo);
  if (!st.ok() && SkipsUnreachable(tr.target.host, st)) {
    tr.error = "inject: " + Describe(st) + " (skipped: on_unreachable is skip)";
    return true;
  }
  if (!st.ok()) {
    tr.error = "inject: " + Describe(st);
    if (deps_.stop.stop_requested()) return false;
    std::lock_guard<std::mutex> lock(report_mu_);
    report.status = RunStatus::kError;
    report.reason = fr.name + " on " + tr.target.label + ": " + tr.error;
    return false;
  }
  tr.inject_ok = true;
  if (deps_.observer) deps_.observer->FaultActive(fr.name, tr.target.label, true);
  return true;
}

bool LifecycleEngine::StartFault(size_t index, RunReport& report) {
  FaultRecord& fr = report.faults[index];
  fr.started = true;
  const auto groups = TargetsByHost(fr);
  if (groups.size() <= 1) {
    for (TargetRecord& tr : fr.targets) {
      if (deps_.stop.stop_requested()) return false;
      const bool ok = InjectOne(index, tr, report);
      RefreshActive(report);
      if (!ok) return false;
    }
    RefreshActive(report);
    return true;
  }
  // Hosts in parallel (bounded), each host's targets in order.
  std::atomic<bool> all_ok{true};
  parallel_ = true;
  ParallelFor(groups.size(), Concurrency(), [&](size_t g) {
    for (size_t t : groups[g]) {
      if (deps_.stop.stop_requested() || !all_ok) return;
      if (!InjectOne(index, fr.targets[t], report)) {
        all_ok = false;
        return;
      }
    }
  });
  parallel_ = false;
  RefreshActive(report);
  return all_ok && !deps_.stop.stop_requested();
}

void LifecycleEngine::RevertOne(FaultRecord& fault, TargetRecord& tr, RunReport& report) {
  if (!tr.undo || tr.revert_ok) return;
  SetActivity("reverting " + fault.name + " on " + tr.target.label);
  const auto started = deps_.system.clock().Monotonic();
  Executor* executor = ExecutorFor(tr.undo->host);
  RevertOutcome outcome =
      executor != nullptr
          ? RevertAndVerify(*executor, *tr.undo, revert_attempts_, deps_.system.clock())
          : RevertOutcome{Status::NotFound("no executor for host " + tr.undo->host),
                          Verification::Unknown("not checked: no executor")};
  const Status& last = outcome.status;
  tr.verification = outcome.verification;
  if (deps_.observer) {
    deps_.observer->RevertDuration(
        std::chrono::duration<double>(deps_.system.clock().Monotonic() - started).count());
  }
  if (last.ok()) {
    tr.revert_ok = true;
    tr.reverted_at = deps_.system.clock().Now();
    if (deps_.observer) deps_.observer->FaultActive(fault.name, tr.target.label, false);
    Status marked = deps_.ledger.RecordReverted(tr.ledger_id);
    if (!marked.ok()) spdlog::warn("ledger: {}", marked.message());
    spdlog::info("reverted {} on {}", fault.name, tr.target.label);
  } else {
    tr.error += (tr.error.empty() ? "" : "; ") + std::string("revert: ") + last.message();
    std::lock_guard<std::mutex> lock(report_mu_);
    report.reverted_cleanly = false;
    report.manual_undo.push_back(fault.name + " on " + tr.target.label + ": " +
                                 tr.undo->manual_undo);
    spdlog::error("REVERT FAILED for {} on {}: {}. Undo by hand: {}", fault.name, tr.target.label,
                  last.message(), tr.undo->manual_undo);
  }
}

void LifecycleEngine::RevertFault(FaultRecord& fault, RunReport& report) {
  // Each host's targets in reverse order of injection; hosts in parallel (bounded).
  const auto groups = TargetsByHost(fault);
  ParallelFor(groups.size(), Concurrency(), [&](size_t g) {
    for (auto it = groups[g].rbegin(); it != groups[g].rend(); ++it) {
      RevertOne(fault, fault.targets[*it], report);
    }
  });
}

nlohmann::json LifecycleEngine::ObserveFault(size_t index, const FaultRecord& fr) {
  const auto groups = TargetsByHost(fr);
  if (groups.size() == 1 && fr.targets[groups[0][0]].target.host != deps_.executor.host()) {
    const std::string& host = fr.targets[groups[0][0]].target.host;
    Executor* executor = ExecutorFor(host);
    return {{host, executor != nullptr ? executor->Observe(*faults_[index]) : nullptr}};
  }
  if (groups.size() <= 1) return deps_.executor.Observe(*faults_[index]);
  // Per host: {"h1": {...}, "h2": {...}}.
  nlohmann::json observed = nlohmann::json::object();
  for (const auto& g : groups) {
    const std::string& host = fr.targets[g[0]].target.host;
    Executor* executor = ExecutorFor(host);
    observed[host] = executor != nullptr ? executor->Observe(*faults_[index]) : nullptr;
  }
  return observed;
}

void LifecycleEngine::EndFault(size_t index, RunReport& report) {
  FaultRecord& fr = report.faults[index];
  if (fr.ended) return;
  // The fault's expectation is judged on what was seen at the end of its active window; the
  // second observation shows the state the revert left (docs/journal.md).
  SetActivity("observing " + fr.name);
  fr.observed = ObserveFault(index, fr);
  fr.expectation_met = faults_[index]->ExpectationMet();
  if (!fr.expectation_met) fr.expectation_detail = faults_[index]->ExpectationDetail();
  RevertFault(fr, report);
  SetActivity("observing " + fr.name + " after its revert");
  fr.observed_after_revert = ObserveFault(index, fr);
  fr.ended = true;
  RefreshActive(report);
}

void LifecycleEngine::RevertEverything(RunReport& report, bool in_parallel) {
  SetPhase("reverting");
  // Reverse order of start: the last fault injected is the first undone.
  std::vector<size_t> order;
  for (size_t i = 0; i < report.faults.size(); ++i) {
    if (report.faults[i].started && !report.faults[i].ended) order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    auto first = [&](size_t i) {
      for (const auto& t : report.faults[i].targets) {
        if (t.injected_at) return *t.injected_at;
      }
      return WallTime::max();
    };
    return first(a) > first(b);
  });
  auto end_one = [&](size_t i) {
    try {
      EndFault(i, report);
    } catch (const std::exception& e) {
      // EndFault fences every call into a fault; this is a last line for the engine's own code.
      spdlog::error("reverting {}: {}", report.faults[i].name, e.what());
      std::lock_guard<std::mutex> lock(report_mu_);
      report.reverted_cleanly = false;
    }
  };
  if (!in_parallel || order.size() < 2) {
    for (size_t i : order) end_one(i);
    return;
  }
  // After a guard breach every active fault goes at once, one thread per fault (the faults of a
  // run are independent: each has its own undo records; each fault's targets still go in order).
  parallel_ = true;
  std::vector<std::thread> threads;
  for (size_t i : order) threads.emplace_back(end_one, i);
  for (auto& t : threads) t.join();
  parallel_ = false;
  RefreshActive(report);
}

bool LifecycleEngine::RunMethod(const Experiment& experiment, RunReport& report) {
  using Mono = std::chrono::steady_clock::time_point;
  SetPhase("method");
  {
    std::lock_guard<std::mutex> lock(progress_mu_);
    progress_.steps = experiment.method.size();
  }
  struct Event {
    bool start;  // start or end of fault `index`
    size_t index;
  };
  std::multimap<Mono, Event> pending;
  // Background actions run on threads of their own; whichever way the method ends, they are
  // waited for (a stop request ends them) and their outcomes logged.
  struct BackgroundActions {
    RunReport& report;
    std::vector<std::thread> threads;
    std::vector<std::unique_ptr<nlohmann::json>> entries;
    ~BackgroundActions() {
      for (auto& t : threads) t.join();
      for (auto& e : entries) report.method_log.push_back(std::move(*e));
    }
  } background{report, {}, {}};
  const Mono t0 = deps_.system.clock().Monotonic();
  Mono cursor = t0;
  size_t step = 0;
  size_t fault_index = 0;
  std::optional<Mono> held_since;
  while (true) {
    if (deps_.stop.stop_requested()) return false;
    bool step_next =
        step < experiment.method.size() && (pending.empty() || cursor <= pending.begin()->first);
    if (step_next) {
      if (!deps_.system.clock().SleepUntil(cursor, deps_.stop)) return false;
      const MethodStep& s = experiment.method[step];
      const StepGate gate = GateStep(experiment, step, report, held_since);
      if (deps_.stop.stop_requested()) return false;
      if (gate == StepGate::kHold) {
        // Ask again shortly; fault starts and ends due before then still happen on time.
        cursor = deps_.system.clock().Monotonic() + std::chrono::milliseconds(200);
        continue;
      }
      if (gate == StepGate::kSkip) {
        if (s.kind == MethodStep::Kind::kFault) ++fault_index;  // never started: not reverted
        ++step;
        std::lock_guard<std::mutex> lock(progress_mu_);
        progress_.step = step;
        continue;
      }
      nlohmann::json entry = {{"step", step}, {"at", FormatRfc3339(deps_.system.clock().Now())}};
      switch (s.kind) {
        case MethodStep::Kind::kFault:
          pending.emplace(cursor + s.fault.start_after, Event{true, fault_index++});
          break;
        case MethodStep::Kind::kWait:
          SetActivity("waiting " + FormatDuration(s.wait.duration));
          cursor += s.wait.duration;
          entry["wait"] = FormatDuration(s.wait.duration);
          report.method_log.push_back(entry);
          break;
        case MethodStep::Kind::kAction: {
          if (s.background) {
            auto* out = background.entries.emplace_back(new nlohmann::json(entry)).get();
            background.threads.emplace_back([this, &experiment, &s, out] {
              (*out)["action"] = deps_.probes.Run(s.probe, experiment, deps_.stop).ToJson();
              (*out)["background"] = true;
            });
            break;
          }
          SetActivity("action " + s.probe.name);
          entry["action"] = deps_.probes.Run(s.probe, experiment, deps_.stop).ToJson();
          report.method_log.push_back(entry);
          cursor = std::max(cursor, deps_.system.clock().Monotonic());
          if (deps_.stop.stop_requested()) return false;  // the action was cut short
          break;
        }
        case MethodStep::Kind::kProbe: {
          SetActivity("probe " + s.probe.name);
          ProbeOutcome outcome = deps_.probes.Run(s.probe, experiment, deps_.stop);
          if (deps_.observer)
            deps_.observer->ProbeChecked(outcome.name, outcome.met, outcome.detail);
          entry["probe"] = outcome.ToJson();
          report.method_log.push_back(entry);
          cursor = std::max(cursor, deps_.system.clock().Monotonic());
          if (deps_.stop.stop_requested()) return false;  // the probe was cut short
          if (!outcome.met) {
            report.status = RunStatus::kFailed;
            report.reason = "method probe " + outcome.name + " not met: " + outcome.detail;
            return false;
          }
          break;
        }
      }
      ++step;
      std::lock_guard<std::mutex> lock(progress_mu_);
      progress_.step = step;
      continue;
    }
    if (pending.empty()) {
      // A wait that ends the method is waited for too (a Chaos Toolkit pause after the last
      // activity, time to observe after the last fault ended).
      return deps_.system.clock().SleepUntil(cursor, deps_.stop);
    }
    auto [when, event] = *pending.begin();
    pending.erase(pending.begin());
    const FaultRecord& next = report.faults[event.index];
    SetActivity(event.start ? "starting " + next.name + " in " +
                                  FormatDuration(std::chrono::duration_cast<Duration>(std::max(
                                      when - deps_.system.clock().Monotonic(), Mono::duration(0))))
                            : "waiting for " + next.name + " to end");
    if (!deps_.system.clock().SleepUntil(when, deps_.stop)) return false;
    if (event.start) {
      const bool started = StartFault(event.index, report);
      Checkpoint(report, "method");
      if (!started) return false;
      pending.emplace(when + report.faults[event.index].duration, Event{false, event.index});
    } else {
      EndFault(event.index, report);
      Checkpoint(report, "method");
    }
  }
}

void LifecycleEngine::RunRollbacks(const Experiment& experiment, RunReport& report) {
  if (experiment.rollbacks.empty()) return;
  SetPhase("rollbacks");
  for (const RollbackSpec& rb : experiment.rollbacks) {
    SetActivity("rollback " + rb.name);
    if (rb.action) {
      nlohmann::json entry = {{"name", rb.name},
                              {"started_at", FormatRfc3339(deps_.system.clock().Now())}};
      ProbeOutcome outcome = deps_.probes.Run(*rb.action, experiment);
      entry["action"] = outcome.ToJson();
      entry["ok"] = outcome.met;
      if (!outcome.met) spdlog::warn("rollback {} failed: {}", rb.name, outcome.detail);
      report.rollbacks.push_back(entry);
      continue;
    }
    nlohmann::json entry = {{"name", rb.name},
                            {"argv", rb.argv},
                            {"started_at", FormatRfc3339(deps_.system.clock().Now())}};
    auto result = deps_.system.Run(rb.argv, rb.timeout);
    if (!result.ok()) {
      entry["ok"] = false;
      entry["error"] = result.status().message();
    } else {
      entry["exit_code"] = result->exit_code;
      entry["timed_out"] = result->timed_out;
      entry["ok"] = result->exit_code == 0;
      if (result->exit_code != 0) entry["stderr"] = result->err;
    }
    if (!entry["ok"].get<bool>()) spdlog::warn("rollback {} failed", rb.name);
    report.rollbacks.push_back(entry);
  }
}

RunReport LifecycleEngine::Run(const Experiment& experiment, uint64_t seed,
                               const std::string& run_id) {
  RunReport report;
  report.seed = seed;
  report.started_at = deps_.system.clock().Now();
  report.run_id = run_id;
  revert_attempts_ = std::max(1, experiment.settings.revert_attempts);
  if (deps_.hosts != nullptr) {
    // A host that stops answering while faults are armed on it aborts the run (fail closed);
    // it reverts by itself once the runner's heartbeats stop reaching it.
    deps_.hosts->OnHostLost([this](const std::string& host, const Status& why) {
      {
        std::lock_guard<std::mutex> lock(breach_mu_);
        if (host_lost_ || breach_ || deps_.stop.stop_requested()) return;
        host_lost_ = host + " stopped answering: " + why.message();
      }
      deps_.stop.RequestStop("host " + host + " lost");
    });
  }
  bool method_entered = false;
  bool completed = false;
  try {
    if (!Resolve(experiment, seed, report)) {
      report.ended_at = deps_.system.clock().Now();
      return report;
    }
    SetPhase("preparing");
    Checkpoint(report, "preparing");
    for (size_t i = 0; i < faults_.size(); ++i) {
      // Per host (in parallel for inventory hosts); the first failure in host order counts.
      const auto groups = TargetsByHost(report.faults[i]);
      std::vector<Status> prepared(groups.size());
      ParallelFor(groups.size(), Concurrency(), [&](size_t g) {
        std::vector<Target> targets;
        for (size_t t : groups[g]) targets.push_back(report.faults[i].targets[t].target);
        Executor* executor = ExecutorFor(targets[0].host);
        prepared[g] = executor != nullptr
                          ? executor->Prepare(*faults_[i], targets)
                          : Status::NotFound("no executor for host " + targets[0].host);
      });
      if (groups.empty()) prepared.push_back(deps_.executor.Prepare(*faults_[i], {}));
      Status st;
      std::vector<std::string> skipped_hosts;
      for (size_t g = 0; g < prepared.size(); ++g) {
        const Status& p = prepared[g];
        if (p.ok()) continue;
        const std::string host =
            groups.empty() ? "" : report.faults[i].targets[groups[g][0]].target.host;
        if (!groups.empty() && SkipsUnreachable(host, p)) {
          spdlog::warn("{}; skipped (on_unreachable: skip)", p.message());
          skipped_hosts.push_back(host);
          continue;
        }
        st = p;
        break;
      }
      auto& targets = report.faults[i].targets;
      targets.erase(std::remove_if(targets.begin(), targets.end(),
                                   [&](const TargetRecord& t) {
                                     return std::find(skipped_hosts.begin(), skipped_hosts.end(),
                                                      t.target.host) != skipped_hosts.end();
                                   }),
                    targets.end());
      if (!st.ok()) {
        report.status = RunStatus::kError;
        report.reason = report.faults[i].name + ": " + st.message();
        report.ended_at = deps_.system.clock().Now();
        return report;
      }
    }
    if (!deps_.stop.stop_requested() && experiment.settings.steady_state_before) {
      SetPhase("steady-state-before");
      report.steady_before = CheckSteadyState(experiment, &deps_.stop);
      report.steady_before_at = deps_.system.clock().Now();
      if (deps_.stop.stop_requested()) {
        report.status = RunStatus::kInterrupted;
        report.reason = "interrupted by " + deps_.stop.reason();
        report.ended_at = deps_.system.clock().Now();
        return report;
      }
      for (const auto& p : report.steady_before) {
        if (!p.met) {
          report.status = RunStatus::kNotSteady;
          report.reason = "steady state not met before the method: " + p.name +
                          (p.detail.empty() ? "" : ": " + p.detail);
          // Chaos Toolkit's "always": rollbacks run even though the method never began.
          if (experiment.settings.rollback_strategy == RollbackStrategy::kAlways) {
            RunRollbacks(experiment, report);
          }
          report.ended_at = deps_.system.clock().Now();
          return report;
        }
      }
    }
    if (deps_.guards != nullptr && !deps_.stop.stop_requested()) {
      SetActivity("measuring the guards' baselines");
      Status baseline = deps_.guards->CaptureBaseline();
      if (!baseline.ok()) {
        report.status = RunStatus::kError;
        report.reason = "guards: " + baseline.message();
        report.guards = deps_.guards->ToJson();
        report.ended_at = deps_.system.clock().Now();
        return report;
      }
    }
    if (!deps_.stop.stop_requested()) {
      method_entered = true;
      Checkpoint(report, "method");
      if (deps_.guards != nullptr) {
        deps_.guards->Start(
            [this](const GuardBreach& b) {
              {
                std::lock_guard<std::mutex> lock(breach_mu_);
                if (breach_ || deps_.stop.stop_requested()) return;  // a signal came first
                breach_ = b;
              }
              spdlog::error("guard {} breached: {} (threshold {}); aborting and reverting", b.guard,
                            b.reason, b.threshold);
              if (deps_.observer) deps_.observer->GuardBreached(b.guard);
              deps_.stop.RequestStop("guard " + b.guard);
            },
            [this](const std::string& guard, const GuardSample& sample) {
              if (deps_.observer) deps_.observer->GuardSampled(guard, sample);
              if (deps_.journal) deps_.journal->GuardSampled(guard, sample);
            });
      }
      completed = RunMethod(experiment, report);
    }
  } catch (const std::exception& e) {
    report.status = RunStatus::kError;
    report.reason = std::string("internal error: ") + e.what();
    spdlog::error("{}", report.reason);
  } catch (...) {  // never escapes: the revert below must run whatever was thrown
    report.status = RunStatus::kError;
    report.reason = "internal error: an unknown exception";
    spdlog::error("{}", report.reason);
  }

  // Every path reaches this point: revert whatever is still injected — after a guard breach or
  // an operator's abort, every active fault at once.
  std::optional<GuardBreach> breach;
  std::optional<std::string> host_lost;
  std::optional<OperatorAbort> operator_abort;
  {
    std::lock_guard<std::mutex> lock(breach_mu_);
    breach = breach_;
    host_lost = host_lost_;
    operator_abort = operator_abort_;
  }
  RevertEverything(report,
                   breach.has_value() || host_lost.has_value() || operator_abort.has_value());
  // The last revert's time (not the observations after it), and stamped before the monitor
  // stops: stopping waits for an in-flight sample.
  auto all_reverted_at = deps_.system.clock().Now();
  {
    std::optional<WallTime> last;
    for (const auto& f : report.faults) {
      for (const auto& t : f.targets) {
        if (t.reverted_at && (!last || *t.reverted_at > *last)) last = t.reverted_at;
      }
    }
    if (last) all_reverted_at = *last;
  }
  Checkpoint(report, "reverted");
  if (deps_.guards != nullptr) {
    deps_.guards->Stop();
    report.guards = deps_.guards->ToJson();
  }

  if (deps_.control != nullptr) report.operator_actions = deps_.control->Actions();
  const bool interrupted = deps_.stop.stop_requested() && !breach && !host_lost && !operator_abort;
  if (operator_abort && !breach && !host_lost) {
    report.operator_abort = operator_abort;
    report.all_reverted_at = all_reverted_at;
    report.status = RunStatus::kAborted;
    report.reason = "operator: aborted by " + operator_abort->who + " (" + operator_abort->why +
                    "); every active fault was reverted";
    completed = false;
  } else if (host_lost && !breach) {
    report.all_reverted_at = all_reverted_at;
    report.status = RunStatus::kAborted;
    report.reason = "host " + *host_lost +
                    "; the run was aborted and the other hosts reverted "
                    "(on_unreachable: abort)";
    completed = false;
  } else if (breach) {
    report.breach = breach;
    report.all_reverted_at = all_reverted_at;
    report.status = RunStatus::kAborted;
    report.reason = "guard " + breach->guard + " breached: " + breach->reason + " (allowed " +
                    breach->threshold + ")";
    completed = false;
  } else if (interrupted) {
    report.status = RunStatus::kInterrupted;
    report.reason = "interrupted by " + deps_.stop.reason();
  }
  const RollbackStrategy strategy = experiment.settings.rollback_strategy;
  auto run_rollbacks = [&] {
    try {
      RunRollbacks(experiment, report);
    } catch (const std::exception& e) {
      spdlog::error("rollbacks: {}", e.what());
    }
    Checkpoint(report, "rollbacks-done");
  };
  if (method_entered && strategy == RollbackStrategy::kAfterRevert) run_rollbacks();
  if (method_entered && !interrupted && experiment.settings.steady_state_after) {
    SetPhase("steady-state-after");
    report.steady_after = CheckSteadyState(experiment, nullptr);
    report.steady_after_checked = true;
    report.steady_after_at = deps_.system.clock().Now();
  }
  if (completed) {
    report.status = RunStatus::kPassed;
    report.reason = "steady state held and every fault was reverted";
    for (const auto& f : report.faults) {
      if (!f.expectation_met) {
        report.status = RunStatus::kFailed;
        report.reason = f.name + ": the fault's expectation did not hold";
        if (!f.expectation_detail.empty()) report.reason += ": " + f.expectation_detail;
        break;
      }
    }
    if (report.status == RunStatus::kPassed) {
      for (const auto& p : report.steady_after) {
        if (!p.met) {
          report.status = RunStatus::kFailed;
          report.reason = "steady state not met after the method: " + p.name +
                          (p.detail.empty() ? "" : ": " + p.detail);
          break;
        }
      }
    }
  }
  // The Chaos Toolkit strategies run rollbacks after the steady state after, as it does; they
  // never change the verdict.
  if (method_entered && strategy != RollbackStrategy::kAfterRevert &&
      strategy != RollbackStrategy::kNever) {
    bool deviated = false;
    for (const auto& p : report.steady_after) deviated = deviated || !p.met;
    if (strategy != RollbackStrategy::kDeviated || deviated) run_rollbacks();
  }
  for (const auto& f : report.faults) {
    for (const auto& t : f.targets) {
      if (t.undo && !t.revert_ok) report.reverted_cleanly = false;
    }
  }
  SetPhase("done", RunStatusName(report.status));
  report.ended_at = deps_.system.clock().Now();
  return report;
}

std::vector<std::string> PlanText(const RunReport& report) {
  std::vector<std::string> lines;
  lines.push_back("plan (seed " + std::to_string(report.seed) + "):");
  if (report.faults.empty()) lines.push_back("  no faults");
  for (const auto& f : report.faults) {
    lines.push_back("  " + f.name + " (" + f.type + ") on target '" + f.target + "': starts " +
                    FormatDuration(f.start_after) + " after its step, active for " +
                    FormatDuration(f.duration) + ", " + std::to_string(f.targets.size()) +
                    " target" + (f.targets.size() == 1 ? "" : "s") + ":");
    if (f.targets.empty()) lines.push_back("    (nothing matched; allow_empty is set: skipped)");
    std::vector<std::string> hosts;
    for (const auto& t : f.targets) {
      if (t.target.host != "local" &&
          std::find(hosts.begin(), hosts.end(), t.target.host) == hosts.end()) {
        hosts.push_back(t.target.host);
      }
    }
    if (!hosts.empty()) {
      std::string list;
      for (const auto& h : hosts) list += (list.empty() ? "" : ", ") + h;
      lines.push_back("    hosts (" + std::to_string(hosts.size()) + "): " + list);
    }
    for (const auto& t : f.targets) {
      std::string undo = t.undo ? t.undo->manual_undo : ("cannot plan: " + t.error);
      lines.push_back("    " + t.target.label + "; undo: " + undo);
    }
    if (!f.params.empty()) lines.push_back("    params: " + f.params.dump());
  }
  return lines;
}

int ExitCodeFor(const RunReport& report) {
  if (report.revert_failed() || !report.reverted_cleanly) return 4;
  if (report.input_error) return 2;
  switch (report.status) {
    case RunStatus::kPassed:
      return 0;
    case RunStatus::kFailed:
    case RunStatus::kAborted:
    case RunStatus::kNotSteady:
      return 1;
    case RunStatus::kError:
      return 3;
    case RunStatus::kInterrupted:
      return 130;
  }
  return 3;
}

}  // namespace ringfence
