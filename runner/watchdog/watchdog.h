#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "core/base/clock.h"
#include "core/base/process_table.h"
#include "core/base/secret_values.h"
#include "core/base/status.h"

namespace ringfence {

// The runner's side of the dead-man watchdog: a separate process (`ringfence watchdog`, in a
// session of its own, so it outlives the runner and a Ctrl-C to the terminal) that holds the
// run's ledger and the state dir's lock, and reverts from the ledger when heartbeats stop or a
// fault's deadline passes. Heartbeats go down a socket pair every grace/4; closing it without
// saying "done" (the runner died) makes the watchdog act at once.
//
// The socket pair carries first the run's secret values (the ledger holds "[redacted:<name>]"
// in their place, and the watchdog needs them to revert): one frame, 's', the length of the JSON
// as 8 hex digits, SecretValues::ToJson(). The watchdog answers one byte, 'a' (armed), once it has
// the secrets and watches. Then one byte per message from the runner: 'h' heartbeat, 'd' done.
class WatchdogHandle {
 public:
  static constexpr std::chrono::milliseconds kArmTimeout{10000};
  // Starts `binary watchdog --ledger PATH --grace MS` with the heartbeat socket on fd 3 and
  // `lock_fd` (may be -1) on fd 4, and sends it `secrets`. Returns once the watchdog says it is
  // armed (waiting on the socket, no polling, at most kArmTimeout): a watchdog that cannot start
  // (exec fails, it exits, it does not answer) is an error (kUnavailable "the watchdog exited
  // before it was armed (exit code N)" or "the watchdog was not armed within 10s"), and the
  // caller runs nothing. `processes` (which must outlive the handle) identifies it by its start
  // time and waits for its exit.
  static Result<std::unique_ptr<WatchdogHandle>> Start(
      const std::string& binary, const std::string& ledger_path, int lock_fd,
      std::chrono::milliseconds grace, ProcessTable& processes,
      const SecretValues& secrets = SecretValues());
  // Without Finish(): the socket closes and the watchdog reverts whatever the ledger still shows.
  ~WatchdogHandle();
  pid_t pid() const { return pid_; }
  // The watchdog's start time (ProcessInfo::start_ticks), 0 when it could not be read.
  unsigned long long start_ticks() const { return start_ticks_; }
  // The run ended normally: the watchdog exits quietly. Waits for it to exit (on a pidfd, at
  // most 2 s) and reaps it, so that the state dir's lock it holds is free when this returns.
  void Finish();

 private:
  WatchdogHandle(pid_t pid, int fd, std::chrono::milliseconds grace, ProcessTable& processes);
  void Beat();
  pid_t pid_;
  unsigned long long start_ticks_ = 0;
  int fd_;
  std::chrono::milliseconds grace_;
  ProcessTable& processes_;
  StopSource stop_;
  std::thread beater_;
};

// The secrets frame (see WatchdogHandle): 's', the JSON's length as 8 hex digits, the JSON.
// Also how `ringfence host begin` hands secrets to the host-side watchdog (on its stdin).
std::string SecretsFrame(const SecretValues& secrets);
// Reads one secrets frame from `fd` within `timeout`; empty secrets when none came (EOF, a
// timeout, or not a frame).
SecretValues ReceiveSecrets(int fd, std::chrono::milliseconds timeout);

// The watchdog process itself: `ringfence watchdog --ledger PATH --grace MS` (heartbeat socket on
// fd 3). Returns its exit code: 0 when the runner finished or everything was reverted, 4 when
// something could not be reverted. Its log (0600, never a secret value) goes to PATH with
// ".watchdog.log" in place of ".ledger".
int RunWatchdog(const std::string& ledger_path, std::chrono::milliseconds grace);

}  // namespace ringfence
