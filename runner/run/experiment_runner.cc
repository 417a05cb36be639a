#include "runner/run/experiment_runner.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <spdlog/spdlog.h>

#include "core/base/input_file.h"
#include "core/engine/journal.h"
#include "core/engine/lifecycle.h"
#include "core/fault/executor.h"
#include "core/fault/fault.h"
#include "core/ledger/file_ledger.h"
#include "core/ledger/recovery.h"
#include "core/ledger/revert_ledger.h"
#include "core/model/experiment.h"
#include "core/model/method_range.h"
#include "core/observe/guards.h"
#include "core/observe/probe.h"
#include "core/sys/run_command.h"
#include "core/sys/system_clock.h"
#include "core/sys/system_env.h"
#include "core/sys/system_info.h"
#include "core/sys/system_process_table.h"
#include "core/targets/host_selection.h"
#include "report/journal_model.h"
#include "report/report_files.h"
#include "runner/base/redaction.h"
#include "runner/base/signal_watcher.h"
#include "runner/base/terminal.h"
#include "runner/gameday/control_server.h"
#include "runner/gameday/dashboard.h"
#include "runner/gameday/game_day.h"
#include "runner/metrics/runner_metrics.h"
#include "runner/run/ctk_source.h"
#include "runner/run/fleet_setup.h"
#include "runner/run/run_history.h"
#include "runner/watchdog/watchdog.h"

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

void PrintVerdict(const RunReport& report, const std::string& journal, int exit_code,
                  const Redactor& redactor) {
  std::string out = std::string("verdict: ") + RunStatusName(report.status) + " (exit " +
                    std::to_string(exit_code) + "): " + report.reason + "\n";
  for (const auto& f : report.faults) {
    size_t reverted = 0, injected = 0;
    for (const auto& t : f.targets) {
      injected += t.inject_ok;
      reverted += t.undo && t.revert_ok;
    }
    out += "  fault " + f.name + " (" + f.type + "): " + std::to_string(injected) + " of " +
           std::to_string(f.targets.size()) + " targets injected, " + std::to_string(reverted) +
           " reverted; observed " + f.observed.dump() + "\n";
  }
  out += std::string("  every fault reverted: ") + (report.reverted_cleanly ? "yes" : "NO") + "\n";
  for (const auto& m : report.manual_undo) out += "  LEFT IN PLACE, undo by hand: " + m + "\n";
  if (!journal.empty()) out += "  journal: " + journal + "\n";
  out = redactor.Apply(out);
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
}

// --only steady-state: the steady state's probes and every guard's source, once; nothing is
// injected and no journal is written. 0 when everything holds, 1 when not.
int CheckSteadyStateOnly(const Experiment& experiment, ProbeRunner& probes, GuardMonitor* guards,
                         const Redactor& redactor) {
  bool held = true;
  std::string out = "steady state of " + experiment.title + " (--only steady-state):\n";
  for (const ProbeSpec& probe : experiment.steady_state) {
    const ProbeOutcome o = probes.Run(probe, experiment);
    held = held && o.met;
    out += std::string("  probe ") + probe.name + ": " + (o.met ? "met" : "NOT met") +
           (o.detail.empty() ? "" : " (" + o.detail + ")") + "\n";
  }
  if (experiment.steady_state.empty()) out += "  no steady-state probes\n";
  if (guards != nullptr) {
    Status sources = guards->CheckSources();
    held = held && sources.ok();
    out += std::string("  guard sources: ") +
           (sources.ok() ? "every one answered" : "NOT readable: " + sources.message()) + "\n";
  }
  out += std::string("verdict: ") + (held ? "steady (exit 0)" : "NOT steady (exit 1)") +
         "; nothing was injected\n";
  out = redactor.Apply(out);
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  return held ? 0 : 1;
}

}  // namespace

