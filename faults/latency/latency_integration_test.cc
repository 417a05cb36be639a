// The latency fault against real sockets, real nftables and real network namespaces.
// Requires root. Every test removes what it made (proxies, nft tables, namespaces, threads).

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/base/clock.h"
#include "core/fault/fault.h"
#include "core/sys/system_clock.h"
#include "core/sys/system_env.h"
#include "faults/latency/latency_config.h"
#include "tests/support/fake_process_table.h"
#include "tests/support/netns.h"
#include "tests/support/processes.h"

namespace ringfence {
namespace {

using std::chrono::milliseconds;
using testing::NetnsPair;

// ---- Helpers ---------------------------------------------------------------------------------

// Runs `fn` on a thread that first enters network namespace `netns` ("" = stay here).
void RunInNetns(const std::string& netns, const std::function<void()>& fn) {
  std::thread t([&] {
    if (!netns.empty()) {
      const int fd = ::open(("/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) {
        ADD_FAILURE() << "cannot enter netns " << netns << ": " << std::strerror(errno);
        if (fd >= 0) ::close(fd);
        return;
      }
      ::close(fd);
    }
    fn();
  });
  t.join();
}

sockaddr_in Ipv4(const std::string& ip, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  return a;
}

uint16_t LocalPort(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

// A TCP server that answers every line with "peer <port>\n", the source port it sees: a client
// whose own port differs went through a proxy. Counts the connections it accepted. Runs in a
// namespace of its choice; stops (and joins) in the destructor.
class PeerPortServer {
 public:
  // `serve_now` false: bound, but serving starts with StartServing() (e.g. after a fork).
  explicit PeerPortServer(const std::string& netns = "", const std::string& ip = "127.0.0.1",
                          bool serve_now = true) {
    RunInNetns(netns, [&] {
      listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      int one = 1;
      ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      sockaddr_in a = Ipv4(ip, 0);
      if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
          ::listen(listen_fd_, 64) != 0) {
        ADD_FAILURE() << "server bind: " << std::strerror(errno);
      }
      port_ = LocalPort(listen_fd_);
    });
    if (serve_now) StartServing();
  }
  ~PeerPortServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    for (int fd : clients_) ::close(fd);
    ::close(listen_fd_);
  }
  void StartServing() {
    thread_ = std::thread([this] { Serve(); });
  }
  uint16_t port() const { return port_; }
  int accepted() const { return accepted_.load(); }

 private:
  void Serve() {
    while (!stop_) {
      std::vector<pollfd> fds = {{listen_fd_, POLLIN, 0}};
      for (int fd : clients_) fds.push_back({fd, POLLIN, 0});
      if (::poll(fds.data(), fds.size(), 20) <= 0) continue;
      if (fds[0].revents & POLLIN) {
        sockaddr_in peer{};
        socklen_t len = sizeof peer;
        const int fd =
            ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
        if (fd >= 0) {
          int one = 1;
          ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          clients_.push_back(fd);
          peers_.push_back(ntohs(peer.sin_port));
          accepted_.fetch_add(1);
        }
      }
      for (size_t i = 1; i < fds.size(); ++i) {
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        char buf[4096];
        const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
        const size_t at = i - 1;
        if (n <= 0) {
          ::close(clients_[at]);
          clients_[at] = -1;
          continue;
        }
        const std::string reply = "peer " + std::to_string(peers_[at]) + "\n";
        if (::write(fds[i].fd, reply.data(), reply.size()) < 0) continue;
      }
      for (size_t i = clients_.size(); i-- > 0;) {
        if (clients_[i] < 0) {
          clients_.erase(clients_.begin() + static_cast<long>(i));
          peers_.erase(peers_.begin() + static_cast<long>(i));
        }
      }
    }
  }

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::vector<int> clients_;
  std::vector<uint16_t> peers_;
  std::thread thread_;
};

// One client connection (blocking, with receive timeouts), created in a namespace.
class Client {
 public:
  Client(const std::string& netns, const std::string& ip, uint16_t port) {
    RunInNetns(netns, [&] {
      fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      int one = 1;
      ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      timeval tv{5, 0};
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      sockaddr_in a = Ipv4(ip, port);
      connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
      connect_errno_ = connected_ ? 0 : errno;
    });
  }
  ~Client() { ::close(fd_); }
  bool connected() const { return connected_; }
  int connect_errno() const { return connect_errno_; }
  uint16_t local_port() const { return LocalPort(fd_); }

