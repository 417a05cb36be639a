#include "runner/commands/state_commands.h"

#include <cstdio>

#include "core/base/clock.h"
#include "core/engine/journal.h"
#include "core/fault/executor.h"
#include "core/fault/fault.h"
#include "core/ledger/file_ledger.h"
#include "core/ledger/recovery.h"
#include "core/ledger/state_dir.h"
#include "core/sys/system_clock.h"
#include "core/sys/system_env.h"
#include "core/sys/system_process_table.h"
#include "runner/run/fleet_setup.h"

namespace ringfence {

namespace {
// The ledger key, when there is one, must keep the rules too (a missing key: every ledger is
// then reported as not trusted, one by one).
Status CheckKey(const std::string& state_dir) {
  auto dir = StateDir::Open(state_dir, false);
  if (!dir.ok()) return dir.status();
  auto key = dir->LedgerKey(false);
  if (!key.ok() && key.status().code() != StatusCode::kNotFound) return key.status();
  return Status::Ok();
}
}  // namespace

namespace {

// A run that ended without its `end` record (runner and watchdog both died) left its journal as
// a checkpoint: recover streams every guard sample of its event log in, as the watchdog would
// have. Only an incomplete journal of that very run is touched (CompleteJournalAfterCrash).
void CompleteJournalOf(const RunSummary& summary) {
  if (!summary.contents.end.is_null()) return;
  std::string journal;
  if (CompleteJournalOfRun(summary.contents.run, "recover", SystemClock().Now(), &journal,
                           &summary.contents)
          .ok()) {
    std::printf("run %s: journal %s: every guard sample of its event log added\n",
                summary.run_id.c_str(), journal.c_str());
  }
}

}  // namespace

int RecoverStateDir(const std::string& state_dir, const std::string& run_id,
                    const std::string& inventory, const SecretValues& secrets) {
  auto processes = MakeSystemProcessTable();
  auto lock = StateDirLock::TryAcquire(state_dir);
  if (!lock.ok()) {
    if (lock.status().code() == StatusCode::kUnavailable) {
      std::fprintf(
          stderr,
          "ringfence recover: %s; wait for it to end: recover does not act under a live run\n",
          lock.status().message().c_str());
    } else {
      std::fprintf(stderr, "ringfence recover: %s; nothing was reverted\n",
                   lock.status().message().c_str());
    }
    return 3;
  }
  if (Status key = CheckKey(state_dir); !key.ok()) {
    std::fprintf(stderr, "ringfence recover: %s; nothing was reverted\n", key.message().c_str());
    return 3;
  }
  std::vector<std::string> paths;
  if (!run_id.empty()) {
    paths.push_back(LedgerPath(state_dir, run_id));
  } else {
    paths = ListLedgers(state_dir);
  }
  StopSource stop;
  SystemEnv system(*processes);
  FaultEnv env{system, stop};
  LocalExecutor executor(env, FaultRegistry::Global());
  std::vector<std::string> left, skipped;
  size_t reverted = 0;
  for (auto it = paths.rbegin(); it != paths.rend(); ++it) {  // newest run first
    auto summary = SummarizeRun(*it, *processes);
    if (!summary.ok()) {
      if (summary.status().code() == StatusCode::kPermission) {
        skipped.push_back(summary.status().message());  // one bad ledger blocks no other
      } else {
        left.push_back(*it + ": " + summary.status().message());
      }
      continue;
    }
    if (summary->state == RunState::kRunning || summary->state == RunState::kWatchdog) {
      std::printf("run %s is %s; not touching it\n", summary->run_id.c_str(),
                  RunStateName(summary->state));
      continue;
    }
    CompleteJournalOf(*summary);
    if (summary->contents.Outstanding().empty() && summary->contents.problems.empty()) continue;
    env.run_id = summary->run_id;
    // Faults on inventory hosts go to their hosts over SSH.
    const std::string inventory_file = !inventory.empty() ? inventory
                                       : summary->contents.run.is_object()
                                           ? summary->contents.run.value("inventory", "")
                                           : "";
    std::unique_ptr<HostRoutingExecutor> routed;
    if (!inventory_file.empty()) {
      auto made =
          HostRoutingExecutor::Make(system, executor, inventory_file, summary->run_id, secrets);
      if (!made.ok()) {
        left.push_back("run " + summary->run_id + ": " + made.status().message());
      } else {
        routed = std::move(*made);
      }
    }
    RecoveryReport report = RecoverRun(*it, routed ? static_cast<Executor&>(*routed) : executor,
                                       SystemClock(), "recover", 3, secrets);
    for (const auto& a : report.actions) {
      std::printf("run %s: %s\n", summary->run_id.c_str(), a.c_str());
      reverted += a.rfind("reverted ", 0) == 0;
    }
    for (const auto& l : report.left) left.push_back("run " + summary->run_id + ": " + l);
    // The journal of a crashed run, completed before these reverts, learns who did them.
    if (auto after = ReadLedger(*it); after.ok()) (void)AddRevertedByToJournal(*after);
  }
  for (const auto& l : left) std::fprintf(stderr, "LEFT: %s\n", l.c_str());
  for (const auto& s : skipped) std::fprintf(stderr, "SKIPPED: %s; not acted on\n", s.c_str());
  if (!left.empty()) {
    std::fprintf(stderr, "recover: %zu item%s left; undo %s by hand\n", left.size(),
                 left.size() == 1 ? "" : "s", left.size() == 1 ? "it" : "them");
    return 4;
  }
  if (!skipped.empty()) {
    std::fprintf(stderr,
                 "recover: %zu fault%s reverted; %zu ledger%s not trusted and skipped: check %s by "
                 "hand, then move %s out of %s/runs\n",
                 reverted, reverted == 1 ? "" : "s", skipped.size(), skipped.size() == 1 ? "" : "s",
                 skipped.size() == 1 ? "it" : "them", skipped.size() == 1 ? "it" : "them",
                 state_dir.c_str());
    return 3;
  }
  std::printf("recover: %zu fault%s reverted; nothing is left\n", reverted,
              reverted == 1 ? "" : "s");
  return 0;
}

namespace {

// `status --json`: one object, the same facts as the text.
int PrintStatusJson(const std::string& state_dir, ProcessTable& processes) {
  nlohmann::ordered_json out = {{"state_dir", state_dir},
                                {"runs", nlohmann::ordered_json::array()},
                                {"untrusted", nlohmann::ordered_json::array()}};
  int code = 0;
  for (const auto& path : ListLedgers(state_dir)) {
    auto summary = SummarizeRun(path, processes);
    if (!summary.ok()) {
      out["untrusted"].push_back(summary.status().message());
      code = 3;
      continue;
    }
    nlohmann::ordered_json run = {
        {"run_id", summary->run_id},
        {"state", RunStateName(summary->state)},
        {"title", summary->title},
        {"status", summary->status.empty() ? nlohmann::ordered_json()
                                           : nlohmann::ordered_json(summary->status)},
        {"ledger", summary->path},
        {"active_faults", nlohmann::ordered_json::array()},
        {"unreadable", summary->contents.problems}};
    for (const auto* e : summary->contents.Outstanding()) {
      run["active_faults"].push_back(
          {{"fault", e->undo.fault_name},
           {"type", e->undo.fault_type},
           {"target", e->undo.target},
           {"deadline", e->undo.deadline_ms > 0
                            ? nlohmann::ordered_json(FormatRfc3339(
                                  WallTime(std::chrono::milliseconds(e->undo.deadline_ms))))
                            : nlohmann::ordered_json()},
           {"manual_undo", e->undo.manual_undo}});
    }
    const nlohmann::json& record = summary->contents.run;
    run["journal"] =
        record.is_object() && record.contains("journal") && record["journal"].is_string()
            ? nlohmann::ordered_json(record["journal"].get<std::string>())
            : nlohmann::ordered_json();
    out["runs"].push_back(std::move(run));
  }
  std::printf("%s\n",
              out.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace).c_str());
  return code;
}

}  // namespace