namespace {
// The journal's absolute path, for the ledger's run record (status, the watchdog and recover
// find it from there).
std::string JournalPathForLedger(const std::string& path) {
  std::error_code ec;
  const auto absolute = std::filesystem::absolute(path, ec);
  return ec ? path : absolute.string();
}

// Secrets: --secret values, and --var values or environment variables whose names look secret,
// when the experiment uses them.
std::shared_ptr<Redactor> SecretsOf(const RunRequest& request, const std::string& text) {
  auto redactor = std::make_shared<Redactor>();
  for (const auto& [name, value] : request.secrets) redactor->Add(name, value);
  for (const auto& [name, value] : request.vars) {
    if (LooksSecret(name)) redactor->Add(name, value);
  }
  for (const auto& name : PlaceholderNames(text)) {
    if (!LooksSecret(name) || request.vars.count(name) || request.secrets.count(name)) continue;
    if (const char* value = std::getenv(name.c_str())) redactor->Add(name, value);
  }
  return redactor;
}
}  // namespace

Result<StateDirLock> AcquireRunLock(const std::string& state_dir) {
  auto acquired = StateDirLock::TryAcquire(state_dir);
  if (!acquired.ok()) {
    std::fprintf(stderr, "ringfence: %s%s; nothing was run\n", acquired.status().message().c_str(),
                 acquired.status().code() == StatusCode::kUnavailable
                     ? "; wait for it, or pass --allow-concurrent"
                     : "");
  }
  return acquired;
}

namespace {
ReportPaths RequestedReports(const RunRequest& request) {
  return {request.report_html, request.report_junit, request.report_summary};
}

RunOrigin OriginOf(const RunRequest& request) {
  return {LocalHostName(), LocalPlatform(), EffectiveUserName(), request.command_line};
}

// The reports asked for, from the journal as written (every guard sample); from `journal` in
// memory when the file could not be written. A report that fails is an error on stderr: the
// verdict and the exit code stay the run's.
void WriteRequestedReports(const RunRequest& request, bool journal_written,
                           const nlohmann::json& journal) {
  const ReportPaths paths = RequestedReports(request);
  if (paths.empty()) return;
  Result<JournalModel> run = journal_written ? ReadJournalFile(request.journal)
                                             : JournalModelFromJson(journal, "the run's journal");
  Status written =
      run.ok() ? WriteReports(*run, journal_written ? request.journal : "", paths) : run.status();
  if (!written.ok()) {
    spdlog::error("reports not written: {}", written.message());
    return;
  }
  for (const auto* path : {&paths.html, &paths.junit, &paths.markdown}) {
    if (!path->empty()) std::printf("  report: %s\n", path->c_str());
  }
  std::fflush(stdout);
}
}  // namespace

int CheckRequestedReports(const RunRequest& request) {
  Status st = CheckReportPaths(RequestedReports(request), "--report", "--junit", "--summary");
  if (st.ok()) return 0;
  std::fprintf(stderr, "ringfence: %s; nothing was run\n", st.message().c_str());
  return 2;
}

