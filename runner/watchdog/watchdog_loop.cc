#include "runner/watchdog/watchdog_loop.h"

#include <signal.h>

#include <utility>

#include "core/base/duration.h"
#include "core/fault/executor.h"

namespace ringfence {

WatchdogLoop::WatchdogLoop(WatchdogLoopOptions options, Clock& clock, RunnerLink& link,
                           WatchdogEffects& effects, ProcessTable& processes)
    : options_(std::move(options)),
      clock_(clock),
      link_(link),
      effects_(effects),
      processes_(processes) {}

WatchdogLoop::Watched WatchdogLoop::Watch() {
  auto last_beat = clock_.Monotonic();
  while (true) {
    const RunnerNews news = link_.Next(clock_.Monotonic() + options_.period);
    switch (news.kind) {
      case RunnerNews::Kind::kFinished:
        effects_.Log("the runner finished; exiting");
        return {true, ""};
      case RunnerNews::Kind::kGone:
        return {false, news.why};
      case RunnerNews::Kind::kBeat:
        last_beat = clock_.Monotonic() - news.age;
        break;
      case RunnerNews::Kind::kNothing:
        break;
    }
    auto contents = effects_.ReadLedger();
    if (!contents.ok()) {
      if (options_.unreadable_ledger_acts) {
        return {false, "the ledger cannot be read: " + contents.status().message()};
      }
    } else if (options_.end_record_finishes && !contents->end.is_null()) {
      if (contents->Outstanding().empty() && contents->problems.empty()) {
        effects_.Log("the run ended with nothing outstanding; exiting");
        return {true, ""};
      }
      return {false, "the run ended with faults still outstanding on this host"};
    }
    if (clock_.Monotonic() - last_beat > options_.grace) {
      return {false, "no heartbeat from the runner for longer than the grace (" +
                         FormatDuration(options_.grace) + ")"};
    }
    if (!contents.ok()) continue;
    const int64_t now_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch())
            .count();
    for (const auto* e : contents->Outstanding()) {
      if (e->undo.deadline_ms > 0 && e->undo.deadline_ms < now_ms) {
        return {false,
                "the deadline of " + e->undo.fault_name + " on " + e->undo.target + " passed"};
      }
    }
  }
}

int WatchdogLoop::Act(const std::string& reason) {
  effects_.Log("acting: " + reason);
  const RecoveryReport report = effects_.Revert();
  for (const auto& a : report.actions) effects_.Log(a);
  for (const auto& l : report.left) effects_.Log("LEFT: " + l);
  if (Status st = effects_.Append({{"type", "watchdog"},
                                   {"event", "reverted"},
                                   {"reason", reason},
                                   {"ok", report.ok()},
                                   {"pid", options_.self_pid}});
      !st.ok()) {
    effects_.Log("cannot record the revert: " + st.message());
  }
  // Only a runner the ledger names (the local one; a host ledger names none) is stopped. It
  // reverts on SIGTERM too; reverting twice is harmless.
  auto contents = effects_.ReadLedger();
  if (!contents.ok()) {
    effects_.Log("cannot read the ledger to stop its runner: " + contents.status().message());
  } else if (contents->run.is_object()) {
    const pid_t runner = contents->run.value("runner_pid", 0);
    const unsigned long long ticks = contents->run.value("runner_start_ticks", 0ULL);
    auto p = runner > 0 ? processes_.Get(runner) : Result<ProcessInfo>(Status::NotFound(""));
    if (p.ok() && p->start_ticks == ticks && p->state != 'Z') {
      effects_.Log("stopping the runner (pid " + std::to_string(runner) + ") with SIGTERM");
      if (Status st = processes_.Signal(runner, ticks, SIGTERM); !st.ok()) {
        effects_.Log("cannot stop the runner (pid " + std::to_string(runner) +
                     "): " + st.message());
      }
    }
  }
  return report.ok() ? 0 : 4;
}

LedgerWatchdogEffects::LedgerWatchdogEffects(std::string ledger_path, SecretValues secrets,
                                             FaultEnv& env,
                                             std::function<void(const std::string&)> log,
                                             std::string by)
    : ledger_path_(std::move(ledger_path)),
      secrets_(std::move(secrets)),
      env_(env),
      log_(std::move(log)),
      by_(std::move(by)) {}

Result<LedgerContents> LedgerWatchdogEffects::ReadLedger() {
  return ::ringfence::ReadLedger(ledger_path_);
}

RecoveryReport LedgerWatchdogEffects::Revert() {
  std::string host = "local";
  if (auto contents = ReadLedger(); contents.ok() && contents->run.is_object()) {
    env_.run_id = contents->run.value("run_id", env_.run_id);
    host = contents->run.value("host", host);
  }
  LocalExecutor executor(env_, FaultRegistry::Global(), host);
  return RecoverRun(ledger_path_, executor, env_.clock, by_, 3, secrets_);
}

Status LedgerWatchdogEffects::Append(const nlohmann::json& record) {
  auto ledger = FileLedger::OpenForAppend(ledger_path_, secrets_);
  if (!ledger.ok()) return ledger.status();
  return (*ledger)->Append(record);
}

void LedgerWatchdogEffects::Log(const std::string& line) { log_(line); }

}  // namespace ringfence
