// bench/latency_proxy: how accurate the latency fault's proxy delay is, and whether the proxy
// is a bottleneck. Loopback only, bounded.
//
//  1. Delay: for a requested delay of 0, 10 and 100 ms (downstream), kConnections clients each
//     make kRequestsPerConnection request/response round trips through the proxy; the added
//     delay of a round trip is its time minus the median direct round trip measured the same
//     way in this run. Prints p50 and p99 of the added delay.
//  2. Throughput: kTransferBytes downloads from a server, direct, through the proxy (0 ms) and
//     through socat (default options), in kTransferRuns interleaved rounds; the best of each,
//     as ratios to direct.
// Ends with one JSON line.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/clock.h"
#include "core/fault/fault.h"
#include "core/sys/system_clock.h"
#include "core/sys/system_env.h"
#include "faults/latency/latency_config.h"

namespace {

using namespace ringfence;
using SteadyClock = std::chrono::steady_clock;

constexpr int kConnections = 20;
constexpr int kRequestsPerConnection = 50;  // 1000 round trips per delay
constexpr size_t kRequestBytes = 64;
constexpr uint64_t kTransferBytes = uint64_t{1} << 30;  // 1 GiB
constexpr int kTransferRuns = 5;

double Ms(SteadyClock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

sockaddr_in Loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

int Listen(uint16_t* port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a = Loopback(0);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 128) != 0) {
    std::perror("bind");
    std::exit(1);
  }
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  *port = ntohs(a.sin_port);
  return fd;
}

int Connect(uint16_t port) {
  for (int attempt = 0; attempt < 100; ++attempt) {  // socat needs a moment to listen
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in a = Loopback(port);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) return fd;
    ::close(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::fprintf(stderr, "cannot connect to port %u\n", port);
  std::exit(1);
}

bool ReadExactly(int fd, char* buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    const ssize_t r = ::read(fd, buf + got, n - got);
    if (r <= 0) return false;
    got += static_cast<size_t>(r);
  }
  return true;
}

// Echoes fixed-size requests, one thread per connection; closes with the listener.
class EchoServer {
 public:
  EchoServer() {
    fd_ = Listen(&port_);
    thread_ = std::thread([this] {
      for (;;) {
        const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) return;
        int one = 1;
        ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        workers_.emplace_back([c] {
          char buf[kRequestBytes];
          while (ReadExactly(c, buf, sizeof buf)) {
            if (::write(c, buf, sizeof buf) != static_cast<ssize_t>(sizeof buf)) break;
          }
          ::close(c);
        });
      }
    });
  }
  ~EchoServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
    for (auto& w : workers_) w.join();
  }
  uint16_t port() const { return port_; }

 private:
  int fd_;
  uint16_t port_ = 0;
  std::thread thread_;
  std::vector<std::thread> workers_;
};

// Sends kTransferBytes to every connection, then closes it.
class SourceServer {
 public:
  SourceServer() {
    fd_ = Listen(&port_);
    thread_ = std::thread([this] {
      std::vector<char> block(1 << 20, 'x');
      for (;;) {
        const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) return;
        uint64_t sent = 0;
        while (sent < kTransferBytes) {
          const ssize_t n =
              ::write(c, block.data(), std::min<uint64_t>(block.size(), kTransferBytes - sent));
          if (n <= 0) break;
          sent += static_cast<uint64_t>(n);
        }
        ::close(c);
      }
    });
  }
  ~SourceServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  uint16_t port() const { return port_; }

 private:
  int fd_;
  uint16_t port_ = 0;
  std::thread thread_;
};

// Round-trip times (ms) of kConnections × kRequestsPerConnection requests to `port`.
std::vector<double> RoundTrips(uint16_t port) {
  std::vector<std::vector<double>> per(kConnections);
  std::vector<std::thread> clients;
  for (int i = 0; i < kConnections; ++i) {
    clients.emplace_back([&, i] {
      const int fd = Connect(port);
      char buf[kRequestBytes] = {};
      for (int r = 0; r < kRequestsPerConnection; ++r) {
        const auto start = SteadyClock::now();
        if (::write(fd, buf, sizeof buf) != static_cast<ssize_t>(sizeof buf) ||
            !ReadExactly(fd, buf, sizeof buf)) {
          std::fprintf(stderr, "round trip failed\n");
          std::exit(1);
        }
        per[i].push_back(Ms(SteadyClock::now() - start));
      }
      ::close(fd);
    });
  }
  for (auto& c : clients) c.join();
  std::vector<double> all;
  for (auto& v : per) all.insert(all.end(), v.begin(), v.end());
  return all;
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p / 100.0 * double(v.size())));
  return v[i];
}

