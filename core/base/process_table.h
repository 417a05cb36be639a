#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"

namespace ringfence {

class StopSource;

// One process as seen in /proc. `start_ticks` (field 22 of /proc/PID/stat) tells a process
// apart from a later one that reuses its PID: every action on a process checks it.
struct ProcessInfo {
  pid_t pid = 0;
  unsigned long long start_ticks = 0;
  std::string name;     // /proc/PID/comm
  std::string cmdline;  // /proc/PID/cmdline, NULs replaced by spaces
  uid_t uid = 0;
  char state = '?';  // R, S, D, T, Z, ...
};

// Every action on processes goes through this interface: the real one reads /proc and sends
// signals through pidfds; unit tests use a fake. Methods are thread-safe.
class ProcessTable {
 public:
  virtual ~ProcessTable() = default;

  // Every process visible now (kernel threads excluded).
  virtual Result<std::vector<ProcessInfo>> List() = 0;
  // The process with this pid, or kNotFound when there is none.
  virtual Result<ProcessInfo> Get(pid_t pid) = 0;
  // Sends `signo` to the process only if it is still the one identified by (pid, start_ticks);
  // kNotFound when it is gone or the pid now belongs to another process.
  virtual Status Signal(pid_t pid, unsigned long long start_ticks, int signo) = 0;
  // Waits until the process (pid, start_ticks) has exited or `timeout` passed.
  // Returns true when it is gone.
  virtual bool WaitExit(pid_t pid, unsigned long long start_ticks,
                        std::chrono::milliseconds timeout) = 0;
  // Seconds since boot at which the process started (start_ticks / CLK_TCK), and the boot time,
  // let callers turn start_ticks into wall time.
  virtual std::chrono::system_clock::time_point StartTime(unsigned long long start_ticks) = 0;
};

}  // namespace ringfence
