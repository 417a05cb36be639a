#include "runner/experiment_runner.h"

#include <unistd.h>

#include <cstdio>
#include <random>

#include <spdlog/spdlog.h>

#include "core/executor.h"
#include "core/experiment.h"
#include "core/fault.h"
#include "core/lifecycle.h"
#include "core/probe.h"
#include "core/revert_ledger.h"
#include "runner/signal_watcher.h"

namespace ringfence {

namespace {

std::string RenderProgress(const RunProgress& p, std::chrono::steady_clock::time_point t0) {
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  char head[64];
  std::snprintf(head, sizeof head, "[%6.1fs] ", secs);
  std::string line = head + p.phase;
  if (p.phase == "method") line += " " + std::to_string(p.step) + "/" + std::to_string(p.steps);
  line += " | active faults: ";
  if (p.active_faults.empty()) line += "none";
  for (size_t i = 0; i < p.active_faults.size(); ++i) line += (i ? ", " : "") + p.active_faults[i];
  if (!p.activity.empty()) line += " | " + p.activity;
  return line;
}

void PrintVerdict(const RunReport& report, const std::string& journal, int exit_code) {
  std::printf("verdict: %s (exit %d): %s\n", RunStatusName(report.status), exit_code,
              report.reason.c_str());
  for (const auto& f : report.faults) {
    size_t reverted = 0, injected = 0;
    for (const auto& t : f.targets) {
      injected += t.inject_ok;
      reverted += t.undo && t.revert_ok;
    }
    std::printf("  fault %s (%s): %zu of %zu targets injected, %zu reverted; observed %s\n",
                f.name.c_str(), f.type.c_str(), injected, f.targets.size(), reverted,
                f.observed.dump().c_str());
  }
  std::printf("  every fault reverted: %s\n", report.reverted_cleanly ? "yes" : "NO");
  for (const auto& m : report.manual_undo) std::printf("  LEFT IN PLACE, undo by hand: %s\n", m.c_str());
  if (!journal.empty()) std::printf("  journal: %s\n", journal.c_str());
  std::fflush(stdout);
}

}  // namespace

int RunExperimentFile(const RunRequest& request) {
  ValidationErrors errors;
  LoadOptions options;
  options.vars = request.vars;
  options.registry = &FaultRegistry::Global();
  auto experiment = LoadExperimentFile(request.file, options, errors);
  if (!experiment) {
    for (const auto& line : errors.Format(request.file)) std::fprintf(stderr, "%s\n", line.c_str());
    std::fprintf(stderr, "%zu error%s; nothing was run\n", errors.size(), errors.size() == 1 ? "" : "s");
    return 2;
  }
  uint64_t seed = request.seed ? *request.seed
                  : experiment->settings.seed ? *experiment->settings.seed
                                              : std::random_device{}();

  StopSource stop;
  auto processes = MakeSystemProcessTable();
  auto probes = MakeProbeRunner(*processes);
  FaultEnv env{*processes, SystemClock(), stop};
  LocalExecutor executor(env, FaultRegistry::Global());
  MemoryLedger ledger;
  LifecycleEngine engine(EngineDeps{SystemClock(), *processes, *probes, FaultRegistry::Global(),
                                    ledger, executor, stop, {}});

  if (request.dry_run) {
    RunReport plan = engine.Plan(*experiment, seed);
    if (plan.input_error || plan.status == RunStatus::kError) {
      std::fprintf(stderr, "%s: %s\n", request.file.c_str(), plan.reason.c_str());
      return ExitCodeFor(plan);
    }
    std::printf("experiment: %s\n", experiment->title.c_str());
    std::printf("steady state: %zu probe%s before and after\n", experiment->steady_state.size(),
                experiment->steady_state.size() == 1 ? "" : "s");
    for (const auto& line : PlanText(plan)) std::printf("%s\n", line.c_str());
    std::printf("rollbacks: %zu user command%s after the faults are reverted\n",
                experiment->rollbacks.size(), experiment->rollbacks.size() == 1 ? "" : "s");
    std::printf("dry run: nothing was injected\n");
    return 0;
  }

  spdlog::info("run {}: \"{}\" (seed {})", request.file, experiment->title, seed);
  RunReport report;
  int first_signal = 0;
  {
    SignalWatcher signals(stop, [&engine](int signo) {
      RunProgress p = engine.Progress();
      spdlog::warn("{} received again: still {} ({}); ringfence exits once every fault is reverted",
                   sigabbrev_np(signo) ? sigabbrev_np(signo) : "signal", p.phase, p.activity);
    });
    const auto t0 = std::chrono::steady_clock::now();
    StatusLine status([&] { return RenderProgress(engine.Progress(), t0); }, request.progress);
    report = engine.Run(*experiment, seed);
    first_signal = signals.first_signal();
  }
  int code = ExitCodeFor(report);
  if (report.status == RunStatus::kInterrupted && code != 4 && first_signal != 0) {
    code = ExitCodeForSignal(first_signal);
  }
  if (report.input_error) {
    std::fprintf(stderr, "%s: %s\n", request.file.c_str(), report.reason.c_str());
    return code;  // nothing was touched; no journal of a run that did not happen
  }
  Status written = WriteJournal(request.journal, JournalJson(report, *experiment));
  if (!written.ok()) spdlog::error("journal not written: {}", written.message());
  PrintVerdict(report, written.ok() ? request.journal : "", code);
  return code;
}

}  // namespace ringfence