  // Sends a line and waits for one line back. Returns the reply ("" on error; errno in *err).
  std::string Ask(milliseconds* rtt = nullptr, int* err = nullptr) {
    const auto start = std::chrono::steady_clock::now();
    if (::send(fd_, "ping\n", 5, MSG_NOSIGNAL) != 5) {
      if (err) *err = errno;
      return "";
    }
    std::string reply;
    char c;
    while (reply.empty() || reply.back() != '\n') {
      const ssize_t n = ::recv(fd_, &c, 1, 0);
      if (n <= 0) {
        if (err) *err = n == 0 ? 0 : errno;
        return "";
      }
      reply += c;
    }
    if (rtt) {
      *rtt = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start);
    }
    return reply;
  }

  // True when nothing arrives within `wait` (the connection stays silent and open).
  bool SilentFor(milliseconds wait) {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(wait.count())) == 0;
  }

  // What a read returns now: >0 data, 0 EOF, -errno on error.
  int ReadResult() {
    char c;
    const ssize_t n = ::recv(fd_, &c, 1, 0);
    return n >= 0 ? static_cast<int>(n) : -errno;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  int connect_errno_ = 0;
};

// Params with every declared default filled in, as the loader gives them.
nlohmann::json WithLatencyDefaults(nlohmann::json params) {
  for (const ParamDecl& p : LatencyDeclaration().params) {
    if (!params.contains(p.name) && !p.default_value.is_null()) params[p.name] = p.default_value;
  }
  return params;
}

// One latency injection driven the way the engine drives it.
class Injection {
 public:
  Injection(nlohmann::json params, std::string run_id = "latency-test")
      : env_{system_env_, stop_, std::move(run_id)} {
    factory_ = FaultRegistry::Global().Find("latency");
    step_.name = "latency-0";
    step_.type = "latency";
    step_.params = WithLatencyDefaults(std::move(params));
    step_.duration = std::chrono::seconds(10);
    fault_ = factory_->Create(step_, TargetSpec{});
    target_.label = "host local";
  }
  ~Injection() {
    if (injected_ && !reverted_) (void)Revert();
  }

  Status Prepare() { return fault_->Prepare(env_, {target_}); }
  Status Start() {
    Status prepared = Prepare();
    if (!prepared.ok()) return prepared;
    auto undo = fault_->PlanUndo(env_, target_);
    if (!undo.ok()) return undo.status();
    undo_ = *undo;
    injected_ = true;
    return fault_->Inject(env_, target_, undo_);
  }
  Status Revert() {
    reverted_ = true;
    return factory_->Revert(env_, undo_);
  }
  nlohmann::json Observe() { return fault_->Observe(env_); }
  const UndoRecord& undo() const { return undo_; }
  FaultEnv& env() { return env_; }
  const FaultFactory& factory() const { return *factory_; }

  uint16_t ProxyPort() {
    auto listen = ParseSocketAddress(Observe().value("listen", ""));
    return listen ? listen->port : 0;
  }

