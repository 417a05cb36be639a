#include "core/ledger/recovery.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "core/ledger/state_dir.h"

namespace ringfence {

Result<StateDirLock> StateDirLock::TryAcquire(const std::string& state_dir) {
  auto dir = StateDir::Open(state_dir, true);
  if (!dir.ok()) return dir.status();
  auto opened = dir->OpenInTop("lock", "run.lock", O_RDWR | O_CREAT);
  if (!opened.ok()) return opened.status();
  const int fd = *opened;
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return Status::Unavailable("another run is active on state dir " + state_dir +
                                 " (its lock is held)");
    }
    return Status::FromErrno(err, "state dir " + state_dir + ": lock");
  }
  return StateDirLock(fd);
}

StateDirLock::~StateDirLock() {
  if (fd_ >= 0) ::close(fd_);
}

const char* RunStateName(RunState s) {
  switch (s) {
    case RunState::kRunning:
      return "running";
    case RunState::kWatchdog:
      return "watchdog-reverting";
    case RunState::kFinished:
      return "finished";
    case RunState::kLeftFaults:
      return "FAULTS LEFT (run ringfence recover)";
    case RunState::kRecovered:
      return "crashed, recovered";
  }
  return "unknown";
}

namespace {
bool Alive(ProcessTable& processes, const nlohmann::json& rec, const char* pid_key,
           const char* ticks_key) {
  if (!rec.is_object() || !rec.contains(pid_key) || !rec.contains(ticks_key)) return false;
  auto p = processes.Get(rec[pid_key].get<pid_t>());
  return p.ok() && p->start_ticks == rec[ticks_key].get<unsigned long long>() && p->state != 'Z';
}
}  // namespace

Result<RunSummary> SummarizeRun(const std::string& path, ProcessTable& processes) {
  auto contents = ReadLedger(path);
  if (!contents.ok()) return contents.status();
  RunSummary s;
  s.path = path;
  s.contents = std::move(*contents);
  s.run_id = std::filesystem::path(path).stem().string();
  s.title = s.contents.run.is_object() ? s.contents.run.value("title", "") : "";
  s.status = s.contents.end.is_object() ? s.contents.end.value("status", "") : "";
  const bool outstanding = !s.contents.Outstanding().empty() || !s.contents.problems.empty();
  if (s.contents.end.is_null() &&
      Alive(processes, s.contents.run, "runner_pid", "runner_start_ticks")) {
    s.state = RunState::kRunning;
  } else if (Alive(processes, s.contents.watchdog, "pid", "start_ticks") && outstanding) {
    s.state = RunState::kWatchdog;
  } else if (outstanding) {
    s.state = RunState::kLeftFaults;
  } else {
    s.state = s.contents.end.is_null() ? RunState::kRecovered : RunState::kFinished;
  }
  return s;
}

namespace {
// "needs secret a: pass ringfence recover --secret a=VALUE"
std::string NeedsSecrets(const std::set<std::string>& names) {
  std::string list, flags;
  for (const auto& n : names) {
    list += (list.empty() ? "" : ", ") + n;
    flags += " --secret " + n + "=VALUE";
  }
  return std::string("needs secret") + (names.size() == 1 ? " " : "s ") + list +
         (names.size() == 1 ? " (its value is" : " (their values are") +
         " never on disk): pass ringfence recover" + flags;
}
}  // namespace

RecoveryReport RecoverRun(const std::string& path, Executor& executor, Clock& clock,
                          const std::string& by, int attempts, const SecretValues& secrets) {
  RecoveryReport report;
  auto ledger = FileLedger::OpenForAppend(path, secrets);
  if (!ledger.ok()) {
    report.left.push_back(path + ": " + ledger.status().message());
    return report;
  }
  auto contents = ReadLedger(path);
  if (!contents.ok()) {
    report.left.push_back(path + ": " + contents.status().message());
    return report;
  }
  for (const auto& problem : contents->problems) {
    report.left.push_back(path + ": " + problem +
                          ": unreadable; if it recorded an injection, check and undo it by hand");
  }
  if (contents->torn_tail) {
    report.actions.push_back(
        "ignored a torn last line (a crash while it was written; it was "
        "never acknowledged, so nothing was injected under it)");
  }
  auto outstanding = contents->Outstanding();
  for (auto it = outstanding.rbegin(); it != outstanding.rend(); ++it) {
    const auto& e = **it;
    // e.undo is as recorded: secrets concealed. So are the texts of the report.
    const std::string what = e.undo.fault_name + " (" + e.undo.fault_type + ") on " + e.undo.target;
    std::set<std::string> missing;
    auto undo = UndoRecord::Parse(secrets.Reveal(e.undo.ToJson(), missing), "/undo");
    if (!missing.empty()) {
      report.left.push_back(what + ": " + NeedsSecrets(missing) +
                            "; undo by hand: " + e.undo.manual_undo);
      continue;
    }
    if (!undo.ok()) {
      report.left.push_back(what + ": " + undo.status().message() +
                            "; undo by hand: " + e.undo.manual_undo);
      continue;
    }
    RevertOutcome outcome = RevertAndVerify(executor, *undo, attempts, clock);
    if (!outcome.ok()) {
      report.left.push_back(what + ": " + secrets.Conceal(outcome.status.message()) +
                            "; undo by hand: " + e.undo.manual_undo);
      continue;
    }
    // A remote host's watchdog that had reverted it already is the one that did.
    const std::string& who =
        outcome.verification.reverted_by.empty() ? by : outcome.verification.reverted_by;
    Status marked = (*ledger)->RecordRevertedBy(e.id, who);
    report.actions.push_back(
        "reverted " + what + " (verified: " + secrets.Conceal(outcome.verification.found) + ")" +
        (marked.ok() ? "" : " (the ledger could not be updated: " + marked.message() + ")"));
  }
  return report;
}

}  // namespace ringfence
