#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/base/status.h"

namespace ringfence {

// The kernel's view of a process's TCP sockets, as text, so that what is made of it (the
// dependency discovery of core/observe/dependency_discovery.h) is parsed from fixture text in
// unit tests. The real one reads /proc (core/sys/system_process_table.h,
// MakeSystemSocketTable). Methods are thread-safe.
class SocketTable {
 public:
  virtual ~SocketTable() = default;

  // The inodes of the sockets `pid` holds open (its /proc/PID/fd links "socket:[INODE]"), in no
  // particular order. kNotFound when the process is gone, kPermission when its fds may not be
  // read; a descriptor closed while it is read is skipped.
  virtual Result<std::vector<uint64_t>> SocketInodes(pid_t pid) = 0;
  // The text of /proc/PID/net/tcp (ipv6 false) or /proc/PID/net/tcp6: the TCP sockets of the
  // network namespace `pid` lives in. kNotFound when the process is gone; an empty text when
  // the kernel has no IPv6.
  virtual Result<std::string> TcpTableText(pid_t pid, bool ipv6) = 0;
};

}  // namespace ringfence