 private:
  testing::FakeProcessTable processes_;  // latency touches no process
  SystemEnv system_env_{processes_};
  StopSource stop_;
  FaultEnv env_;
  const FaultFactory* factory_ = nullptr;
  FaultStep step_;
  Target target_;
  std::unique_ptr<Fault> fault_;
  UndoRecord undo_;
  bool injected_ = false;
  bool reverted_ = false;
};

std::string NftTables(const std::string& netns) {
  std::string out;
  EXPECT_EQ(NetnsPair::Run(NetnsPair::In(netns, {"nft", "list", "tables"}), &out), 0);
  return out;
}

// Whether a request from `client_ns` to `ip:port` went through a proxy (the server saw another
// source port than the client's own). nullopt when no reply came.
std::optional<bool> Proxied(const std::string& client_ns, const std::string& ip, uint16_t port,
                            milliseconds* rtt = nullptr) {
  Client client(client_ns, ip, port);
  if (!client.connected()) return std::nullopt;
  const std::string reply = client.Ask(rtt);
  if (reply.empty()) return std::nullopt;
  return reply != "peer " + std::to_string(client.local_port()) + "\n";
}

std::string Upstream(const PeerPortServer& server) {
  return "127.0.0.1:" + std::to_string(server.port());
}

// Echoes everything on one connection until EOF, then half-closes. Joined in the destructor.
class BulkEchoServer {
 public:
  BulkEchoServer() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a = Ipv4("127.0.0.1", 0);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(listen_fd_, 4) != 0) {
      ADD_FAILURE() << "bind: " << std::strerror(errno);
    }
    port_ = LocalPort(listen_fd_);
    thread_ = std::thread([this] {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 10000) != 1) return;
      const int c = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;
      std::vector<char> buf(1 << 16);
      ssize_t n;
      while ((n = ::read(c, buf.data(), buf.size())) > 0) {
        if (::write(c, buf.data(), static_cast<size_t>(n)) != n) break;
      }
      ::shutdown(c, SHUT_WR);
      ::close(c);
    });
  }
  ~BulkEchoServer() {
    thread_.join();
    ::close(listen_fd_);
  }
  uint16_t port() const { return port_; }

 private:
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
};

// Sends `bytes` of a pattern through `port`, half-closes, and reads everything back. True when
// exactly the same bytes came back and the far side's EOF arrived.
bool EchoesIntact(uint16_t port, size_t bytes) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in a = Ipv4("127.0.0.1", port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return false;
  }
  std::vector<char> sent(bytes);
  for (size_t i = 0; i < bytes; ++i) sent[i] = static_cast<char>((i * 7919) >> 3);
  std::thread writer([&] {
    size_t off = 0;
    while (off < bytes) {
      const ssize_t n = ::send(fd, sent.data() + off, bytes - off, MSG_NOSIGNAL);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    ::shutdown(fd, SHUT_WR);
  });
  std::vector<char> got;
  std::vector<char> buf(1 << 16);
  ssize_t n;
  while ((n = ::read(fd, buf.data(), buf.size())) > 0)
    got.insert(got.end(), buf.data(), buf.data() + n);
  const bool clean_eof = n == 0;
  writer.join();
  ::close(fd);
  return clean_eof && got == sent;
}

// ---- Explicit mode ---------------------------------------------------------------------------

TEST(LatencyExplicitTest, ForwardsBulkDataIntactBothWaysShapedOrNot) {
  for (const char* delay : {"0ms", "5ms"}) {  // the zero-copy path and the timed path
    BulkEchoServer server;
    Injection fault({{"backend", "proxy"},
                     {"listen", "127.0.0.1:0"},
                     {"upstream", "127.0.0.1:" + std::to_string(server.port())},
                     {"delay", delay},
                     {"direction", "both"}});
    ASSERT_TRUE(fault.Start().ok());
    EXPECT_TRUE(EchoesIntact(fault.ProxyPort(), 8 << 20)) << "delay " << delay;
    EXPECT_EQ(fault.Observe()["bytes"]["to_client"], 8 << 20);
    EXPECT_TRUE(fault.Revert().ok());
  }
}

TEST(LatencyExplicitTest, RateCapHoldsATransferBack) {
  BulkEchoServer server;
  Injection fault({{"backend", "proxy"},
                   {"listen", "127.0.0.1:0"},
                   {"upstream", "127.0.0.1:" + std::to_string(server.port())},
                   {"rate_kbit", 8000}});  // 1 MB/s downstream
  ASSERT_TRUE(fault.Start().ok());
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(EchoesIntact(fault.ProxyPort(), 400000));
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(390));
  EXPECT_TRUE(fault.Revert().ok());
}

