#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

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
  char state = '?';     // R, S, D, T, Z, ...
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

// The real process table of this host: reads /proc, signals through pidfds (so a signal can
// never reach a process that reused the pid). Kernel threads are invisible to List() and Get().
// Thread-safe.
std::unique_ptr<ProcessTable> MakeSystemProcessTable();

// The fields of one /proc/PID/stat line that the process table uses. The line is parsed from
// its LAST ')' because comm (field 2) may itself contain spaces and ')'.
struct ProcStat {
  std::string comm;
  char state = '?';                    // field 3
  pid_t ppid = 0;                      // field 4
  unsigned long flags = 0;             // field 9 (PF_KTHREAD marks kernel threads)
  unsigned long long start_ticks = 0;  // field 22
};
// kInvalidInput "malformed /proc stat line: <text>" when `text` is not a stat line.
Result<ProcStat> ParseProcStat(std::string_view text);

// Runs a user command (argv, no shell) with a timeout; used by `restart_command`, command probes
// and rollbacks. The child dies with the runner (PR_SET_PDEATHSIG) and runs in a process group
// of its own: at the timeout, or as soon as `stop` (when given) is requested, the whole group
// gets SIGKILL (a shell's children too). Captures stdout and stderr (each capped at 64 KiB).
struct CommandResult {
  int exit_code = -1;  // -1 when it did not exit by itself (killed at the timeout or a stop)
  bool timed_out = false;
  bool interrupted = false;  // killed because `stop` was requested
  std::string out;
  std::string err;
};
Result<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                 std::chrono::milliseconds timeout,
                                 const StopSource* stop = nullptr);
// argv0 itself when it contains '/' (and is an executable file), else the first executable file
// of that name in PATH; nullopt when there is none.
std::optional<std::string> FindExecutable(const std::string& argv0);
// The absolute path of a system program (nft, ip, tc) in /usr/sbin, /sbin, /usr/bin or /bin,
// whatever PATH says (a runner started by cron or sudo may have a short one); nullopt when it is
// not installed. Absolute, so that a wrapper such as `ip netns exec` cannot fail to find it.
std::optional<std::string> FindSystemProgram(const std::string& name);
// The same, with `input` written to the child's stdin, then EOF, and up to 1 MiB of each output
// kept (a protocol's reply, e.g. `ringfence host` over ssh). A child that stops reading fails
// that write; the caller must ignore SIGPIPE so that it is not fatal to the runner.
Result<CommandResult> RunCommandWithInput(const std::vector<std::string>& argv,
                                          const std::string& input,
                                          std::chrono::milliseconds timeout);

}  // namespace ringfence
