#include "tests/support/netns_traffic.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace ringfence::testing {

namespace {

sockaddr_in Ipv4(const std::string& addr, int port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, addr.c_str(), &sa.sin_addr);
  return sa;
}

// Binds to addr:0 and returns the port the kernel chose (0 on failure).
int BindEphemeral(int fd, const std::string& addr) {
  sockaddr_in sa = Ipv4(addr, 0);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) return 0;
  socklen_t len = sizeof sa;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) return 0;
  return ntohs(sa.sin_port);
}

}  // namespace

ScopedFd::~ScopedFd() {
  if (fd_ >= 0) ::close(fd_);
}

ScopedFd& ScopedFd::operator=(ScopedFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

ScopedFd SocketInNetns(const std::string& ns, int type) {
  if (ns.empty()) return ScopedFd(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
  ScopedFd own(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  ScopedFd target(::open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC));
  if (!own.ok() || !target.ok() || ::setns(target.get(), CLONE_NEWNET) != 0) return ScopedFd();
  ScopedFd fd(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
  if (::setns(own.get(), CLONE_NEWNET) != 0) {
    // Staying in the test namespace would make every later test wrong: stop here.
    std::perror("setns back to the test's own network namespace");
    std::abort();
  }
  return fd;
}

UdpSink::UdpSink(const std::string& ns, const std::string& addr)
    : fd_(SocketInNetns(ns, SOCK_DGRAM | SOCK_NONBLOCK)) {
  if (fd_.ok()) port_ = BindEphemeral(fd_.get(), addr);
}

int UdpSink::Drain(std::chrono::milliseconds quiet) {
  int count = 0;
  char buf[2048];
  // Bounded: at most 100000 datagrams, each wait at most `quiet`.
  for (int i = 0; i < 100000; ++i) {
    pollfd pfd{fd_.get(), POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(quiet.count())) <= 0) break;
    if (::recv(fd_.get(), buf, sizeof buf, 0) >= 0) ++count;
  }
  return count;
}

UdpDelivery SendUdp(const std::string& ns, const std::string& addr, int count, UdpSink& sink) {
  UdpDelivery delivery;
  ScopedFd fd = SocketInNetns(ns, SOCK_DGRAM);
  if (!fd.ok()) return delivery;
  const sockaddr_in to = Ipv4(addr, sink.port());
  constexpr int kBatch = 20;
  for (int i = 0; i < count; ++i) {
    const char payload[] = "ringfence";
    if (::sendto(fd.get(), payload, sizeof payload, 0, reinterpret_cast<const sockaddr*>(&to),
                 sizeof to) >= 0) {
      ++delivery.sent;
    } else {
      ++delivery.send_errors;
    }
    if ((i + 1) % kBatch == 0) delivery.received += sink.Drain(std::chrono::milliseconds(0));
  }
  delivery.received += sink.Drain(std::chrono::milliseconds(300));
  return delivery;
}

TcpListener::TcpListener(const std::string& ns, const std::string& addr)
    : fd_(SocketInNetns(ns, SOCK_STREAM | SOCK_NONBLOCK)) {
  if (!fd_.ok()) return;
  const int port = BindEphemeral(fd_.get(), addr);
  if (port != 0 && ::listen(fd_.get(), 64) == 0) port_ = port;
}

void TcpListener::DiscardPending() {
  for (int i = 0; i < 1000; ++i) {
    const int fd = ::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    ::close(fd);
  }
}

const char* ConnectOutcomeName(ConnectOutcome outcome) {
  switch (outcome) {
    case ConnectOutcome::kConnected:
      return "connected";
    case ConnectOutcome::kRefused:
      return "refused";
    case ConnectOutcome::kTimedOut:
      return "timed out";
    case ConnectOutcome::kOtherError:
      return "other error";
  }
  return "?";
}

ConnectOutcome ConnectFrom(const std::string& ns, const std::string& addr, int port,
                           std::chrono::milliseconds timeout) {
  ScopedFd fd = SocketInNetns(ns, SOCK_STREAM | SOCK_NONBLOCK);
  if (!fd.ok()) return ConnectOutcome::kOtherError;
  const sockaddr_in to = Ipv4(addr, port);
  int err = 0;
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
    if (errno != EINPROGRESS) {
      err = errno;
    } else {
      pollfd pfd{fd.get(), POLLOUT, 0};
      if (::poll(&pfd, 1, static_cast<int>(timeout.count())) == 0) return ConnectOutcome::kTimedOut;
      socklen_t len = sizeof err;
      ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    }
  }
  if (err == 0) return ConnectOutcome::kConnected;
  if (err == ECONNREFUSED || err == ECONNRESET) return ConnectOutcome::kRefused;
  return ConnectOutcome::kOtherError;
}

}  // namespace ringfence::testing
