#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/base/process_table.h"
#include "core/base/regex.h"
#include "core/observe/probe.h"
#include "core/sys/http_client.h"
#include "core/sys/run_command.h"
#include "core/sys/system_env.h"
#include "demo/demo_fleet.h"
#include "tests/support/fake_process_table.h"

namespace ringfence {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// /proc/PID/cmdline with NULs read as spaces ("" when the process is gone).
std::string CmdlineOf(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline");
  std::stringstream text;
  text << in.rdbuf();
  std::string cmdline = text.str();
  for (char& c : cmdline)
    if (c == '\0') c = ' ';
  return cmdline;
}

// Every pid whose command line contains `needle`.
std::vector<pid_t> PidsWithCmdline(const std::string& needle) {
  std::vector<pid_t> pids;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    pid_t pid = std::stoi(name);
    if (CmdlineOf(pid).find(needle) != std::string::npos) pids.push_back(pid);
  }
  return pids;
}

std::string Url(int port, const std::string& path) {
  return "http://127.0.0.1:" + std::to_string(port) + path;
}

// The /health document of the instance on `port`, or null when it does not answer 200.
nlohmann::json Health(int port) {
  Result<HttpResponse> r = HttpGet(Url(port, "/health"), milliseconds(500));
  if (!r.ok() || r->status != 200) return nullptr;
  return nlohmann::json::parse(r->body, nullptr, /*allow_exceptions=*/false);
}

// Polls `condition` every 50 ms for at most `limit`.
template <typename Condition>
bool Eventually(Condition condition, milliseconds limit = seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(milliseconds(50));
  }
  return condition();
}

std::string Record(int fields, const std::string& tag) {
  std::string line = tag;
  for (int i = 1; i < fields; ++i) line += ",f" + std::to_string(i);
  return line + "\n";
}

class DemoFleetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ringfence-demo-fleet-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::string WriteContent(const std::string& text) {
    std::string path = dir_ + "/content.txt";
    std::ofstream(path, std::ios::trunc) << text;
    return path;
  }

  static DemoFleetOptions Options(int size) {
    DemoFleetOptions o;
    o.size = size;
    o.service_binary = RINGFENCE_DEMO_SERVICE_BINARY;
    o.restart_delay = milliseconds(100);
    return o;
  }

  // Stops the fleet and checks that nothing of it is left.
  static void StopAndExpectNoneLeft(DemoFleet& fleet) {
    fleet.Stop();
    EXPECT_EQ(PidsWithCmdline("--fleet-id " + fleet.fleet_id()), std::vector<pid_t>{});
  }

  std::string dir_;
};

TEST_F(DemoFleetTest, StartsInstancesThatAnswerHealth) {
  DemoFleet fleet(Options(3));
  ASSERT_TRUE(fleet.Start().ok());
  std::vector<int> ports = fleet.ports();
  ASSERT_EQ(ports.size(), 3u);

  testing::FakeProcessTable processes;  // no process: the probes here are HTTP
  SystemEnv system{processes};
  auto runner = MakeProbeRunner(system);
  for (int port : ports) {
    ProbeSpec probe;
    probe.name = "health";
    probe.type = ProbeType::kHttp;
    probe.url = Url(port, "/health");
    probe.body_regex = "\"fleet_id\":\"" + fleet.fleet_id() + "\"";
    ProbeOutcome o = runner->Run(probe, Experiment{});
    EXPECT_TRUE(o.met) << port << ": " << o.detail;
  }

  // A scenario selects the fleet's processes by this cmdline regex: one per instance.
  const Regex selector("ringfence-demo-service --port [0-9]+ --fleet-id " + fleet.fleet_id());
  int matched = 0;
  for (pid_t pid : PidsWithCmdline(fleet.fleet_id()))
    if (selector.Search(CmdlineOf(pid))) ++matched;
  EXPECT_EQ(matched, 3);

  std::map<std::string, std::string> vars = fleet.Vars();
  EXPECT_EQ(vars["demo_fleet_id"], fleet.fleet_id());
  EXPECT_EQ(vars["demo_fleet_size"], "3");
  EXPECT_EQ(vars["demo_port_2"], std::to_string(ports[2]));
  EXPECT_EQ(vars["demo_service"], RINGFENCE_DEMO_SERVICE_BINARY);
  EXPECT_EQ(fleet.restarts(), 0);
  StopAndExpectNoneLeft(fleet);
  // SIGTERM is a clean shutdown: every instance exited with code 0.
  std::vector<DemoInstanceExit> exits = fleet.exits();
  ASSERT_EQ(exits.size(), 3u);
  for (const DemoInstanceExit& e : exits) {
    EXPECT_EQ(e.exit_code, 0);
    EXPECT_EQ(e.signal, 0);
  }
}

TEST_F(DemoFleetTest, RestartsAKilledInstanceOnTheSamePort) {
  DemoFleet fleet(Options(3));
  ASSERT_TRUE(fleet.Start().ok());
  const int port = fleet.ports()[1];
  nlohmann::json before = Health(port);
  ASSERT_TRUE(before.is_object());
  const pid_t victim = before["pid"].get<pid_t>();

  ASSERT_EQ(::kill(victim, SIGKILL), 0);
  EXPECT_TRUE(Eventually([&] {
    nlohmann::json now = Health(port);
    return now.is_object() && now["pid"].get<pid_t>() != victim;
  }));
  EXPECT_EQ(fleet.restarts(), 1);
  std::vector<DemoInstanceExit> exits = fleet.exits();
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0].pid, victim);
  EXPECT_EQ(exits[0].port, port);
  EXPECT_EQ(exits[0].signal, SIGKILL);
  StopAndExpectNoneLeft(fleet);
}

