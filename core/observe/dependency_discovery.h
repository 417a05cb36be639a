#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/clock.h"
#include "core/base/process_table.h"
#include "core/base/socket_table.h"
#include "core/base/status.h"

namespace ringfence {

// An address and port as the kernel reports them. An IPv4-mapped IPv6 address
// (::ffff:127.0.0.1) is read as the IPv4 address it maps, so that a dependency is one endpoint
// whichever socket family reached it.
struct TcpEndpoint {
  std::string address;  // "127.0.0.1", "::1" (inet_ntop's text)
  uint16_t port = 0;
  bool ipv6 = false;

  // "127.0.0.1:5432", "[::1]:5432".
  std::string Format() const;
  // 127.0.0.0/8 or ::1.
  bool loopback() const;
  // 0.0.0.0 or ::.
  bool wildcard() const;
  bool operator==(const TcpEndpoint&) const = default;
  auto operator<=>(const TcpEndpoint&) const = default;
};

// The TCP states of include/net/tcp_states.h that discovery tells apart.
inline constexpr int kTcpEstablished = 0x01;
inline constexpr int kTcpSynSent = 0x02;
inline constexpr int kTcpListen = 0x0A;

// One line of /proc/net/tcp or tcp6.
struct TcpSocketLine {
  TcpEndpoint local;
  TcpEndpoint remote;
  int state = 0;
  uint64_t inode = 0;
};

// Parses the text of /proc/net/tcp (ipv6 false) or tcp6: the header line, then one socket per
// line. kInvalidInput "/proc/net/tcp line 3: <what>" on a line that is not a socket line.
Result<std::vector<TcpSocketLine>> ParseTcpTable(std::string_view text, bool ipv6);

// A local process, as discovery names it.
struct ListeningProcess {
  pid_t pid = 0;
  std::string name;  // /proc/PID/comm
};

// A remote endpoint the service's processes had outbound connections to during the window.
struct DiscoveredDependency {
  TcpEndpoint remote;
  std::vector<pid_t> clients;  // the service's processes that connected to it, ascending
  int samples_seen = 0;        // samples with at least one connection to it open
  int max_connections = 0;     // the most connections to it open in one sample
  // For a loopback endpoint, the local process listening on it (when one was found and its
  // descriptors could be read).
  std::optional<ListeningProcess> listener;
};

struct DiscoveryOptions {
  std::chrono::milliseconds window{std::chrono::seconds(5)};
  std::chrono::milliseconds interval{std::chrono::milliseconds(250)};
};

struct DiscoveryResult {
  int samples = 0;
  std::vector<DiscoveredDependency> dependencies;  // ordered by endpoint
  // What could not be read (a process that exited during the window, a table refused); the
  // discovery goes on with what it could read.
  std::vector<std::string> notes;
};

// Samples the live outbound TCP connections of `pids` over `options.window` (a sample at the
// start, then one every `options.interval`, the last at the end of the window) and groups them
// by remote endpoint. Outbound means established or connecting, from a local address that is
// not a listening one (an accepted connection's local side is a listener's port). Each sample
// matches the socket inodes of every pid (/proc/PID/fd) against its namespace's tcp and tcp6
// tables. After the window, the listener of each loopback endpoint is looked for among every
// process of `processes` (the one holding the inode of a LISTEN socket on that port).
//
// Errors: kInvalidInput for no pids or a window or interval that is not positive; kNotFound when
// none of the pids could be read in any sample. A stop request ends the window early with what
// was sampled so far. Thread-compatible; the tables must be thread-safe.
Result<DiscoveryResult> DiscoverDependencies(const std::vector<pid_t>& pids,
                                             const DiscoveryOptions& options, SocketTable& sockets,
                                             ProcessTable& processes, Clock& clock,
                                             StopSource& stop);

}  // namespace ringfence