TEST(LatencyExplicitTest, AddsAtLeastTheRequestedDelayToEveryReply) {
  PeerPortServer server;
  Injection fault({{"backend", "proxy"},
                   {"listen", "127.0.0.1:0"},
                   {"upstream", Upstream(server)},
                   {"delay", "60ms"}});
  ASSERT_TRUE(fault.Start().ok());
  const uint16_t proxy_port = fault.ProxyPort();
  ASSERT_NE(proxy_port, 0);
  {
    Client client("", "127.0.0.1", proxy_port);
    ASSERT_TRUE(client.connected());
    for (int i = 0; i < 5; ++i) {
      milliseconds rtt{0};
      const std::string reply = client.Ask(&rtt);
      ASSERT_FALSE(reply.empty());
      EXPECT_NE(reply, "peer " + std::to_string(client.local_port()) + "\n");  // via the proxy
      EXPECT_GE(rtt, milliseconds(60));
    }
  }
  const nlohmann::json observed = fault.Observe();
  EXPECT_EQ(observed["mode"], "explicit");
  EXPECT_EQ(observed["connections"]["accepted"], 1);
  EXPECT_EQ(observed["connections"]["proxied"], 1);
  EXPECT_EQ(observed["bytes"]["to_upstream"], 25);
  EXPECT_EQ(observed["seed"], LatencySeedFor("latency-test", "latency-0"));
  ASSERT_TRUE(fault.Revert().ok());
  Client after("", "127.0.0.1", proxy_port);
  EXPECT_FALSE(after.connected());
  EXPECT_EQ(after.connect_errno(), ECONNREFUSED);
}

TEST(LatencyExplicitTest, BothDirectionsAddTheDelayTwice) {
  PeerPortServer server;
  Injection fault({{"backend", "proxy"},
                   {"listen", "127.0.0.1:0"},
                   {"upstream", Upstream(server)},
                   {"delay", "40ms"},
                   {"direction", "both"},
                   {"jitter", "5ms"},
                   {"seed", 7}});
  ASSERT_TRUE(fault.Start().ok());
  {
    Client client("", "127.0.0.1", fault.ProxyPort());
    for (int i = 0; i < 3; ++i) {
      milliseconds rtt{0};
      ASSERT_FALSE(client.Ask(&rtt).empty());
      EXPECT_GE(rtt, milliseconds(2 * (40 - 5)));
    }
  }
  EXPECT_EQ(fault.Observe()["seed"], 7);
  EXPECT_TRUE(fault.Revert().ok());
}

TEST(LatencyExplicitTest, ResetPercent100ResetsEveryConnection) {
  PeerPortServer server;
  Injection fault({{"backend", "proxy"},
                   {"listen", "127.0.0.1:0"},
                   {"upstream", Upstream(server)},
                   {"reset_percent", 100}});
  ASSERT_TRUE(fault.Start().ok());
  for (int i = 0; i < 5; ++i) {
    Client client("", "127.0.0.1", fault.ProxyPort());
    ASSERT_TRUE(client.connected());
    int err = -1;
    EXPECT_EQ(client.Ask(nullptr, &err), "");
    EXPECT_EQ(err, ECONNRESET);
  }
  EXPECT_EQ(server.accepted(), 0);
  const nlohmann::json observed = fault.Observe();
  EXPECT_EQ(observed["connections"]["accepted"], 5);
  EXPECT_EQ(observed["connections"]["reset"], 5);
  EXPECT_TRUE(fault.Revert().ok());
}

TEST(LatencyExplicitTest, BlackholeAcceptsAndNeverAnswers) {
  PeerPortServer server;
  Injection fault({{"backend", "proxy"},
                   {"listen", "127.0.0.1:0"},
                   {"upstream", Upstream(server)},
                   {"blackhole", true}});
  ASSERT_TRUE(fault.Start().ok());
  Client client("", "127.0.0.1", fault.ProxyPort());
  ASSERT_TRUE(client.connected());
  EXPECT_TRUE(client.SilentFor(milliseconds(300)));
  EXPECT_EQ(server.accepted(), 0);
  EXPECT_EQ(fault.Observe()["connections"]["blackholed"], 1);
  ASSERT_TRUE(fault.Revert().ok());
  EXPECT_EQ(client.ReadResult(), 0);  // closed (FIN) at revert
}

TEST(LatencyExplicitTest, RevertWithInFlightResetResetsOpenConnections) {
  PeerPortServer server;
  Injection fault({{"backend", "proxy"},
                   {"listen", "127.0.0.1:0"},
                   {"upstream", Upstream(server)},
                   {"in_flight", "reset"}});
  ASSERT_TRUE(fault.Start().ok());
  Client client("", "127.0.0.1", fault.ProxyPort());
  ASSERT_FALSE(client.Ask().empty());
  ASSERT_TRUE(fault.Revert().ok());
  EXPECT_EQ(client.ReadResult(), -ECONNRESET);
  EXPECT_EQ(fault.Observe()["connections"]["reset_at_stop"], 1);
}