TEST_F(DemoFleetTest, SighupReloadsContent) {
  DemoFleetOptions options = Options(1);
  options.content_file = WriteContent("# two records\n" + Record(20, "a") + Record(20, "b"));
  DemoFleet fleet(options);
  ASSERT_TRUE(fleet.Start().ok());
  const int port = fleet.ports()[0];
  nlohmann::json health = Health(port);
  ASSERT_TRUE(health.is_object());
  EXPECT_EQ(health["records"], 2);

  WriteContent(Record(20, "a") + Record(20, "b") + Record(20, "c"));
  ASSERT_EQ(::kill(health["pid"].get<pid_t>(), SIGHUP), 0);
  EXPECT_TRUE(Eventually([&] { return Health(port)["records"] == 3; }));

  // A record with a missing field is rejected: the previous content stays, still healthy.
  WriteContent(Record(19, "short"));
  ASSERT_EQ(::kill(health["pid"].get<pid_t>(), SIGHUP), 0);
  EXPECT_TRUE(Eventually([&] {
    Result<HttpResponse> metrics = HttpGet(Url(port, "/metrics"), milliseconds(500));
    return metrics.ok() && metrics->body.find("demo_content_rejects_total 1") != std::string::npos;
  }));
  EXPECT_EQ(Health(port)["records"], 3);
  Result<HttpResponse> metrics = HttpGet(Url(port, "/metrics"), milliseconds(500));
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->body.find("demo_content_loads_total 2"), std::string::npos);
  EXPECT_EQ(fleet.restarts(), 0);
  StopAndExpectNoneLeft(fleet);
}

TEST_F(DemoFleetTest, ExtraFieldRecordCrashesTheService) {
  const std::string content = WriteContent(Record(20, "ok") + Record(21, "bad"));
  Result<CommandResult> r =
      RunCommand({RINGFENCE_DEMO_SERVICE_BINARY, "--port", "1", "--content", content}, seconds(10));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->exit_code, 128 + SIGABRT);
  EXPECT_NE(r->err.find("content interpreter: record 2 has 21 fields, the reader supplies 20: "
                        "out-of-bounds read"),
            std::string::npos)
      << r->err;
}

TEST_F(DemoFleetTest, BadContentOnReloadPutsTheInstanceIntoACrashLoop) {
  DemoFleetOptions options = Options(2);
  options.content_file = WriteContent(Record(20, "a"));
  DemoFleet fleet(options);
  ASSERT_TRUE(fleet.Start().ok());
  const int port = fleet.ports()[0];
  nlohmann::json health = Health(port);
  ASSERT_TRUE(health.is_object());

  WriteContent(Record(21, "bad"));
  ASSERT_EQ(::kill(health["pid"].get<pid_t>(), SIGHUP), 0);
  // It aborts, is restarted, reads the same content at start and aborts again.
  EXPECT_TRUE(Eventually([&] { return fleet.exits().size() >= 2 && fleet.restarts() >= 1; }));
  for (const DemoInstanceExit& e : fleet.exits()) {
    EXPECT_EQ(e.port, port);
    EXPECT_EQ(e.signal, SIGABRT);
  }
  StopAndExpectNoneLeft(fleet);
}

TEST_F(DemoFleetTest, MetricsCountWorkRequests) {
  DemoFleet fleet(Options(1));
  ASSERT_TRUE(fleet.Start().ok());
  const int port = fleet.ports()[0];
  for (int i = 0; i < 3; ++i) {
    Result<HttpResponse> r = HttpGet(Url(port, "/work"), seconds(2));
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->status, 200);
  }
  ASSERT_EQ(HttpPost(Url(port, "/admin/health?state=down"), "", seconds(2))->status, 200);
  EXPECT_EQ(HttpGet(Url(port, "/work"), seconds(2))->status, 500);
  EXPECT_EQ(HttpGet(Url(port, "/health"), seconds(2))->status, 503);

  Result<HttpResponse> metrics = HttpGet(Url(port, "/metrics"), seconds(2));
  ASSERT_TRUE(metrics.ok());
  const std::string& text = metrics->body;
  EXPECT_NE(text.find("demo_requests_total{path=\"/work\"} 4"), std::string::npos) << text;
  EXPECT_NE(text.find("demo_errors_total{path=\"/work\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("demo_request_duration_seconds_count{path=\"/work\"} 4"), std::string::npos);
  EXPECT_NE(text.find("demo_healthy 0"), std::string::npos);
  EXPECT_NE(text.find("demo_content_records 0"), std::string::npos);
  StopAndExpectNoneLeft(fleet);
}

TEST_F(DemoFleetTest, MissingBinaryIsNotFound) {
  DemoFleetOptions options = Options(1);
  options.service_binary = dir_ + "/no-such-service";
  DemoFleet fleet(options);
  Status s = fleet.Start();
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "demo service binary not found: " + dir_ + "/no-such-service");
}

}  // namespace
}  // namespace ringfence
