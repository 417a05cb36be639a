// `ringfence map` (docs/dependency-map.md) as a user runs it: a bad map is refused before
// anything is touched; --dry-run finds the service, discovers its dependencies in use and lists
// the cells, injecting nothing.
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/processes.h"

namespace ringfence {
namespace {

using testing::ChildProcesses;
using testing::ChildRun;
using testing::Eventually;
using testing::ReadFile;
using testing::TempDir;

// argv: PORTS_FILE MARKER N PORT... — listens on N loopback ports, connects to each PORT, then
// writes its listening ports (one a line) and sleeps.
constexpr char kPeers[] = R"(
import os, socket, sys, time
out, marker, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
connect = [int(p) for p in sys.argv[4:]]
keep = []
ports = []
for _ in range(n):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64); keep.append(s)
    ports.append(str(s.getsockname()[1]))
for p in connect:
    keep.append(socket.create_connection(("127.0.0.1", p)))
with open(out + ".tmp", "w") as f:
    f.write("\n".join(ports) + "\n")
os.rename(out + ".tmp", out)
time.sleep(3600)
)";

class CliMapTest : public ::testing::Test {
 protected:
  std::string Binary() const { return RINGFENCE_BINARY; }
  TempDir dir_;
  ChildProcesses children_;

  // Starts a peer process; returns the ports it listens on.
  std::vector<int> Peer(const std::string& name, int listeners, const std::vector<int>& connect) {
    const std::string file = dir_.File(name + ".ports");
    std::vector<std::string> argv = {"/usr/bin/python3",       "-c", kPeers, file, name,
                                     std::to_string(listeners)};
    for (int p : connect) argv.push_back(std::to_string(p));
    EXPECT_GT(children_.Spawn(argv), 0);
    EXPECT_TRUE(Eventually([&] { return !ReadFile(file).empty(); }));
    std::vector<int> ports;
    std::istringstream lines(ReadFile(file));
    for (int p; lines >> p;) ports.push_back(p);
    return ports;
  }
};

TEST_F(CliMapTest, ABadMapIsRefusedWithEveryErrorAndNothingIsTouched) {
  dir_.Write("map.json", R"({
    "version": 1, "title": "bad",
    "service": {"name": "web", "process": {"name": "web"}, "slos": []},
    "dependencies": [
      {"name": "db", "endpoint": "127.0.0.1:5432",
       "faults": [{"kind": "kill", "duration": "5s", "settle": "0s"}]},
      {"name": "web", "endpoint": "127.0.0.1:6379",
       "faults": [{"kind": "partition", "duration": "5s", "settle": "5s"}]}]})");
  ChildRun run({Binary(), "map", "map.json", "--journal", dir_.File("j.json"), "--state-dir",
                dir_.File("state")},
               dir_.path());
  EXPECT_EQ(run.Wait(), 2);
  EXPECT_EQ(run.err(),
            "map.json: /service/slos: []: an array of 1 to 20 guards (the service's SLOs, "
            "docs/guards.md)\n"
            "map.json: /dependencies/0/faults/0/kind: \"kill\": one of latency, partition (kill "
            "needs the dependency's \"process\")\n"
            "map.json: /dependencies/1: \"web\": a dependency other than the service itself (its "
            "name is /service/name)\n"
            "ringfence map: 3 error(s); nothing was run\n");
  EXPECT_EQ(run.out(), "");
  EXPECT_FALSE(std::filesystem::exists(dir_.File("j.json")));
  EXPECT_FALSE(std::filesystem::exists(dir_.File("state")));
}

TEST_F(CliMapTest, DryRunDiscoversTheDependenciesInUseAndListsTheCells) {
  const std::vector<int> db = Peer("db-" + testing::UniqueDigits(), 1, {});
  const std::vector<int> audit = Peer("audit-" + testing::UniqueDigits(), 1, {});
  const std::string marker = "svc-" + testing::UniqueDigits();
  Peer(marker, 0, {db[0], audit[0]});
  const std::string map = R"({
    "version": 1, "title": "dry",
    "service": {"name": "svc", "process": {"cmdline": ")" +
                          marker + R"( "},
      "slos": [{"name": "db-up", "condition": {"min": 1},
                "source": {"type": "probe", "probe": {"type": "tcp", "port": )" +
                          std::to_string(db[0]) + R"(}}}]},
    "discover": true, "discover_window": "300ms",
    "dependencies": [
      {"name": "db", "endpoint": "127.0.0.1:)" +
                          std::to_string(db[0]) + R"(", "expect": "hard",
       "faults": [{"kind": "latency", "duration": "5s", "settle": "5s"},
                  {"kind": "partition", "duration": "5s", "settle": "5s"}]},
      {"name": "cache", "endpoint": "127.0.0.1:1", "expect": "soft",
       "faults": [{"kind": "partition", "action": "drop", "duration": "3s", "settle": "2s"}]}]})";
  dir_.Write("map.json", map);
  ChildRun run({Binary(), "map", "map.json", "--dry-run", "--journal", dir_.File("j.json"),
                "--state-dir", dir_.File("state")},
               dir_.path());
  ASSERT_EQ(run.Wait(), 0) << run.err();
  const std::string out = run.out();
  const std::string db_line = "127.0.0.1:" + std::to_string(db[0]);
  const std::string audit_line = "127.0.0.1:" + std::to_string(audit[0]);
  EXPECT_NE(out.find("discovered in 300ms (3 samples):\n"), std::string::npos) << out;
  EXPECT_NE(out.find(db_line), std::string::npos) << out;
  EXPECT_NE(out.find(audit_line + std::string(24 - audit_line.size() + 1, ' ') + "undeclared"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("declared, not seen in use: cache\n"), std::string::npos) << out;
  EXPECT_NE(out.find("cells, in order:\n"
                     "  1. db × latency                latency +200ms for 5s, settle 5s\n"
                     "  2. db × partition              partition (reject) for 5s, settle 5s\n"
                     "  3. cache × partition           partition (drop) for 3s, settle 2s\n"
                     "dry run: nothing was injected\n"),
            std::string::npos)
      << out;
  EXPECT_FALSE(std::filesystem::exists(dir_.File("j.json")));
  EXPECT_FALSE(std::filesystem::exists(dir_.File("state")));
}

TEST_F(CliMapTest, AServiceThatIsNotRunningIsARuntimeError) {
  dir_.Write("map.json", R"({
    "version": 1, "title": "gone",
    "service": {"name": "svc", "process": {"cmdline": "^no-such-service-)" +
                             testing::UniqueDigits() + R"("},
      "slos": [{"source": {"type": "probe", "probe": {"type": "tcp", "port": 1}},
                "condition": {"min": 1}}]},
    "dependencies": [{"name": "db", "endpoint": "127.0.0.1:5432",
       "faults": [{"kind": "partition", "duration": "5s", "settle": "5s"}]}]})");
  ChildRun run({Binary(), "map", "map.json", "--dry-run"}, dir_.path());
  EXPECT_EQ(run.Wait(), 3);
  EXPECT_NE(run.err().find("ringfence map: no process of the service: /service/process (cmdline "
                           "\"^no-such-service-"),
            std::string::npos)
      << run.err();
}

}  // namespace
}  // namespace ringfence
