// Dependency discovery (core/observe/dependency_discovery.h) against real sockets: this test
// process is the "service", a python3 child listens on loopback ports (IPv4 and IPv6), and the
// socket table is the real /proc one. The clock is fake so that the samples fall where the test
// opens and closes connections (between samples), not where the scheduler happens to run them.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <sstream>

#include <gtest/gtest.h>

#include "core/observe/dependency_discovery.h"
#include "core/sys/system_process_table.h"
#include "tests/support/fake_clock.h"
#include "tests/support/processes.h"

namespace ringfence {
namespace {

using testing::ChildProcesses;
using testing::Eventually;
using testing::FakeClock;
using testing::ReadFile;
using testing::TempDir;

// Listens on each "4" (127.0.0.1) or "6" (::1) argument with an ephemeral port and a backlog
// large enough that connections complete without accept(); writes the ports, one a line.
constexpr char kListener[] = R"(
import socket, sys, time
ports = []
keep = []
for family in sys.argv[2:]:
    s = socket.socket(socket.AF_INET6 if family == "6" else socket.AF_INET)
    s.bind(("::1" if family == "6" else "127.0.0.1", 0))
    s.listen(1024)
    keep.append(s)
    ports.append(str(s.getsockname()[1]))
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("\n".join(ports) + "\n")
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(3600)
)";

// A connected client socket, closed with the object.
class Connection {
 public:
  Connection(bool ipv6, int port) {
    fd_ = socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (ipv6) {
      sockaddr_in6 a{};
      a.sin6_family = AF_INET6;
      a.sin6_port = htons(static_cast<uint16_t>(port));
      a.sin6_addr = in6addr_loopback;
      ok_ = connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    } else {
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(static_cast<uint16_t>(port));
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      ok_ = connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    }
  }
  ~Connection() {
    if (fd_ >= 0) close(fd_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  bool ok() const { return ok_; }

 private:
  int fd_ = -1;
  bool ok_ = false;
};

// The real socket table, with a hook before each sample of this process.
class HookedSocketTable : public SocketTable {
 public:
  std::function<void(int)> before_sample;

  Result<std::vector<uint64_t>> SocketInodes(pid_t pid) override {
    if (pid == getpid() && sampling) before_sample(samples++);
    return real_->SocketInodes(pid);
  }
  Result<std::string> TcpTableText(pid_t pid, bool ipv6) override {
    return real_->TcpTableText(pid, ipv6);
  }
  bool sampling = true;
  int samples = 0;

 private:
  std::unique_ptr<SocketTable> real_ = MakeSystemSocketTable();
};

const DiscoveredDependency* Find(const DiscoveryResult& result, const std::string& endpoint) {
  for (const auto& d : result.dependencies) {
    if (d.remote.Format() == endpoint) return &d;
  }
  return nullptr;
}

TEST(DependencyDiscoveryTest, FindsLoopbackDependenciesOverTheWindowAndTheirListener) {
  TempDir dir;
  ChildProcesses children;
  const std::string ports_file = dir.File("ports");
  // Four listeners in one process: the steady IPv4 one, the IPv6 one with many connections, one
  // connected to only during the window, one connected to only before it.
  const pid_t listener =
      children.Spawn({"/usr/bin/python3", "-c", kListener, ports_file, "4", "6", "4", "4"});
  ASSERT_GT(listener, 0);
  ASSERT_TRUE(Eventually([&] { return !ReadFile(ports_file).empty(); }));
  std::istringstream lines(ReadFile(ports_file));
  int steady = 0, many = 0, during = 0, before = 0;
  lines >> steady >> many >> during >> before;
  ASSERT_GT(before, 0);

  {
    Connection gone(false, before);
    ASSERT_TRUE(gone.ok());
  }
  Connection steady_connection(false, steady);
  ASSERT_TRUE(steady_connection.ok());
  std::vector<std::unique_ptr<Connection>> pool;
  for (int i = 0; i < 150; ++i) {
    pool.push_back(std::make_unique<Connection>(true, many));
    ASSERT_TRUE(pool.back()->ok()) << i;
  }
  std::unique_ptr<Connection> short_lived;
  HookedSocketTable sockets;
  sockets.before_sample = [&](int sample) {
    if (sample == 1) short_lived = std::make_unique<Connection>(false, during);
    if (sample == 3) short_lived.reset();
  };
  auto processes = MakeSystemProcessTable();
  FakeClock clock;
  StopSource stop;
  auto result = DiscoverDependencies(
      {getpid()}, {std::chrono::milliseconds(400), std::chrono::milliseconds(100)}, sockets,
      *processes, clock, stop);
  sockets.sampling = false;
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(result->samples, 5);

  const auto* v4 = Find(*result, "127.0.0.1:" + std::to_string(steady));
  ASSERT_NE(v4, nullptr);
  EXPECT_EQ(v4->samples_seen, 5);
  EXPECT_EQ(v4->max_connections, 1);
  EXPECT_EQ(v4->clients, std::vector<pid_t>{getpid()});
  ASSERT_TRUE(v4->listener.has_value());
  EXPECT_EQ(v4->listener->pid, listener);
  EXPECT_EQ(v4->listener->name, "python3");

  const auto* v6 = Find(*result, "[::1]:" + std::to_string(many));
  ASSERT_NE(v6, nullptr);
  EXPECT_EQ(v6->samples_seen, 5);
  EXPECT_EQ(v6->max_connections, 150);
  ASSERT_TRUE(v6->listener.has_value());
  EXPECT_EQ(v6->listener->pid, listener);

  const auto* window = Find(*result, "127.0.0.1:" + std::to_string(during));
  ASSERT_NE(window, nullptr);
  EXPECT_EQ(window->samples_seen, 2);
  EXPECT_EQ(window->max_connections, 1);

  EXPECT_EQ(Find(*result, "127.0.0.1:" + std::to_string(before)), nullptr);
  // The listener's side of these connections (accepted, in its backlog) is not the service's.
  for (const auto& d : result->dependencies) {
    EXPECT_NE(d.remote.port, 0) << d.remote.Format();
  }
}

TEST(DependencyDiscoveryTest, AnAcceptedConnectionIsNotADependency) {
  // This process listens, connects to itself and accepts: it holds both ends. Only the client
  // end (to the listening port) is outbound; the accepted end's remote is the client's port.
  const int listening = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listening, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listening, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(listening, 8), 0);
  socklen_t len = sizeof a;
  ASSERT_EQ(getsockname(listening, reinterpret_cast<sockaddr*>(&a), &len), 0);
  const int port = ntohs(a.sin_port);
  auto client = std::make_unique<Connection>(false, port);
  ASSERT_TRUE(client->ok());
  const int accepted = accept4(listening, nullptr, nullptr, SOCK_CLOEXEC);
  ASSERT_GE(accepted, 0);
  sockaddr_in peer{};
  len = sizeof peer;
  ASSERT_EQ(getpeername(accepted, reinterpret_cast<sockaddr*>(&peer), &len), 0);
  const int client_port = ntohs(peer.sin_port);

  auto sockets = MakeSystemSocketTable();
  auto processes = MakeSystemProcessTable();
  FakeClock clock;
  StopSource stop;
  auto result = DiscoverDependencies(
      {getpid()}, {std::chrono::milliseconds(100), std::chrono::milliseconds(100)}, *sockets,
      *processes, clock, stop);
  client.reset();
  close(accepted);
  close(listening);
  ASSERT_TRUE(result.ok()) << result.status().message();
  const auto* self = Find(*result, "127.0.0.1:" + std::to_string(port));
  ASSERT_NE(self, nullptr);
  EXPECT_EQ(self->max_connections, 1);
  ASSERT_TRUE(self->listener.has_value());
  EXPECT_EQ(self->listener->pid, getpid());
  EXPECT_EQ(Find(*result, "127.0.0.1:" + std::to_string(client_port)), nullptr);
}

}  // namespace
}  // namespace ringfence