// CPU time (user + system, all threads) this process has used.
double ProcessCpuSeconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

struct Transfer {
  double mbps = 0;
  double cpu_seconds = 0;  // of this process: client, source server and (if used) the proxy
};

// One download from `port`.
Transfer Download(uint16_t port) {
  std::vector<char> buf(1 << 20);
  const int fd = Connect(port);
  const double cpu_start = ProcessCpuSeconds();
  const auto start = SteadyClock::now();
  uint64_t got = 0;
  ssize_t n;
  while ((n = ::read(fd, buf.data(), buf.size())) > 0) got += static_cast<uint64_t>(n);
  const double seconds = Ms(SteadyClock::now() - start) / 1000.0;
  const double cpu = ProcessCpuSeconds() - cpu_start;
  ::close(fd);
  if (got != kTransferBytes) {
    std::fprintf(stderr, "transfer got %llu bytes\n", static_cast<unsigned long long>(got));
    std::exit(1);
  }
  return {double(got) / seconds / 1e6, cpu};
}

// Keeps the round with the highest throughput.
void KeepBest(Transfer& best, const Transfer& t) {
  if (t.mbps > best.mbps) best = t;
}

// The latency fault in explicit mode in front of `upstream_port`, injected and reverted the way
// the engine does it.
class ProxyFault {
 public:
  ProxyFault(uint16_t upstream_port, const std::string& delay) : env_{system_env_, stop_, "bench"} {
    factory_ = FaultRegistry::Global().Find("latency");
    FaultStep step;
    step.name = "latency-bench";
    step.type = "latency";
    step.params = {{"backend", "proxy"},
                   {"listen", "127.0.0.1:0"},
                   {"upstream", "127.0.0.1:" + std::to_string(upstream_port)},
                   {"delay", delay},
                   {"in_flight", "reset"},
                   {"seed", 1}};
    for (const ParamDecl& p : LatencyDeclaration().params) {
      if (!step.params.contains(p.name) && !p.default_value.is_null()) {
        step.params[p.name] = p.default_value;
      }
    }
    fault_ = factory_->Create(step, TargetSpec{});
    target_.label = "host local";
    Status s = fault_->Prepare(env_, {target_});
    auto undo = s.ok() ? fault_->PlanUndo(env_, target_) : Result<UndoRecord>(s);
    if (!undo.ok()) {
      std::fprintf(stderr, "latency: %s\n", undo.status().message().c_str());
      std::exit(1);
    }
    undo_ = *undo;
    s = fault_->Inject(env_, target_, undo_);
    if (!s.ok()) {
      std::fprintf(stderr, "latency inject: %s\n", s.message().c_str());
      std::exit(1);
    }
    port_ = ParseSocketAddress(fault_->Observe(env_).value("listen", ""))->port;
  }
  ~ProxyFault() {
    if (!factory_->Revert(env_, undo_).ok()) std::fprintf(stderr, "revert failed\n");
  }
  uint16_t port() const { return port_; }
  nlohmann::json Observe() { return fault_->Observe(env_); }

 private:
  SystemEnv system_env_;  // the latency fault touches no process
  StopSource stop_;
  FaultEnv env_;
  const FaultFactory* factory_;
  std::unique_ptr<Fault> fault_;
  Target target_;
  UndoRecord undo_;
  uint16_t port_ = 0;
};