TEST(LatencyExplicitTest, RevertWithInFlightFinishLetsOpenConnectionsComplete) {
  PeerPortServer server;
  Injection fault({{"backend", "proxy"},
                   {"listen", "127.0.0.1:0"},
                   {"upstream", Upstream(server)},
                   {"delay", "20ms"},
                   {"in_flight", "finish"},
                   {"finish_timeout", "10s"}});
  ASSERT_TRUE(fault.Start().ok());
  const uint16_t proxy_port = fault.ProxyPort();
  auto client = std::make_unique<Client>("", "127.0.0.1", proxy_port);
  ASSERT_FALSE(client->Ask().empty());
  Status reverted = Status::Runtime("not yet");
  std::thread revert([&] { reverted = fault.Revert(); });
  // The listener closes first: new connections are refused while the open one still works.
  EXPECT_TRUE(
      testing::Eventually([&] { return !Client("", "127.0.0.1", proxy_port).connected(); }));
  EXPECT_FALSE(client->Ask().empty());
  client.reset();  // the client finishes: the revert can end
  revert.join();
  EXPECT_TRUE(reverted.ok());
  EXPECT_EQ(fault.Observe()["connections"]["reset_at_stop"], 0);
}

TEST(LatencyExplicitTest, RevertIsIdempotent) {
  PeerPortServer server;
  Injection fault(
      {{"backend", "proxy"}, {"listen", "127.0.0.1:0"}, {"upstream", Upstream(server)}});
  ASSERT_TRUE(fault.Start().ok());
  EXPECT_TRUE(fault.Revert().ok());
  EXPECT_TRUE(fault.Revert().ok());
}

TEST(LatencyExplicitTest, RevertRefusesARecordNamingAForeignTable) {
  Injection fault(nlohmann::json{{"port", 80}});
  UndoRecord undo;
  undo.fault_type = "latency";
  undo.data = {{"backend", "proxy"},
               {"mode", "transparent"},
               {"instance", "x"},
               {"nft_table", "filter"},
               {"netns", ""}};
  Status s = fault.factory().Revert(fault.env(), undo);
  EXPECT_EQ(s.code(), StatusCode::kInvalidInput);
  EXPECT_EQ(s.message(), "latency: refusing to delete nft table 'filter': not a ringfence table");
}

TEST(LatencyExplicitTest, PrepareRefusesAnAddressInUse) {
  PeerPortServer server;
  Injection fault(
      {{"backend", "proxy"}, {"listen", Upstream(server)}, {"upstream", Upstream(server)}});
  Status s = fault.Prepare();
  EXPECT_EQ(s.code(), StatusCode::kRuntime);
  EXPECT_EQ(s.message(), "listen on " + Upstream(server) + ": Address already in use");
}

TEST(LatencyExplicitTest, PrepareRefusesAMissingNamespace) {
  Injection fault({{"backend", "proxy"},
                   {"listen", "127.0.0.1:0"},
                   {"upstream", "127.0.0.1:9"},
                   {"netns", "rf-no-such-ns"}});
  Status s = fault.Prepare();
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(),
            "latency: network namespace 'rf-no-such-ns' not found (no /run/netns/rf-no-such-ns)");
}

// ---- Transparent mode ------------------------------------------------------------------------

