#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/base/process_table.h"
#include "core/base/secret_values.h"
#include "core/fault/executor.h"
#include "core/ledger/file_ledger.h"

namespace ringfence {

// An exclusive lock on a state dir (flock on `<state_dir>/run.lock`), held by a run and handed to
// its watchdog, so that a second run, or `recover`, cannot act while one is active.
class StateDirLock {
 public:
  // Opens (creating it, 0700) and checks the state dir (core/ledger/state_dir.h: kPermission with
  // the path and reason when it breaks the rules), then locks it. kUnavailable "another run is
  // active on state dir D (its lock is held)" when someone holds it: the caller says what to do.
  static Result<StateDirLock> TryAcquire(const std::string& state_dir);
  StateDirLock(StateDirLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  StateDirLock& operator=(StateDirLock&&) = delete;
  ~StateDirLock();
  int fd() const { return fd_; }  // to hand to the watchdog (it keeps the lock alive)

 private:
  explicit StateDirLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

enum class RunState {
  kRunning,     // its runner is alive
  kWatchdog,    // its runner is gone, its watchdog is alive (reverting)
  kFinished,    // ended normally, nothing left
  kLeftFaults,  // runner and watchdog gone, faults not reverted: needs `ringfence recover`
  kRecovered,   // did not end normally, but nothing is left
};
const char* RunStateName(RunState s);

struct RunSummary {
  std::string run_id;
  std::string path;
  RunState state = RunState::kFinished;
  std::string title;
  std::string status;  // the end record's status, or ""
  LedgerContents contents;
};

// What the ledger at `path` says about its run, using `processes` to tell whether its runner or
// watchdog still lives (pid and start time must both match).
Result<RunSummary> SummarizeRun(const std::string& path, ProcessTable& processes);

// The outcome of reverting what one ledger shows as not reverted.
struct RecoveryReport {
  std::vector<std::string> actions;  // "reverted kill-one (process_kill) on pid 42 (sleep)"
  std::vector<std::string> left;     // what could not be undone, with how to undo it by hand
  bool ok() const { return left.empty(); }
};

// Reverts every outstanding entry of the ledger at `path`, newest first, through `executor`
// (idempotent: undoing what is already undone succeeds), and marks each as reverted `by`
// ("recover" or "watchdog"). Lines that cannot be read or authenticated are reported in `left`,
// never guessed at. An entry whose record holds "[redacted:<name>]" is reverted with the value
// from `secrets`; without it, it is left (with the redacted manual undo and the --secret to
// pass). Texts in the report never hold a secret value.
RecoveryReport RecoverRun(const std::string& path, Executor& executor, Clock& clock,
                          const std::string& by, int attempts = 3,
                          const SecretValues& secrets = SecretValues());

}  // namespace ringfence