int PrintStatus(const std::string& state_dir, bool json) {
  auto processes = MakeSystemProcessTable();
  if (auto dir = StateDir::Open(state_dir, false);
      !dir.ok() && dir.status().code() != StatusCode::kNotFound) {
    std::fprintf(stderr, "ringfence status: %s\n", dir.status().message().c_str());
    return 3;
  } else if (dir.ok()) {
    if (Status key = CheckKey(state_dir); !key.ok()) {
      std::fprintf(stderr, "ringfence status: %s\n", key.message().c_str());
      return 3;
    }
  }
  if (json) return PrintStatusJson(state_dir, *processes);
  auto paths = ListLedgers(state_dir);
  if (paths.empty()) {
    std::printf("no runs in %s\n", state_dir.c_str());
    return 0;
  }
  int code = 0;
  for (const auto& path : paths) {
    auto summary = SummarizeRun(path, *processes);
    if (!summary.ok()) {
      std::printf("SKIPPED %s; not trusted\n", summary.status().message().c_str());
      code = 3;
      continue;
    }
    std::printf("%s  %-12s %s%s\n", summary->run_id.c_str(), RunStateName(summary->state),
                summary->title.c_str(),
                summary->status.empty() ? "" : (" (" + summary->status + ")").c_str());
    for (const auto* e : summary->contents.Outstanding()) {
      std::string deadline =
          e->undo.deadline_ms > 0
              ? FormatRfc3339(WallTime(std::chrono::milliseconds(e->undo.deadline_ms)))
              : "none";
      std::printf("    active: %s (%s) on %s, deadline %s; undo by hand: %s\n",
                  e->undo.fault_name.c_str(), e->undo.fault_type.c_str(), e->undo.target.c_str(),
                  deadline.c_str(), e->undo.manual_undo.c_str());
    }
    for (const auto& p : summary->contents.problems) std::printf("    unreadable: %s\n", p.c_str());
    // The run record names its journal (docs/journal.md): complete once the run ended, else the
    // last checkpoint, with every guard sample in <journal>.events.
    const nlohmann::json& run = summary->contents.run;
    if (run.is_object() && run.contains("journal") && run["journal"].is_string() &&
        !run["journal"].get_ref<const std::string&>().empty()) {
      const std::string& journal = run["journal"].get_ref<const std::string&>();
      if (summary->state == RunState::kRunning) {
        std::printf("    journal: %s (written as the run goes)\n", journal.c_str());
      } else if (summary->status.empty()) {
        std::printf(
            "    journal: %s (incomplete: the runner did not finish; every guard sample "
            "is in %s.events)\n",
            journal.c_str(), journal.c_str());
      } else {
        std::printf("    journal: %s\n", journal.c_str());
      }
    }
  }
  return code;
}

}  // namespace ringfence
