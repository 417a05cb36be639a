#include "core/observe/dependency_discovery.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "tests/support/fake_clock.h"
#include "tests/support/fake_process_table.h"

namespace ringfence {
namespace {

using testing::FakeClock;
using testing::FakeProcessTable;

constexpr char kHeader4[] =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
    "inode\n";
constexpr char kHeader6[] =
    "  sl  local_address                         remote_address                        st "
    "tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";

std::string Line4(const std::string& local, const std::string& remote, const std::string& state,
                  int inode) {
  return "   0: " + local + " " + remote + " " + state +
         " 00000000:00000000 00:00000000 00000000  1000        0 " + std::to_string(inode) +
         " 1 0000000000000000 100 0 0 10 0\n";
}

// Tables and fds by sample: a test sets what the kernel shows, and `before_sample` changes it
// between samples (a sample reads the tcp table first).
class FixtureSocketTable : public SocketTable {
 public:
  std::map<pid_t, std::vector<uint64_t>> inodes;
  std::string tcp4 = kHeader4;
  std::string tcp6 = kHeader6;
  std::function<void(int)> before_sample;
  int samples = 0;

  Result<std::vector<uint64_t>> SocketInodes(pid_t pid) override {
    auto it = inodes.find(pid);
    if (it == inodes.end()) return Status::NotFound("/proc/" + std::to_string(pid) + "/fd");
    return it->second;
  }
  Result<std::string> TcpTableText(pid_t, bool ipv6) override { return ipv6 ? tcp6 : tcp4; }
};

// A SocketTable whose service pid's inodes are read first in each sample, so the hook runs there.
class SampledSocketTable : public FixtureSocketTable {
 public:
  Result<std::vector<uint64_t>> SocketInodes(pid_t pid) override {
    if (pid == kService) {
      if (before_sample) before_sample(samples);
      ++samples;
    }
    return FixtureSocketTable::SocketInodes(pid);
  }
  static constexpr pid_t kService = 100;
};

TEST(ParseTcpTableTest, ReadsIpv4AndIpv6LinesAndMapsV4MappedAddresses) {
  const std::string tcp4 = std::string(kHeader4) +
                           Line4("0100007F:1F90", "00000000:0000", "0A", 11) +
                           Line4("0100007F:A1B2", "0100007F:1538", "01", 12);
  auto four = ParseTcpTable(tcp4, false);
  ASSERT_TRUE(four.ok()) << four.status().message();
  ASSERT_EQ(four->size(), 2u);
  EXPECT_EQ((*four)[0].local.Format(), "127.0.0.1:8080");
  EXPECT_EQ((*four)[0].state, kTcpListen);
  EXPECT_EQ((*four)[1].remote.Format(), "127.0.0.1:5432");
  EXPECT_EQ((*four)[1].inode, 12u);
  EXPECT_TRUE((*four)[1].remote.loopback());

  const std::string tcp6 = std::string(kHeader6) +
                           Line4("00000000000000000000000001000000:C350",
                                 "00000000000000000000000001000000:1538", "01", 21) +
                           Line4("0000000000000000FFFF00000100007F:C351",
                                 "0000000000000000FFFF00000100007F:1F90", "01", 22) +
                           Line4("00000000000000000000000000000000:1F90",
                                 "00000000000000000000000000000000:0000", "0A", 23);
  auto six = ParseTcpTable(tcp6, true);
  ASSERT_TRUE(six.ok()) << six.status().message();
  ASSERT_EQ(six->size(), 3u);
  EXPECT_EQ((*six)[0].remote.Format(), "[::1]:5432");
  EXPECT_TRUE((*six)[0].remote.loopback());
  EXPECT_EQ((*six)[1].remote.Format(), "127.0.0.1:8080");
  EXPECT_FALSE((*six)[1].remote.ipv6);
  EXPECT_TRUE((*six)[2].local.wildcard());
}

TEST(ParseTcpTableTest, NamesTheBadLine) {
  const std::string text = std::string(kHeader4) + Line4("0100007F:1F90", "0:0", "0A", 1);
  auto bad = ParseTcpTable(text, false);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "/proc/net/tcp line 2: bad remote address");
  auto short_line = ParseTcpTable(std::string(kHeader6) + "   0: 1 2 3\n", true);
  ASSERT_FALSE(short_line.ok());
  EXPECT_EQ(short_line.status().message(), "/proc/net/tcp6 line 2: expected at least 10 fields");
  auto empty = ParseTcpTable("", false);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(DiscoverDependenciesTest, GroupsOutboundConnectionsAndSkipsAcceptedOnes) {
  FixtureSocketTable sockets;
  // The service (pid 100) listens on :8080 and holds an accepted connection there (inbound),
  // two connections to 10.0.0.5:5432, one to 127.0.0.1:6379 (listened on by pid 300), and a
  // connection of some other process (inode 90) that is not its own.
  sockets.tcp4 = std::string(kHeader4) + Line4("00000000:1F90", "00000000:0000", "0A", 1) +
                 Line4("0100007F:1F90", "0100007F:D000", "01", 2) +
                 Line4("0100007F:D001", "0500000A:1538", "01", 3) +
                 Line4("0100007F:D002", "0500000A:1538", "01", 4) +
                 Line4("0100007F:D003", "0100007F:18EB", "01", 5) +
                 Line4("0100007F:18EB", "00000000:0000", "0A", 6) +
                 Line4("0100007F:D004", "0100007F:0050", "01", 90) +
                 Line4("0100007F:D005", "0500000A:0050", "06", 7);
  sockets.inodes[100] = {1, 2, 3, 4, 5, 7};
  sockets.inodes[300] = {6};
  FakeProcessTable processes;
  processes.Add(100, "frontend");
  processes.Add(300, "redis-server");
  FakeClock clock;
  StopSource stop;
  auto result =
      DiscoverDependencies({100}, {std::chrono::milliseconds(1000), std::chrono::milliseconds(250)},
                           sockets, processes, clock, stop);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(result->samples, 5);
  ASSERT_EQ(result->dependencies.size(), 2u);
  const auto& db = result->dependencies[0];
  EXPECT_EQ(db.remote.Format(), "10.0.0.5:5432");
  EXPECT_EQ(db.max_connections, 2);
  EXPECT_EQ(db.samples_seen, 5);
  EXPECT_EQ(db.clients, std::vector<pid_t>{100});
  EXPECT_FALSE(db.listener.has_value());
  const auto& cache = result->dependencies[1];
  EXPECT_EQ(cache.remote.Format(), "127.0.0.1:6379");
  ASSERT_TRUE(cache.listener.has_value());
  EXPECT_EQ(cache.listener->pid, 300);
  EXPECT_EQ(cache.listener->name, "redis-server");
  EXPECT_TRUE(result->notes.empty());
}

TEST(DiscoverDependenciesTest, ConnectionsOpenedAndClosedDuringTheWindowAreCounted) {
  SampledSocketTable sockets;
  sockets.inodes[SampledSocketTable::kService] = {};
  const std::string base = kHeader4;
  const std::string short_lived = Line4("0100007F:D001", "0100007F:0BB8", "01", 5);
  sockets.before_sample = [&](int sample) {
    // Open in samples 1 and 2 only; nothing before or after.
    const bool open = sample == 1 || sample == 2;
    sockets.tcp4 = open ? base + short_lived : base;
    sockets.inodes[SampledSocketTable::kService] =
        open ? std::vector<uint64_t>{5} : std::vector<uint64_t>{};
  };
  FakeProcessTable processes;
  FakeClock clock;
  StopSource stop;
  auto result =
      DiscoverDependencies({SampledSocketTable::kService},
                           {std::chrono::milliseconds(400), std::chrono::milliseconds(100)},
                           sockets, processes, clock, stop);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(result->samples, 5);
  ASSERT_EQ(result->dependencies.size(), 1u);
  EXPECT_EQ(result->dependencies[0].remote.Format(), "127.0.0.1:3000");
  EXPECT_EQ(result->dependencies[0].samples_seen, 2);
  EXPECT_FALSE(result->dependencies[0].listener.has_value());
}

TEST(DiscoverDependenciesTest, AProcessThatCannotBeReadIsANoteOrAnError) {
  FixtureSocketTable sockets;
  sockets.inodes[100] = {};
  FakeProcessTable processes;
  FakeClock clock;
  StopSource stop;
  auto some = DiscoverDependencies({100, 101}, {}, sockets, processes, clock, stop);
  ASSERT_TRUE(some.ok());
  EXPECT_EQ(some->notes, std::vector<std::string>{"process 101: /proc/101/fd"});
  auto none = DiscoverDependencies({101}, {}, sockets, processes, clock, stop);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(none.status().message(),
            "no process of the service could be read: process 101: /proc/101/fd");
  auto empty = DiscoverDependencies({}, {}, sockets, processes, clock, stop);
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidInput);
}

}  // namespace
}  // namespace ringfence