int RunExperimentFile(const RunRequest& request, RunOutcome* outcome) {
  if (int code = CheckRequestedReports(request); code != 0) return code;
  // Read once, checked first (a FIFO, /dev/zero or a directory is refused before any read);
  // the secrets pass and the loader see the same bytes.
  ValidationErrors read_errors;
  InputFileRefusal refusal;
  Result<std::string> text =
      ReadCommandLineInput(request.file, kMaxExperimentBytes, "JSON file", &refusal);
  if (!text.ok()) {
    read_errors.Add("", refusal.found, refusal.allowed);
    for (const auto& line : read_errors.Format(request.file)) {
      std::fprintf(stderr, "%s\n", line.c_str());
    }
    std::fprintf(stderr, "1 error; nothing was run\n");
    return 2;
  }
  auto redactor = SecretsOf(request, *text);
  SetLogRedactor(redactor);
  ValidationErrors errors;
  // A Chaos Toolkit experiment (or a YAML file) becomes a native document first.
  std::optional<ExperimentSource> source =
      ReadExperimentSource(request.file, *text, ChaosToolkitSourceOptions(request), errors);
  if (source && source->ctk) {
    for (const auto& [name, value] : source->ctk->secrets) redactor->Add(name, value);
    for (const auto& note : source->ctk->notes) {
      spdlog::info("{}: note: {}", request.file, redactor->Apply(note));
    }
  }
  if (request.journal_format == "ctk" && source && !source->ctk) {
    errors.Add("", "a native experiment", "a Chaos Toolkit experiment for --journal-format ctk");
    source.reset();
  }
  LoadOptions options;
  options.vars = request.vars;
  for (const auto& [name, value] : request.secrets) options.vars[name] = value;
  options.catalog = &FaultRegistry::Global();
  std::optional<Experiment> experiment;
  if (source) experiment = LoadExperimentText(source->native_text, options, errors);
  if (!experiment) {
    for (const auto& line : errors.Format(request.file)) {
      std::fprintf(stderr, "%s\n", redactor->Apply(line).c_str());
    }
    std::fprintf(stderr, "%zu error%s; nothing was run\n", errors.size(),
                 errors.size() == 1 ? "" : "s");
    return 2;
  }
  // --max-targets N replaces settings.max_targets (each process target's limit).
  if (request.max_targets > 0) {
    experiment->settings.max_targets = request.max_targets;
    for (auto& target : experiment->targets) target.max_targets = request.max_targets;
  }
  // --from / --to: the part of the method to run (game days, docs/game-days.md).
  {
    ValidationErrors range_errors;
    if (!SelectMethodRange(*experiment, request.from_step, request.to_step, range_errors)) {
      for (const auto& line : range_errors.Format(request.file)) {
        std::fprintf(stderr, "%s\n", redactor->Apply(line).c_str());
      }
      std::fprintf(stderr, "%zu error%s; nothing was run\n", range_errors.size(),
                   range_errors.size() == 1 ? "" : "s");
      return 2;
    }
  }
  // Inventory hosts: the inventory is loaded and every host target checked against it before
  // anything is touched (exit 2 on any error).
  std::optional<Inventory> inventory;
  if (int code = LoadRunInventory(request, *experiment, inventory); code != 0) return code;
  StopSource stop;
  auto processes = MakeSystemProcessTable();
  SystemEnv system(*processes);
  uint64_t seed = request.seed                ? *request.seed
                  : experiment->settings.seed ? *experiment->settings.seed
                                              : system.RandomU32();

  auto probes = MakeProbeRunner(system);
  FaultEnv env{system, stop};
  LocalExecutor executor(env, FaultRegistry::Global());
  // The runner's own metrics, served while it runs and pushed at the end, when asked for.
  if (!request.pushgateway.empty() && request.pushgateway.rfind("http://", 0) != 0 &&
      request.pushgateway.rfind("https://", 0) != 0) {
    std::fprintf(stderr,
                 "ringfence: --pushgateway: \"%s\": a URL starting with http:// or https://; "
                 "nothing was run\n",
                 request.pushgateway.c_str());
    return 2;
  }
  std::unique_ptr<RunnerMetrics> metrics;
  if (!request.metrics_listen.empty() || !request.pushgateway.empty()) {
    metrics = std::make_unique<RunnerMetrics>();
  }
  if (!request.metrics_listen.empty()) {
    Status listening = metrics->Listen(request.metrics_listen);
    if (!listening.ok()) {
      std::fprintf(stderr, "ringfence: %s; nothing was run\n", listening.message().c_str());
      return listening.code() == StatusCode::kInvalidInput ? 2 : 3;
    }
    spdlog::info("metrics on http://127.0.0.1:{}/metrics", metrics->port());
  }
  std::unique_ptr<GuardMonitor> guards;
  if (!experiment->guards.empty()) {
    guards = MakeGuardMonitor(experiment->guards, GuardEnv{system, *probes, *experiment});
    if (request.check_sources) {
      Status checked = guards->CheckSources();
      if (!checked.ok()) {
        std::fprintf(stderr, "%s: --check-sources: %s; nothing was run\n", request.file.c_str(),
                     redactor->Apply(checked.message()).c_str());
        return 2;
      }
    }
  }
  if (request.only_steady_state) {
    return CheckSteadyStateOnly(*experiment, *probes, guards.get(), *redactor);
  }
  // Game days: the dashboard's and the control API's view of the run, and the operators' say.
  const bool dashboard = request.progress && Dashboard::Possible();
  const bool keys = dashboard && ::isatty(STDIN_FILENO) == 1;
  if (request.step_mode && !keys && request.control_listen.empty()) {
    std::fprintf(stderr,
                 "ringfence: --step: nobody could answer: it needs the dashboard on a terminal "
                 "(standard input and error) or --control-listen; nothing was run\n");
    return 2;
  }
  std::unique_ptr<GameDay> game_day;
  std::unique_ptr<ControlServer> control;
  if (dashboard || request.step_mode || !request.control_listen.empty()) {
    game_day = std::make_unique<GameDay>(
        *experiment,
        GameDay::Options{request.step_mode, MethodRangeText(request.from_step, request.to_step),
                         metrics.get(), guards.get()});
  }
  if (!request.control_listen.empty() && !request.dry_run) {
    auto started =
        ControlServer::Start(*game_day, {request.control_listen, request.control_token_file});
    if (!started.ok()) {
      std::fprintf(stderr, "ringfence: %s; nothing was run\n", started.status().message().c_str());
      return started.status().code() == StatusCode::kInvalidInput ? 2 : 3;
    }
    control = std::move(*started);
    spdlog::info("control API on http://{}:{}/",
                 request.control_listen.substr(0, request.control_listen.rfind(':')),
                 control->port());
  }
  RunObserver* observer = game_day ? static_cast<RunObserver*>(game_day.get()) : metrics.get();
  std::unique_ptr<SshFleet> fleet;
  std::unique_ptr<JournalWriter> journal;  // written as the run goes, once the run has an id
  auto deps_with = [&](RevertLedger& ledger, std::vector<pid_t> protected_pids) {
    EngineDeps deps{system,
                    *probes,
                    FaultRegistry::Global(),
                    ledger,
                    executor,
                    stop,
                    std::move(protected_pids),
                    request.watchdog_grace,
                    experiment->settings.max_fault_lifetime};
    deps.max_targets = request.max_targets;
    deps.guards = guards.get();
    deps.observer = observer;
    deps.control = game_day.get();
    deps.journal = journal.get();
    deps.hosts = fleet.get();
    // On a fleet, the first host's deadline must outlast the fan-out to the last one.
    if (fleet) deps.deadline_grace += fleet->FanoutAllowance();
    return deps;
  };

  if (request.dry_run) {
    MemoryLedger unused;
    if (inventory)
      fleet = MakeRunFleet(system, request, *experiment, *inventory, "", "", redactor->values());
    LifecycleEngine engine(deps_with(unused, {}));
    RunReport plan = engine.Plan(*experiment, seed);
    if (fleet) fleet->Finish("dry-run");
    if (plan.input_error || plan.status == RunStatus::kError) {
      std::fprintf(stderr, "%s: %s\n", request.file.c_str(), plan.reason.c_str());
      return ExitCodeFor(plan);
    }
    std::printf("experiment: %s\n", redactor->Apply(experiment->title).c_str());
    std::printf("steady state: %zu probe%s before and after\n", experiment->steady_state.size(),
                experiment->steady_state.size() == 1 ? "" : "s");
    if (inventory) {
      for (const auto& line : HostTargetsText(*experiment, *inventory, request.limit)) {
        std::printf("%s\n", redactor->Apply(line).c_str());
      }
    }
    for (const auto& line : PlanText(plan)) std::printf("%s\n", redactor->Apply(line).c_str());
    std::printf("rollbacks: %zu user command%s after the faults are reverted\n",
                experiment->rollbacks.size(), experiment->rollbacks.size() == 1 ? "" : "s");
    std::printf("dry run: nothing was injected\n");
    return 0;
  }

  // Crash safety: the state dir's lock, no faults left by an earlier run, a ledger written
  // ahead of every injection, and a watchdog that outlives us.
  const std::string state_dir = request.state_dir.empty() ? DefaultStateDir() : request.state_dir;
  std::optional<StateDirLock> lock;
  if (!request.allow_concurrent && request.held_lock_fd < 0) {
    auto acquired = AcquireRunLock(state_dir);
    if (!acquired.ok()) {
      if (acquired.status().code() == StatusCode::kUnavailable) {
        RecordSkippedScheduledRun(state_dir, request, *experiment, *text,
                                  acquired.status().message(), SystemClock().Now(), *redactor);
      }
      return 3;
    }
    lock.emplace(std::move(*acquired));
  }
  for (const auto& path : ListLedgers(state_dir)) {
    auto summary = SummarizeRun(path, *processes);
    if (summary.ok() && summary->state == RunState::kLeftFaults) {
      const size_t left = summary->contents.Outstanding().size();
      const std::string what = left > 0
                                   ? "left " + std::to_string(left) + " fault(s) not reverted"
                                   : "has " + std::to_string(summary->contents.problems.size()) +
                                         " ledger line(s) that cannot be trusted";
      std::fprintf(stderr,
                   "ringfence: run %s %s; run `ringfence recover --state-dir %s` first (see "
                   "`ringfence status`); nothing was run\n",
                   summary->run_id.c_str(), what.c_str(), state_dir.c_str());
      return 3;
    }
  }
  const std::string run_id = NewRunId(system);
  const RunOrigin origin = OriginOf(request);
  env.run_id = run_id;
  if (inventory)
    fleet = MakeRunFleet(system, request, *experiment, *inventory, run_id, state_dir,
                         redactor->values());
  auto self = processes->Get(::getpid());
  auto ledger = FileLedger::Create(state_dir, run_id,
                                   {{"runner_pid", ::getpid()},
                                    {"runner_start_ticks", self.ok() ? self->start_ticks : 0ULL},
                                    {"title", experiment->title},
                                    {"file", request.file},
                                    {"inventory", inventory ? RecordedInventory(*inventory) : ""},
                                    {"journal", JournalPathForLedger(request.journal)},
                                    {"started_at", FormatRfc3339(system.clock().Now())}},
                                   redactor->values(), system.clock());
  if (!ledger.ok()) {
    std::fprintf(stderr, "ringfence: %s; nothing was run\n", ledger.status().message().c_str());
    return 3;
  }
  auto watchdog = WatchdogHandle::Start(SelfBinary(), (*ledger)->path(),
                                        lock ? lock->fd() : request.held_lock_fd,
                                        request.watchdog_grace, *processes, redactor->values());
  if (!watchdog.ok()) {
    std::fprintf(stderr, "ringfence: the watchdog did not start: %s; nothing was run\n",
                 watchdog.status().message().c_str());
    return 3;
  }
  Status noted = (*ledger)->Append({{"type", "watchdog"},
                                    {"event", "started"},
                                    {"pid", (*watchdog)->pid()},
                                    {"start_ticks", (*watchdog)->start_ticks()}});
  if (!noted.ok()) spdlog::warn("ledger: {}", noted.message());
  {
    JournalWriter::Options journal_options{
        SystemClock(), [redactor](const nlohmann::json& j) { return redactor->Apply(j); },
        std::chrono::seconds(2), true, origin};
    auto opened = JournalWriter::Open(request.journal, *experiment, run_id, journal_options);
    if (opened.ok()) {
      journal = std::move(*opened);
      if (guards) journal->SetLiveGuards([&guards] { return guards->ToJson(); });
    } else {
      spdlog::warn("the journal is written only at the end: {}", opened.status().message());
    }
  }
  LifecycleEngine engine(deps_with(**ledger, {(*watchdog)->pid()}));
  if (game_day) game_day->Attach(&engine, journal.get());

  spdlog::info("run {} of {}: \"{}\" (seed {}, ledger {})", run_id, request.file, experiment->title,
               seed, (*ledger)->path());
  RunReport report;
  int first_signal = 0;
  {
    SignalWatcher signals(stop, [&engine](int signo) {
      RunProgress p = engine.Progress();
      spdlog::warn("{} received again: still {} ({}); ringfence exits once every fault is reverted",
                   sigabbrev_np(signo) ? sigabbrev_np(signo) : "signal", p.phase, p.activity);
    });
    const auto t0 = std::chrono::steady_clock::now();
    // On a terminal the dashboard (keys too when stdin is one); else the plain status lines.
    std::optional<Dashboard> board;
    if (dashboard) board.emplace(*game_day);
    StatusLine status([&] { return RenderProgress(engine.Progress(), t0); },
                      request.progress && !dashboard);
    if (observer) observer->ExperimentStarted();
    report = engine.Run(*experiment, seed, run_id);
    if (observer) observer->ExperimentFinished(RunStatusName(report.status));
    if (game_day) game_day->Close();
    first_signal = signals.first_signal();
  }
  if (fleet) {
    fleet->Finish(RunStatusName(report.status));
    report.fleet = fleet->ToJson();
  }
  Status ended = (*ledger)->Append({{"type", "end"},
                                    {"status", RunStatusName(report.status)},
                                    {"reverted_cleanly", report.reverted_cleanly}});
  if (!ended.ok()) spdlog::warn("ledger: {}", ended.message());
  (*watchdog)->Finish();
  int code = ExitCodeFor(report);
  if (report.status == RunStatus::kInterrupted && code != 4 && first_signal != 0) {
    code = ExitCodeForSignal(first_signal);
  }
  if (report.input_error) {
    if (journal) journal->Discard();
    std::fprintf(stderr, "%s: %s\n", request.file.c_str(), report.reason.c_str());
    return code;  // nothing was touched; no journal of a run that did not happen
  }
  nlohmann::json final_journal = JournalJson(report, *experiment, origin);
  if (!request.from_step.empty() || !request.to_step.empty()) {
    // An optional field (docs/journal.md): which part of the method ran.
    final_journal["method_range"] = {
        {"from",
         request.from_step.empty() ? nlohmann::json(nullptr) : nlohmann::json(request.from_step)},
        {"to",
         request.to_step.empty() ? nlohmann::json(nullptr) : nlohmann::json(request.to_step)}};
  }
  Status written = journal ? journal->Finish(final_journal) : Status::Ok();
  if (!journal || !written.ok()) {
    if (!written.ok()) {
      spdlog::warn("journal: {}; writing it without the event log", written.message());
    }
    written = WriteJournal(request.journal, redactor->Apply(final_journal));
  }
  if (!written.ok()) spdlog::error("journal not written: {}", written.message());
  if (request.journal_format == "ctk" && source) {
    const std::string ctk_path = ChaosToolkitJournalPath(request.journal);
    Status ctk_written = WriteJournal(
        ctk_path, redactor->Apply(ChaosToolkitJournal(redactor->Apply(final_journal), *source)));
    if (!ctk_written.ok()) {
      spdlog::error("Chaos Toolkit journal not written: {}", ctk_written.message());
    } else {
      spdlog::info("Chaos Toolkit journal: {}", ctk_path);
    }
  }
  PrintVerdict(report, written.ok() ? request.journal : "", code, *redactor);
  if (outcome != nullptr) {
    *outcome = {true, redactor->Apply(experiment->title), RunStatusName(report.status),
                redactor->Apply(report.reason), written.ok()};
  }
  WriteRequestedReports(request, written.ok(),
                        written.ok() ? nlohmann::json() : redactor->Apply(final_journal));
  // The history (docs/scheduling.md): a failure is logged and changes nothing of the run.
  RecordRunInHistory(state_dir, request, *experiment, report, code, *text, *redactor);
  if (!request.pushgateway.empty()) {
    const double seconds =
        std::chrono::duration<double>(report.ended_at - report.started_at).count();
    Status pushed = PushResult(system, request.pushgateway, experiment->title,
                               RunStatusName(report.status), seconds, report.breach ? 1 : 0);
    if (!pushed.ok())
      spdlog::error("{}", pushed.message());
    else
      spdlog::info("pushed the result to {}", request.pushgateway);
  }
  return code;
}

}  // namespace ringfence