// `socat` forwarding a free port to `upstream_port`; killed and reaped on destruction.
class Socat {
 public:
  explicit Socat(uint16_t upstream_port) {
    uint16_t port = 0;
    const int probe = Listen(&port);  // a free port for socat to take
    ::close(probe);
    port_ = port;
    const std::string listen =
        "TCP-LISTEN:" + std::to_string(port) + ",bind=127.0.0.1,reuseaddr,fork";
    const std::string connect = "TCP:127.0.0.1:" + std::to_string(upstream_port) + ",nodelay";
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::execl("/usr/bin/socat", "socat", listen.c_str(), connect.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~Socat() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  uint16_t port() const { return port_; }

 private:
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

}  // namespace

int main() {
  ::signal(SIGPIPE, SIG_IGN);
  nlohmann::json result = {{"bench", "latency_proxy"},
                           {"connections", kConnections},
                           {"requests_per_delay", kConnections * kRequestsPerConnection}};
  EchoServer echo;
  const std::vector<double> direct_rtt = RoundTrips(echo.port());
  const double direct_p50 = Percentile(direct_rtt, 50);
  std::printf("direct round trip: p50 %.3f ms  p99 %.3f ms  (%zu requests, %d connections)\n",
              direct_p50, Percentile(direct_rtt, 99), direct_rtt.size(), kConnections);
  result["direct_rtt_ms"] = {{"p50", direct_p50}, {"p99", Percentile(direct_rtt, 99)}};

  nlohmann::json delays = nlohmann::json::array();
  for (int requested : {0, 10, 100}) {
    ProxyFault proxy(echo.port(), std::to_string(requested) + "ms");
    std::vector<double> added = RoundTrips(proxy.port());
    for (double& a : added) a -= direct_p50;
    const double p50 = Percentile(added, 50), p99 = Percentile(added, 99);
    const nlohmann::json observed = proxy.Observe();
    std::printf(
        "requested %3d ms: added p50 %8.3f ms  p99 %8.3f ms  (p50 error %+.3f ms; "
        "proxy timer lateness mean %.0f us)\n",
        requested, p50, p99, p50 - requested, observed["lateness_us"]["mean"].get<double>());
    delays.push_back({{"requested_ms", requested},
                      {"added_p50_ms", p50},
                      {"added_p99_ms", p99},
                      {"p50_error_ms", p50 - requested}});
  }
  result["delay"] = delays;

  // Interleaved (direct, proxy, socat) rounds so that a busy moment of this shared machine hits
  // all three alike; the best round of each counts.
  SourceServer source;
  Transfer direct, proxied, socat_run;
  {
    ProxyFault proxy(source.port(), "0ms");
    Socat socat(source.port());
    for (int run = 0; run < kTransferRuns; ++run) {
      KeepBest(direct, Download(source.port()));
      KeepBest(proxied, Download(proxy.port()));
      KeepBest(socat_run, Download(socat.port()));
    }
  }
  const double direct_mbps = direct.mbps, proxy_mbps = proxied.mbps, socat_mbps = socat_run.mbps;
  std::printf(
      "1 GiB download, best of %d: direct %.0f MB/s  proxy %.0f MB/s (%.2f)  socat %.0f "
      "MB/s (%.2f)\n",
      kTransferRuns, direct_mbps, proxy_mbps, proxy_mbps / direct_mbps, socat_mbps,
      socat_mbps / direct_mbps);
  // Loopback transfers are CPU-bound on a small machine: CPU seconds per GiB tell what the proxy
  // hop costs (socat's own CPU is in its process and not counted here).
  std::printf("CPU of this process per GiB: direct %.2f s, through the proxy %.2f s\n",
              direct.cpu_seconds, proxied.cpu_seconds);
  result["throughput"] = {{"bytes", kTransferBytes},
                          {"direct_cpu_s", direct.cpu_seconds},
                          {"proxy_cpu_s", proxied.cpu_seconds},
                          {"direct_MBps", direct_mbps},
                          {"proxy_MBps", proxy_mbps},
                          {"socat_MBps", socat_mbps},
                          {"proxy_vs_direct", proxy_mbps / direct_mbps},
                          {"socat_vs_direct", socat_mbps / direct_mbps},
                          {"proxy_vs_socat", proxy_mbps / socat_mbps}};
  const double error_100 = std::abs(delays[2]["p50_error_ms"].get<double>());
  result["targets"] = {{"p50_error_at_100ms_le_1ms", error_100 <= 1.0},
                       {"proxy_ge_80pct_of_direct", proxy_mbps >= 0.8 * direct_mbps}};
  std::printf("%s\n", result.dump().c_str());
  return 0;
}