// The proxy in the client's namespace: the client's own connections (output hook) are redirected.
TEST(LatencyTransparentTest, RedirectsTheClientsTrafficAndRevertRestoresTheDirectPath) {
  NetnsPair pair;
  ASSERT_TRUE(pair.ok()) << pair.error();
  PeerPortServer server(pair.server_ns(), pair.server_addr());
  const uint16_t port = server.port();
  EXPECT_EQ(Proxied(pair.client_ns(), pair.server_addr(), port), false);  // baseline: direct

  Injection fault({{"port", port},
                   {"address", pair.server_addr()},
                   {"netns", pair.client_ns()},
                   {"delay", "50ms"}});
  ASSERT_TRUE(fault.Start().ok());
  const std::string table = fault.undo().data["nft_table"];
  EXPECT_EQ(fault.undo().manual_undo,
            "ip netns exec " + pair.client_ns() + " nft delete table inet " + table);
  EXPECT_NE(NftTables(pair.client_ns()).find("table inet " + table), std::string::npos);
  const uint16_t proxy_port = fault.ProxyPort();
  for (int i = 0; i < 3; ++i) {
    milliseconds rtt{0};
    EXPECT_EQ(Proxied(pair.client_ns(), pair.server_addr(), port, &rtt), true);
    EXPECT_GE(rtt, milliseconds(50));
  }
  const nlohmann::json observed = fault.Observe();
  EXPECT_EQ(observed["mode"], "transparent");
  EXPECT_EQ(observed["connections"]["proxied"], 3);
  EXPECT_EQ(observed["connections"]["no_original_destination"], 0);

  ASSERT_TRUE(fault.Revert().ok());
  EXPECT_EQ(NftTables(pair.client_ns()).find("table inet " + table), std::string::npos);
  EXPECT_EQ(Proxied(pair.client_ns(), pair.server_addr(), port), false);        // baseline again
  EXPECT_FALSE(Client(pair.client_ns(), "127.0.0.1", proxy_port).connected());  // proxy gone
}

// The proxy in the server's namespace: traffic arriving from outside (prerouting hook).
TEST(LatencyTransparentTest, RedirectsArrivingTrafficOnTheServersSide) {
  NetnsPair pair;
  ASSERT_TRUE(pair.ok()) << pair.error();
  PeerPortServer server(pair.server_ns(), pair.server_addr());
  Injection fault({{"port", server.port()},
                   {"netns", pair.server_ns()},
                   {"delay", "30ms"},
                   {"in_flight", "reset"}});
  ASSERT_TRUE(fault.Start().ok());
  milliseconds rtt{0};
  EXPECT_EQ(Proxied(pair.client_ns(), pair.server_addr(), server.port(), &rtt), true);
  EXPECT_GE(rtt, milliseconds(30));
  ASSERT_TRUE(fault.Revert().ok());
  EXPECT_EQ(Proxied(pair.client_ns(), pair.server_addr(), server.port()), false);
  EXPECT_EQ(NftTables(pair.server_ns()).find("ringfence_"), std::string::npos);
}

// Client and server in one namespace, over its loopback address.
TEST(LatencyTransparentTest, RedirectsLoopbackTrafficWithinOneNamespace) {
  NetnsPair pair;
  ASSERT_TRUE(pair.ok()) << pair.error();
  PeerPortServer server(pair.client_ns(), "127.0.0.1");
  Injection fault({{"port", server.port()},
                   {"address", "127.0.0.1"},
                   {"netns", pair.client_ns()},
                   {"delay", "30ms"}});
  ASSERT_TRUE(fault.Start().ok());
  milliseconds rtt{0};
  EXPECT_EQ(Proxied(pair.client_ns(), "127.0.0.1", server.port(), &rtt), true);
  EXPECT_GE(rtt, milliseconds(30));
  ASSERT_TRUE(fault.Revert().ok());
  EXPECT_EQ(Proxied(pair.client_ns(), "127.0.0.1", server.port()), false);
}

TEST(LatencyTransparentTest, TheRunnerRenewsTheRedirectLease) {
  NetnsPair pair;
  ASSERT_TRUE(pair.ok()) << pair.error();
  PeerPortServer server(pair.server_ns(), pair.server_addr());
  Injection fault({{"port", server.port()}, {"netns", pair.client_ns()}});
  ASSERT_TRUE(fault.Start().ok());
  EXPECT_TRUE(
      testing::Eventually([&] { return fault.Observe()["lease"]["renewals"].get<int>() >= 2; },
                          std::chrono::seconds(8)));
  EXPECT_EQ(fault.Observe()["lease"]["failures"], 0);
  EXPECT_TRUE(fault.Revert().ok());
}

