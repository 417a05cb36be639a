#include "runner/schedule/scheduler.h"

#include <atomic>
#include <filesystem>
#include <list>
#include <memory>
#include <thread>

#include <spdlog/spdlog.h>

#include "core/fault/fault.h"
#include "core/history/sqlite_history.h"
#include "core/ledger/file_ledger.h"
#include "core/ledger/state_dir.h"
#include "core/model/schedule.h"
#include "core/sys/run_command.h"
#include "core/sys/system_clock.h"
#include "core/sys/system_env.h"
#include "runner/base/signal_watcher.h"
#include "runner/metrics/scheduler_metrics.h"
#include "runner/run/run_history.h"

namespace ringfence {

namespace {

int64_t Ms(WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// How long a run stopped by a timeout or a signal may take to revert before SIGKILL (its
// watchdog then reverts from the ledger).
constexpr std::chrono::minutes kRevertGrace(5);

// One child `ringfence run`.
struct ActiveRun {
  const ScheduleEntry* entry = nullptr;
  WallTime started{};
  std::optional<std::chrono::steady_clock::time_point> deadline;
  StopSource halt;
  bool timed_out = false;
  std::atomic<bool> done{false};
  std::string status = "error";
  int exit_code = -1;
  std::thread thread;
};

// Where an entry's run is due next.
struct EntryState {
  const ScheduleEntry* entry = nullptr;
  std::optional<WallTime> calendar_time;  // the calendar's elapse (before jitter)
  WallTime due{};                         // with jitter
  std::string trigger = "scheduled";
};

// "verdict: passed (exit 0): …" → "passed".
std::string StatusFromOutput(const CommandResult& result) {
  const auto at = result.out.rfind("verdict: ");
  if (at != std::string::npos) {
    const auto start = at + 9;
    const auto end = result.out.find(' ', start);
    if (end != std::string::npos) return result.out.substr(start, end - start);
  }
  if (result.exit_code == 143 || result.exit_code == 130 || result.exit_code == 129) {
    return "interrupted";
  }
  return "error";
}

std::string LastLine(const std::string& text) {
  std::string t = text;
  while (!t.empty() && t.back() == '\n') t.pop_back();
  const auto nl = t.rfind('\n');
  return nl == std::string::npos ? t : t.substr(nl + 1);
}

class Scheduler {
 public:
  Scheduler(const Schedule& schedule, const SchedulerRequest& request, std::string state_dir,
            RunHistory& history, SchedulerMetrics& metrics, Clock& clock, Env& system,
            StopSource& stop)
      : schedule_(schedule),
        request_(request),
        state_dir_(std::move(state_dir)),
        history_(history),
        metrics_(metrics),
        clock_(clock),
        system_(system),
        stop_(stop) {}

  void Run() {
    const WallTime now = clock_.Now();
    for (const auto& entry : schedule_.entries) {
      EntryState state;
      state.entry = &entry;
      Plan(state, now);
      CheckMissed(state, now);
      states_.push_back(state);
    }
    while (!stop_.stop_requested()) {
      Reap();
      CheckTimeouts();
      EntryState* first = nullptr;
      for (auto& s : states_) {
        if (s.calendar_time && (first == nullptr || s.due < first->due)) first = &s;
      }
      const WallTime t = clock_.Now();
      if (first != nullptr && first->due <= t) {
        Due(*first);
        Plan(*first, std::max(*first->calendar_time, t));
        continue;
      }
      // Sleep until the next due time; wake up at least every second (a wall clock that
      // jumps, a run that ended, a signal), more often while a run is watched.
      auto wait = std::chrono::milliseconds(active_.empty() ? 1000 : 100);
      if (first != nullptr) {
        wait =
            std::min(wait, std::chrono::duration_cast<std::chrono::milliseconds>(first->due - t));
      }
      clock_.SleepUntil(clock_.Monotonic() + wait, stop_);
    }
    if (!active_.empty()) {
      spdlog::warn("{}: letting {} run(s) revert and finish before exiting", stop_.reason(),
                   active_.size());
    }
    for (auto& run : active_) run->halt.RequestStop(stop_.reason());
    for (auto& run : active_) {
      if (run->thread.joinable()) run->thread.join();
    }
    Reap();
  }

 private:
  void Plan(EntryState& s, WallTime after) {
    s.calendar_time = s.entry->NextRun(after);
    s.trigger = "scheduled";
    if (s.calendar_time) {
      s.due = *s.calendar_time + s.entry->JitterFor(schedule_.seed, *s.calendar_time);
      spdlog::info("entry {}: next run at {}", s.entry->name,
                   s.entry->calendar.zone().Format(s.due));
    } else {
      spdlog::warn("entry {}: no next run (the calendar, window and blackouts never meet)",
                   s.entry->name);
    }
    metrics_.NextRun(s.entry->name,
                     s.calendar_time ? std::optional<WallTime>(s.due) : std::nullopt);
  }

  // Runs due while no scheduler ran: the history's last run of the entry says since when.
  void CheckMissed(EntryState& s, WallTime now) {
    HistoryQuery q;
    q.entry = s.entry->name;
    q.limit = 1;
    auto last = history_.Query(q);
    if (!last.ok() || last->empty()) return;
    const WallTime last_time{std::chrono::milliseconds(last->back().started_ms)};
    const auto missed = s.entry->NextRun(last_time);
    if (!missed || *missed >= now || (s.calendar_time && *missed >= *s.calendar_time)) return;
    if (s.entry->on_missed == OnMissed::kRunOnce) {
      spdlog::warn(
          "entry {}: missed runs since {} (first due {}); on_missed run_once: running once now",
          s.entry->name, FormatRfc3339(last_time), FormatRfc3339(*missed));
      s.calendar_time = now;
      s.due = now;
      s.trigger = "missed";
    } else {
      spdlog::warn("entry {}: missed runs since {} (first due {}); on_missed skip: not run",
                   s.entry->name, FormatRfc3339(last_time), FormatRfc3339(*missed));
    }
  }

  void Due(EntryState& s) {
    const ScheduleEntry& entry = *s.entry;
    if (!schedule_.allow_overlap && !active_.empty()) {
      const std::string other = active_.front()->entry->name;
      spdlog::warn("entry {}: skipped: overlap ({} is still running)", entry.name, other);
      RunRecord r;
      r.run_id = "skip-" + entry.name + "-" + std::to_string(Ms(s.due));
      r.title = entry.title;
      r.file = entry.experiment;
      r.started_ms = r.ended_ms = Ms(clock_.Now());
      r.status = "skipped";
      r.reason = "overlap: " + other + " was running";
      r.trigger = s.trigger;
      r.entry = entry.name;
      Status recorded = history_.Record(r);
      if (!recorded.ok()) spdlog::warn("history: {}", recorded.message());
      metrics_.RunEnded(entry.name, "skipped", clock_.Now());
      return;
    }
    Start(entry, s.trigger);
  }

  void Start(const ScheduleEntry& entry, const std::string& trigger) {
    auto run = std::make_unique<ActiveRun>();
    run->entry = &entry;
    run->started = clock_.Now();
    if (entry.timeout) run->deadline = clock_.Monotonic() + *entry.timeout;
    const std::string journal = (std::filesystem::path(state_dir_) / "journals" /
                                 (entry.name + "-" + std::to_string(Ms(run->started)) + ".json"))
                                    .string();
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(journal).parent_path(), ec);
    std::vector<std::string> argv = {FindSystemProgram("env").value_or("/usr/bin/env"),
                                     std::string(kTriggerEnv) + "=" + trigger,
                                     std::string(kScheduleEntryEnv) + "=" + entry.name,
                                     SelfBinary(),
                                     "run",
                                     "--state-dir",
                                     state_dir_,
                                     "--journal",
                                     journal,
                                     "--progress",
                                     "never"};
    if (!request_.pushgateway.empty()) {
      argv.push_back("--pushgateway");
      argv.push_back(request_.pushgateway);
    }
    if (schedule_.allow_overlap) argv.push_back("--allow-concurrent");
    for (const auto& [k, v] : entry.vars) {
      argv.push_back("--var");
      argv.push_back(k + "=" + v);
    }
    argv.push_back("--");
    argv.push_back(entry.experiment);
    spdlog::info("entry {}: run started ({}, {})", entry.name, trigger, entry.experiment);
    metrics_.runner().ExperimentStarted();
    ActiveRun* r = run.get();
    Env* system = &system_;  // starts the child run (one way to start a child: the Env)
    run->thread = std::thread([r, argv, system] {
      CommandControl control{&r->halt, kRevertGrace};
      auto result = system->RunControlled(argv, kMaxDuration, control);
      if (result.ok()) {
        r->exit_code = result->exit_code;
        r->status = StatusFromOutput(*result);
        if (r->status == "error") {
          spdlog::warn("entry {}: {}", r->entry->name, LastLine(result->err));
        }
      } else {
        spdlog::error("entry {}: the run did not start: {}", r->entry->name,
                      result.status().message());
      }
      r->done = true;
    });
    active_.push_back(std::move(run));
  }

  void CheckTimeouts() {
    const auto now = clock_.Monotonic();
    for (auto& run : active_) {
      if (run->deadline && now >= *run->deadline && !run->timed_out) {
        run->timed_out = true;
        spdlog::warn("entry {}: timeout {} passed: stopping the run (SIGTERM); it reverts",
                     run->entry->name, FormatDuration(*run->entry->timeout));
        run->halt.RequestStop("timeout");
      }
    }
  }

  void Reap() {
    for (auto it = active_.begin(); it != active_.end();) {
      ActiveRun& run = **it;
      if (!run.done) {
        ++it;
        continue;
      }
      if (run.thread.joinable()) run.thread.join();
      spdlog::info("entry {}: {} (exit {}){}", run.entry->name, run.status, run.exit_code,
                   run.timed_out ? " after its timeout" : "");
      metrics_.runner().ExperimentFinished(run.status);
      metrics_.RunEnded(run.entry->name, run.status, run.started);
      it = active_.erase(it);
    }
  }

  const Schedule& schedule_;
  const SchedulerRequest& request_;
  std::string state_dir_;
  RunHistory& history_;
  SchedulerMetrics& metrics_;
  Clock& clock_;
  Env& system_;
  StopSource& stop_;
  std::vector<EntryState> states_;
  std::list<std::unique_ptr<ActiveRun>> active_;
};

}  // namespace

int RunScheduler(const SchedulerRequest& request) {
  ValidationErrors errors;
  ScheduleLoadOptions options;
  options.catalog = &FaultRegistry::Global();
  auto schedule = LoadScheduleFile(request.file, options, errors);
  if (!schedule) {
    for (const auto& line : errors.Format(request.file)) std::fprintf(stderr, "%s\n", line.c_str());
    std::fprintf(stderr, "%zu error%s; nothing was scheduled\n", errors.size(),
                 errors.size() == 1 ? "" : "s");
    return 2;
  }
  const std::string state_dir = request.state_dir.empty() ? DefaultStateDir() : request.state_dir;
  auto dir = StateDir::Open(state_dir, true);
  if (!dir.ok()) {
    std::fprintf(stderr, "ringfence scheduler: %s; nothing was scheduled\n",
                 dir.status().message().c_str());
    return 3;
  }
  auto history = OpenSqliteHistory((std::filesystem::path(state_dir) / kHistoryFileName).string());
  if (!history.ok()) {
    std::fprintf(stderr, "ringfence scheduler: %s; nothing was scheduled\n",
                 history.status().message().c_str());
    return 3;
  }
  if (!request.pushgateway.empty() && request.pushgateway.rfind("http://", 0) != 0 &&
      request.pushgateway.rfind("https://", 0) != 0) {
    std::fprintf(stderr,
                 "ringfence scheduler: --pushgateway: \"%s\": a URL starting with http:// or "
                 "https://; nothing was scheduled\n",
                 request.pushgateway.c_str());
    return 2;
  }
  SchedulerMetrics metrics;
  if (!request.metrics_listen.empty()) {
    Status listening = metrics.Listen(request.metrics_listen);
    if (!listening.ok()) {
      std::fprintf(stderr, "ringfence scheduler: %s; nothing was scheduled\n",
                   listening.message().c_str());
      return listening.code() == StatusCode::kInvalidInput ? 2 : 3;
    }
    spdlog::info("metrics on http://127.0.0.1:{}/metrics", metrics.port());
  }
  spdlog::info("scheduler: {} entr{} from {}, state dir {}, concurrency {}",
               schedule->entries.size(), schedule->entries.size() == 1 ? "y" : "ies", request.file,
               state_dir, schedule->allow_overlap ? "allow" : "forbid");
  StopSource stop;
  int first_signal = 0;
  {
    SignalWatcher signals(stop, [](int signo) {
      spdlog::warn("{} received again: the scheduler exits once the current run has reverted",
                   sigabbrev_np(signo) ? sigabbrev_np(signo) : "signal");
    });
    SystemEnv system;
    Scheduler(*schedule, request, state_dir, **history, metrics, SystemClock(), system, stop).Run();
    first_signal = signals.first_signal();
  }
  spdlog::info("scheduler: stopped");
  return first_signal != 0 ? ExitCodeForSignal(first_signal) : 0;
}

}  // namespace ringfence
