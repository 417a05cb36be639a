#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/base/clock.h"
#include "core/base/process_table.h"
#include "core/base/secret_values.h"
#include "core/base/status.h"
#include "core/fault/fault.h"
#include "core/ledger/file_ledger.h"
#include "core/ledger/recovery.h"

namespace ringfence {

// The one watchdog loop, used by the local watchdog (`ringfence watchdog`,
// runner/watchdog/watchdog.h) and the host-side watchdog (`ringfence host watchdog`,
// runner/host/host_command.cc). It watches a run's ledger and its runner, and when the runner is
// gone, falls silent for longer than the grace, or a fault's deadline passes, it reverts from the
// ledger, records that it did, and stops a runner that is still alive. Every side effect goes
// through an interface handed to it (the clock, the runner's channel, the ledger and the process
// table), so that its deadline and heartbeat logic runs in unit tests on a fake clock.

// What the watchdog heard from its runner while it waited.
struct RunnerNews {
  enum class Kind {
    kNothing,   // no word before the wait ended
    kBeat,      // a heartbeat, `age` old when it was read
    kFinished,  // the runner finished normally: the watchdog exits quietly
    kGone,      // the runner is gone (or its channel broke): `why` is the reason to act
  };
  Kind kind = Kind::kNothing;
  std::chrono::milliseconds age{0};
  std::string why;
};

// How the runner reaches its watchdog: the heartbeat socket (local) or the heartbeat file that
// `ringfence host heartbeat` touches (host side).
class RunnerLink {
 public:
  virtual ~RunnerLink() = default;
  // Waits until the loop's clock reaches `until` (Monotonic()) or the runner says something,
  // whichever comes first, and reports what it heard. Called from the loop's thread only.
  virtual RunnerNews Next(std::chrono::steady_clock::time_point until) = 0;
};

// What the watchdog does to its run's ledger, and where it logs. The real one is
// LedgerWatchdogEffects; tests record the calls.
class WatchdogEffects {
 public:
  virtual ~WatchdogEffects() = default;
  virtual Result<LedgerContents> ReadLedger() = 0;
  // Reverts every outstanding entry of the ledger (RecoverRun, marked "watchdog").
  virtual RecoveryReport Revert() = 0;
  // Appends one record to the ledger; a failure is returned, and the loop logs it.
  virtual Status Append(const nlohmann::json& record) = 0;
  // One line of the watchdog's log (never a secret value).
  virtual void Log(const std::string& line) = 0;
};

struct WatchdogLoopOptions {
  std::chrono::milliseconds grace{3000};
  // How often the ledger is read for deadlines (and the runner's channel looked at).
  std::chrono::milliseconds period{100};
  // Host side: the runner's "end" record is how it says it finished (nothing outstanding: exit
  // quietly; faults still outstanding: act). The local watchdog hears "done" on its socket.
  bool end_record_finishes = false;
  // Host side: a ledger that cannot be read is a reason to act, since the ledger is all the
  // host-side watchdog has. The local one keeps watching (its socket still judges the runner).
  bool unreadable_ledger_acts = false;
  // Written into the "reverted" record.
  pid_t self_pid = 0;
};

class WatchdogLoop {
 public:
  // All references must outlive the loop.
  WatchdogLoop(WatchdogLoopOptions options, Clock& clock, RunnerLink& link,
               WatchdogEffects& effects, ProcessTable& processes);

  struct Watched {
    bool finished = false;  // the runner finished: nothing to do
    std::string reason;     // otherwise: why the watchdog acts
  };
  // Watches until the runner finishes or there is a reason to act.
  Watched Watch();

  // Acts on `reason`: logs it, reverts from the ledger (logging each action and what is left),
  // appends {"type": "watchdog", "event": "reverted", ...}, and stops (SIGTERM) the runner the
  // ledger's run record names when it is still that process and alive: a runner that missed a
  // deadline or its heartbeats may inject again when it wakes. Every failed append or signal is
  // logged. Returns the exit code: 0 when everything was reverted, 4 otherwise.
  int Act(const std::string& reason);

 private:
  WatchdogLoopOptions options_;
  Clock& clock_;
  RunnerLink& link_;
  WatchdogEffects& effects_;
  ProcessTable& processes_;
};

// The real WatchdogEffects of a ledger file: reads it with ReadLedger, reverts with RecoverRun
// through a LocalExecutor on `env` (for the run id and host the ledger's run record names),
// appends through FileLedger::OpenForAppend with `secrets`, logs through `log`. What it reverts
// is recorded as reverted by `by`: "watchdog" (the runner's), "host watchdog" (a host's).
class LedgerWatchdogEffects : public WatchdogEffects {
 public:
  LedgerWatchdogEffects(std::string ledger_path, SecretValues secrets, FaultEnv& env,
                        std::function<void(const std::string&)> log, std::string by = "watchdog");
  Result<LedgerContents> ReadLedger() override;
  RecoveryReport Revert() override;
  Status Append(const nlohmann::json& record) override;
  void Log(const std::string& line) override;

 private:
  std::string ledger_path_;
  SecretValues secrets_;
  FaultEnv& env_;
  std::function<void(const std::string&)> log_;
  std::string by_;
};

}  // namespace ringfence