// A runner killed with SIGKILL: its proxy dies with it, the kernel lets the redirect's lease
// expire, and another process reverts from the undo record alone.
TEST(LatencyTransparentTest, AKilledRunnersRedirectLapsesAndTheRecordRevertsIt) {
  NetnsPair pair;
  ASSERT_TRUE(pair.ok()) << pair.error();
  PeerPortServer server(pair.server_ns(), pair.server_addr(), false);
  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {  // the "runner": injects, reports its undo record, waits to be killed
    ::close(pipefd[0]);
    Injection fault({{"port", server.port()}, {"netns", pair.client_ns()}}, "crash-test");
    const std::string record = fault.Start().ok() ? fault.undo().ToJson().dump() + "\n" : "\n";
    if (::write(pipefd[1], record.data(), record.size()) < 0) ::_exit(1);
    for (;;) ::pause();
  }
  ::close(pipefd[1]);
  std::string record;
  char c;
  while (::read(pipefd[0], &c, 1) == 1 && c != '\n') record += c;
  ::close(pipefd[0]);
  server.StartServing();
  const bool injected = !record.empty();
  const bool proxied =
      injected && Proxied(pair.client_ns(), pair.server_addr(), server.port()) == true;
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ASSERT_TRUE(injected);
  EXPECT_TRUE(proxied);

  const UndoRecord undo = UndoRecord::FromJson(nlohmann::json::parse(record));
  const std::string table = undo.data["nft_table"];
  EXPECT_NE(NftTables(pair.client_ns()).find("table inet " + table), std::string::npos);
  // Within the lease (3 s) the kernel stops redirecting into the dead proxy.
  EXPECT_TRUE(testing::Eventually(
      [&] { return Proxied(pair.client_ns(), pair.server_addr(), server.port()) == false; },
      std::chrono::seconds(8)));
  Injection other({{"port", server.port()}, {"netns", pair.client_ns()}});
  EXPECT_TRUE(other.factory().Revert(other.env(), undo).ok());
  EXPECT_EQ(NftTables(pair.client_ns()).find("table inet " + table), std::string::npos);
}

TEST(LatencyTransparentTest, ConnectingToTheProxyDirectlyIsRefusedNotLooped) {
  NetnsPair pair;
  ASSERT_TRUE(pair.ok()) << pair.error();
  PeerPortServer server(pair.server_ns(), pair.server_addr());
  Injection fault({{"port", server.port()}, {"netns", pair.client_ns()}});
  ASSERT_TRUE(fault.Start().ok());
  Client direct(pair.client_ns(), "127.0.0.1", fault.ProxyPort());
  ASSERT_TRUE(direct.connected());
  int err = 0;
  EXPECT_EQ(direct.Ask(nullptr, &err), "");
  EXPECT_EQ(err, ECONNRESET);
  EXPECT_EQ(fault.Observe()["connections"]["no_original_destination"], 1);
  EXPECT_TRUE(fault.Revert().ok());
}

// ---- netem -----------------------------------------------------------------------------------

std::string HostNetworkState() {
  std::string qdiscs, tables;
  NetnsPair::Run({"tc", "qdisc", "show"}, &qdiscs);
  NetnsPair::Run({"nft", "list", "tables"}, &tables);
  return qdiscs + "\n" + tables;
}

TEST(LatencyNetemTest, RefusedOnThisKernelBeforeAnythingIsApplied) {
  const std::string before = HostNetworkState();
  Injection fault({{"backend", "netem"}, {"interface", "lo"}, {"delay", "100ms"}});
  Status s = fault.Prepare();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(),
            "backend netem: this kernel has no netem qdisc (CONFIG_NET_SCH_NETEM): `tc qdisc add "
            "dev lo root netem delay 1ms` fails in a scratch network namespace; use \"backend\": "
            "\"proxy\"");
  EXPECT_EQ(HostNetworkState(), before);
}

TEST(LatencyNetemTest, AutoFallsBackToTheProxyOnThisKernel) {
  PeerPortServer server;
  Injection fault({{"listen", "127.0.0.1:0"}, {"upstream", Upstream(server)}, {"interface", "lo"}});
  ASSERT_TRUE(fault.Start().ok());
  EXPECT_EQ(fault.undo().data["backend"], "proxy");
  EXPECT_EQ(fault.Observe()["backend"], "proxy");
  EXPECT_TRUE(fault.Revert().ok());
}

}  // namespace
}  // namespace ringfence
