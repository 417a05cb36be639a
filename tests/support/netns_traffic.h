#pragma once

#include <chrono>
#include <string>

namespace ringfence::testing {

// Real traffic between network namespaces (see NetnsPair), from the test process itself: a
// socket belongs to the namespace it was created in, so the calling thread enters a namespace
// only for the socket() call and returns to its own at once. IPv4 only. Requires root.

// A socket file descriptor, closed on destruction.
class ScopedFd {
 public:
  explicit ScopedFd(int fd = -1) : fd_(fd) {}
  ~ScopedFd();
  ScopedFd(ScopedFd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  ScopedFd& operator=(ScopedFd&& other) noexcept;
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// socket(AF_INET, type | SOCK_CLOEXEC, 0) inside network namespace `ns` ("" = the test's own).
// Invalid (ok() false) on failure.
ScopedFd SocketInNetns(const std::string& ns, int type);

// A UDP socket bound to addr:<ephemeral port> in `ns` that counts the datagrams it receives.
class UdpSink {
 public:
  UdpSink(const std::string& ns, const std::string& addr);
  bool ok() const { return port_ != 0; }
  int port() const { return port_; }
  // Reads every datagram that arrives until none has come for `quiet`; returns how many.
  int Drain(std::chrono::milliseconds quiet);

 private:
  ScopedFd fd_;
  int port_ = 0;
};

struct UdpDelivery {
  int sent = 0;         // sendto() succeeded
  int send_errors = 0;  // sendto() failed (e.g. EPERM: dropped by an output hook)
  int received = 0;     // counted by the sink
};

// Sends `count` small datagrams from namespace `ns` to the sink (at `addr`), in batches that the
// sink drains in between so that no socket buffer overflows, then drains for a quiet 300 ms.
UdpDelivery SendUdp(const std::string& ns, const std::string& addr, int count, UdpSink& sink);

// A TCP listening socket on addr:<ephemeral port> in `ns`.
class TcpListener {
 public:
  TcpListener(const std::string& ns, const std::string& addr);
  bool ok() const { return port_ != 0; }
  int port() const { return port_; }
  // Accepts and closes every connection waiting in the backlog.
  void DiscardPending();

 private:
  ScopedFd fd_;
  int port_ = 0;
};

enum class ConnectOutcome { kConnected, kRefused, kTimedOut, kOtherError };
const char* ConnectOutcomeName(ConnectOutcome outcome);

// A TCP connect from namespace `ns` to addr:port, given up after `timeout` (a bound, so that a
// blackholed connect ends; not a measurement).
ConnectOutcome ConnectFrom(const std::string& ns, const std::string& addr, int port,
                           std::chrono::milliseconds timeout);

}  // namespace ringfence::testing
