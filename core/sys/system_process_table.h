#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>

#include "core/base/process_table.h"
#include "core/base/socket_table.h"
#include "core/base/status.h"

namespace ringfence {

// The real process table of this host: reads /proc, signals through pidfds (so a signal can
// never reach a process that reused the pid). Kernel threads are invisible to List() and Get().
// Thread-safe.
std::unique_ptr<ProcessTable> MakeSystemProcessTable();

// The real socket table of this host: /proc/PID/fd and /proc/PID/net/tcp{,6}. Thread-safe.
std::unique_ptr<SocketTable> MakeSystemSocketTable();

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

}  // namespace ringfence
