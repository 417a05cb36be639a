#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace ringfence::testing {

// Real child processes for integration tests. Each child gets PR_SET_PDEATHSIG(SIGKILL) so it
// cannot outlive a crashed test; the destructor kills (SIGKILL, after SIGCONT in case it was
// stopped) and reaps every child that was not reaped already. Not thread-safe.
class ChildProcesses {
 public:
  ChildProcesses() = default;
  ChildProcesses(const ChildProcesses&) = delete;
  ChildProcesses& operator=(const ChildProcesses&) = delete;
  ~ChildProcesses();

  // Starts argv (looked up in PATH); returns its pid, or -1 when fork failed.
  pid_t Spawn(const std::vector<std::string>& argv);

  // Reaps `pid` if it has exited: true with its wait status, false while it runs (WNOHANG).
  bool TryReap(pid_t pid, int* wait_status);
  // Reaps `pid`, waiting at most about `timeout_ms` (polling); true when it was reaped.
  bool ReapWithin(pid_t pid, int timeout_ms, int* wait_status);

  const std::vector<pid_t>& pids() const { return pids_; }

 private:
  std::vector<pid_t> pids_;  // every child ever started
  std::vector<pid_t> reaped_;
};

// A string unique to this test process and call, for marking children's command lines
// (e.g. `sleep 3600.<marker>` so that a cmdline regex selects only this test's children).
std::string UniqueDigits();

// Field 3 of /proc/PID/stat, or '?' when it cannot be read.
char ProcState(pid_t pid);

}  // namespace ringfence::testing
