#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/base/clock.h"
#include "core/base/process_table.h"

namespace ringfence::testing {

// An in-memory ProcessTable for unit tests. Processes are added by hand; every Signal call is
// recorded in order (also those that fail); signals act like the kernel's defaults: SIGSTOP
// and SIGTSTP → state 'T', SIGCONT → 'S', 0 → nothing, anything else ends the process (unless
// it was told to ignore that signal; SIGKILL cannot be ignored). WaitExit never blocks.
// Thread-safe.
class FakeProcessTable : public ProcessTable {
 public:
  static constexpr unsigned long long kTicksPerSecond = 100;

  struct SignalCall {
    pid_t pid;
    unsigned long long start_ticks;
    int signo;
    bool operator==(const SignalCall&) const = default;
  };

  // Adds a running process (state 'S' unless given). start_ticks 0 means "pid * 100".
  ProcessInfo Add(pid_t pid, std::string name, std::string cmdline = "", uid_t uid = 0,
                  unsigned long long start_ticks = 0, char state = 'S');
  void Add(const ProcessInfo& process);
  // The process exits (as if it ended by itself).
  void Remove(pid_t pid);
  // Every later Signal to `pid` returns `status` without any effect (still recorded).
  void FailSignals(pid_t pid, Status status);
  // `pid` survives `signo` (e.g. SIGTERM), as a process that handles it would.
  void IgnoreSignal(pid_t pid, int signo);
  // Called (without the table's lock held) after a process ended through a signal; a test's
  // "supervisor" may Add() a replacement from here.
  void OnSignalExit(std::function<void(const ProcessInfo& gone, int signo)> callback);

  // StartTime(ticks) is boot_time + ticks / kTicksPerSecond.
  void SetBootTime(WallTime boot_time);
  // The start_ticks of a process that started at `t`.
  unsigned long long TicksAt(WallTime t) const;

  std::vector<SignalCall> signals() const;
  int wait_exit_calls() const;
  bool Has(pid_t pid) const;
  char StateOf(pid_t pid) const;  // '?' when gone

  Result<std::vector<ProcessInfo>> List() override;
  Result<ProcessInfo> Get(pid_t pid) override;
  Status Signal(pid_t pid, unsigned long long start_ticks, int signo) override;
  bool WaitExit(pid_t pid, unsigned long long start_ticks,
                std::chrono::milliseconds timeout) override;
  std::chrono::system_clock::time_point StartTime(unsigned long long start_ticks) override;

 private:
  mutable std::mutex mu_;
  std::map<pid_t, ProcessInfo> processes_;
  std::map<pid_t, Status> failures_;
  std::set<std::pair<pid_t, int>> ignored_;
  std::vector<SignalCall> signals_;
  std::function<void(const ProcessInfo&, int)> on_signal_exit_;
  WallTime boot_time_{std::chrono::seconds(1721300000)};
  int wait_exit_calls_ = 0;
};

}  // namespace ringfence::testing
