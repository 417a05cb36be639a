#include "demo/service/demo_dependency.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

namespace ringfence::demo {

namespace {

// Waits until `fd` is ready for `events` or the deadline; false on timeout.
bool WaitFor(int fd, short events, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, events, 0};
    const int n = poll(&p, 1, static_cast<int>(left.count()));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return false;
  }
}

}  // namespace

std::optional<DependencySpec> ParseDependencySpec(const std::string& text, std::string& error) {
  error = "expected NAME=http://IPv4:PORT/PATH:hard|soft|timeout=MSms, got " + text;
  DependencySpec spec;
  const size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) return std::nullopt;
  spec.name = text.substr(0, eq);
  std::string rest = text.substr(eq + 1);
  const size_t mode_colon = rest.rfind(':');
  if (mode_colon == std::string::npos) return std::nullopt;
  const std::string mode = rest.substr(mode_colon + 1);
  std::string url = rest.substr(0, mode_colon);
  if (mode == "hard") {
    spec.mode = DependencyMode::kHard;
  } else if (mode == "soft") {
    spec.mode = DependencyMode::kSoft;
  } else if (mode.rfind("timeout=", 0) == 0 && mode.size() > 10 &&
             mode.compare(mode.size() - 2, 2, "ms") == 0) {
    int ms = 0;
    const char* begin = mode.data() + 8;
    const char* end = mode.data() + mode.size() - 2;
    auto [ptr, ec] = std::from_chars(begin, end, ms);
    if (ec != std::errc() || ptr != end || ms < 1 || ms > 60000) return std::nullopt;
    spec.mode = DependencyMode::kTimeout;
    spec.timeout = std::chrono::milliseconds(ms);
  } else {
    return std::nullopt;
  }
  constexpr std::string_view kScheme = "http://";
  if (url.rfind(kScheme, 0) != 0) return std::nullopt;
  url = url.substr(kScheme.size());
  const size_t slash = url.find('/');
  spec.path = slash == std::string::npos ? "/" : url.substr(slash);
  const std::string host_port = url.substr(0, slash);
  const size_t colon = host_port.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  spec.address = host_port.substr(0, colon);
  in_addr a{};
  if (inet_pton(AF_INET, spec.address.c_str(), &a) != 1) return std::nullopt;
  const std::string port = host_port.substr(colon + 1);
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), spec.port);
  if (ec != std::errc() || ptr != port.data() + port.size() || spec.port < 1 || spec.port > 65535) {
    return std::nullopt;
  }
  error.clear();
  return spec;
}

DependencyClient::DependencyClient(DependencySpec spec) : spec_(std::move(spec)) {}

DependencyClient::~DependencyClient() { Close(); }

void DependencyClient::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool DependencyClient::Open(std::chrono::steady_clock::time_point deadline) {
  Close();
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd_ < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(spec_.port));
  inet_pton(AF_INET, spec_.address.c_str(), &a.sin_addr);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    if (errno != EINPROGRESS || !WaitFor(fd_, POLLOUT, deadline)) {
      Close();
      return false;
    }
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      Close();
      return false;
    }
  }
  opened_ = std::chrono::steady_clock::now();
  return true;
}

void DependencyClient::Connect(std::chrono::milliseconds max_age) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  if (fd_ < 0 || now - opened_ > max_age) Open(now + spec_.timeout);
}

std::string DependencyClient::Call() {
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  const auto deadline = now + spec_.timeout;
  if (fd_ >= 0 && now - opened_ > kConnectionMaxAge) Close();
  if (fd_ < 0 && !Open(deadline)) {
    return std::chrono::steady_clock::now() >= deadline ? "timeout" : "error";
  }
  const std::string request = "GET " + spec_.path + " HTTP/1.1\r\nHost: " + spec_.address +
                              "\r\nConnection: keep-alive\r\n\r\n";
  size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(fd_, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR) && WaitFor(fd_, POLLOUT, deadline)) continue;
    Close();
    return std::chrono::steady_clock::now() >= deadline ? "timeout" : "error";
  }
  // The head, then Content-Length bytes of body.
  std::string reply;
  size_t body_start = std::string::npos;
  size_t length = 0;
  char buf[4096];
  for (;;) {
    if (body_start != std::string::npos && reply.size() >= body_start + length) break;
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      reply.append(buf, static_cast<size_t>(n));
      if (body_start == std::string::npos) {
        const size_t end = reply.find("\r\n\r\n");
        if (end != std::string::npos) {
          body_start = end + 4;
          const size_t cl = reply.find("Content-Length: ");
          if (cl != std::string::npos && cl < end) {
            length = static_cast<size_t>(std::atoi(reply.c_str() + cl + 16));
          }
        }
      }
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (WaitFor(fd_, POLLIN, deadline)) continue;
      Close();
      return "timeout";
    }
    Close();  // closed by the peer, or reset
    return "error";
  }
  const bool ok = reply.rfind("HTTP/1.1 2", 0) == 0 || reply.rfind("HTTP/1.0 2", 0) == 0;
  if (!ok) Close();
  return ok ? "ok" : "error";
}

}  // namespace ringfence::demo
