// Guards through `ringfence run` and `ringfence demo`: what they do is checked from outside
// (waitpid, /proc/PID/stat, the journal, the Pushgateway's page), against real servers.
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/observe/metric_text.h"
#include "core/sys/http_client.h"
#include "demo/demo_fleet.h"
#include "tests/support/processes.h"
#include "tests/support/prometheus_server.h"

namespace ringfence::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

class CliGuardsTest : public ::testing::Test {
 protected:
  std::vector<std::string> Run(const std::string& file, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {
        RINGFENCE_BINARY,  "run", file, "--journal", dir_.File("journal.json"), "--state-dir",
        dir_.File("state")};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }
  json Journal() { return json::parse(ReadFile(dir_.File("journal.json"))); }

  // An experiment that kills `kill` of `victims` and pauses every one of `paused`
  // (both for 30 s), with `guards`.
  static std::string Experiment(const SleepChildren& victims, int kill, const SleepChildren& paused,
                                const json& guards) {
    json doc = {
        {"version", 1},
        {"title", "guards through run"},
        {"targets",
         {{"victims",
           {{"process", {{"cmdline", victims.cmdline_regex()}}}, {"select", {{"count", kill}}}}},
          {"paused", {{"process", {{"cmdline", paused.cmdline_regex()}}}}}}},
        {"method",
         {{{"type", "process_pause"}, {"name", "pause"}, {"target", "paused"}, {"duration", "30s"}},
          {{"type", "wait"}, {"duration", "200ms"}},
          {{"type", "process_kill"},
           {"name", "kill"},
           {"target", "victims"},
           {"params", {{"signal", "SIGKILL"}}},
           {"duration", "30s"}},
          {{"type", "wait"}, {"duration", "30s"}}}},
        {"guards", guards}};
    return doc.dump(2);
  }

  static bool AllRunning(const SleepChildren& children) {
    return std::none_of(children.pids().begin(), children.pids().end(),
                        [](pid_t p) { return SleepChildren::State(p) == 'T'; });
  }
  static bool AllPaused(const SleepChildren& children) {
    return std::all_of(children.pids().begin(), children.pids().end(),
                       [](pid_t p) { return SleepChildren::State(p) == 'T'; });
  }

  TempDir dir_;
};

TEST_F(CliGuardsTest, InvalidGuardsExit2AndTouchNothing) {
  SleepChildren victims(2), paused(1);
  json guards = {{{"name", "a"}, {"source", {{"type", "graphite"}}}, {"condition", {{"max", 1}}}},
                 {{"name", "b"},
                  {"source", {{"type", "affected_fraction"}, {"target", "flet"}}},
                  {"condition", json::object()},
                  {"interval", "10ms"},
                  {"for", 0}}};
  dir_.Write("bad.json", Experiment(victims, 1, paused, guards));
  ChildRun run(Run(dir_.File("bad.json")), dir_.path());
  ASSERT_EQ(run.Wait(), 2) << run.err();
  const std::string file = dir_.File("bad.json");
  const std::string err = run.err();
  for (const std::string& line :
       {file + ": /guards/0/source/type: \"graphite\": one of promql, scrape, probe_stats, "
               "probe, affected_fraction",
        file + ": /guards/1/source/target: \"flet\": the name of a target in /targets (paused, "
               "victims)",
        file + ": /guards/1/condition: {}: {\"max\": x}, {\"min\": x}, {\"min\": x, \"max\": y}, "
               "{\"max_vs_baseline\": r} or {\"min_vs_baseline\": r}",
        file + ": /guards/1/interval: \"10ms\": a duration such as \"250ms\", \"30s\", \"2m\" "
               "(from 50ms to 1h)",
        file + ": /guards/1/for: 0: an integer from 1 to 1000"}) {
    EXPECT_NE(err.find(line + "\n"), std::string::npos) << line << "\n---\n" << err;
  }
  EXPECT_TRUE(AllRunning(paused));
  for (pid_t pid : victims.pids()) EXPECT_FALSE(victims.Exited(pid)) << pid;
}

// The affected fraction of `victims` beyond 0.2 aborts the run within a sample: status aborted,
// exit 1, the paused processes resumed long before the faults' 30 s, the journal's abort object.
TEST_F(CliGuardsTest, BlastRadiusBreachAbortsTheRunAndRevertsEveryFault) {
  SleepChildren victims(5), paused(2);
  json guards = {{{"name", "blast-radius"},
                  {"source", {{"type", "affected_fraction"}, {"target", "victims"}}},
                  {"condition", {{"max", 0.2}}},
                  {"interval", "100ms"}}};
  dir_.Write("blast.json", Experiment(victims, 3, paused, guards));
  ChildRun run(Run(dir_.File("blast.json")), dir_.path());
  ASSERT_EQ(run.Wait(seconds(20)), 1) << run.err();
  EXPECT_TRUE(AllRunning(paused));
  int dead = 0;
  for (pid_t pid : victims.pids()) dead += victims.Exited(pid) ? 1 : 0;
  EXPECT_EQ(dead, 3);

  json j = Journal();
  EXPECT_EQ(j["status"], "aborted");
  ASSERT_TRUE(j["abort"].is_object()) << j.dump(2);
  EXPECT_EQ(j["abort"]["guard"], "blast-radius");
  // 0.6 once all three are gone (0.4 if a sample fell between two of the kills).
  ASSERT_TRUE(j["abort"]["value"].is_number());
  const double value = j["abort"]["value"];
  EXPECT_GT(value, 0.2);
  EXPECT_EQ(j["abort"]["reason"], "value " + j["abort"]["value"].dump() + " > 0.2");
  EXPECT_EQ(j["abort"]["threshold"], "<= 0.2");
  for (const char* key : {"sampled_at", "detected_at", "all_reverted_at"}) {
    EXPECT_TRUE(j["abort"][key].is_string()) << key;
  }
  EXPECT_EQ(j["reverted_cleanly"], true);
  for (const auto& f : j["faults"]) EXPECT_EQ(f["revert_ok"], true) << f.dump();
  ASSERT_EQ(j["guards"].size(), 1u);
  EXPECT_EQ(j["guards"][0]["name"], "blast-radius");
  EXPECT_GE(j["guards"][0]["samples"].size(), 1u);
  EXPECT_EQ(j["guards"][0]["breach"]["reason"], j["abort"]["reason"]);
}

// A PromQL guard over the demo fleet, through a real Prometheus: the instance turning unhealthy
// aborts the run, and every fault is reverted.
TEST_F(CliGuardsTest, PromqlGuardAbortsTheRun) {
  DemoFleetOptions options;
  options.size = 1;
  options.service_binary = RINGFENCE_DEMO_SERVICE_BINARY;
  DemoFleet fleet(options);
  ASSERT_TRUE(fleet.Start().ok());
  const int port = fleet.ports().at(0);
  Result<std::unique_ptr<PrometheusServer>> prometheus =
      PrometheusServer::Start({"127.0.0.1:" + std::to_string(port)});
  ASSERT_TRUE(prometheus.ok()) << prometheus.status().message();
  const std::string query = "min(demo_healthy{job=\"demo\"})";
  ASSERT_TRUE((*prometheus)->WaitForData(query)) << (*prometheus)->Log();

  SleepChildren victims(1), paused(2);
  json guards = {{{"name", "fleet-healthy"},
                  {"source", {{"type", "promql"}, {"url", (*prometheus)->url()}, {"query", query}}},
                  {"condition", {{"min", 1}}},
                  {"interval", "250ms"}}};
  json doc = json::parse(Experiment(victims, 1, paused, guards));
  doc["method"].erase(2);  // no kill: only the pause and the waits
  dir_.Write("promql.json", doc.dump(2));
  ChildRun run(Run(dir_.File("promql.json"), {"--check-sources"}), dir_.path());
  ASSERT_TRUE(Eventually([&] { return AllPaused(paused); })) << run.err();

  ASSERT_TRUE(HttpPost("http://127.0.0.1:" + std::to_string(port) + "/admin/health?state=down", "",
                       seconds(2))
                  .ok());
  ASSERT_EQ(run.Wait(seconds(20)), 1) << run.err();
  EXPECT_TRUE(AllRunning(paused));
  json j = Journal();
  EXPECT_EQ(j["status"], "aborted");
  EXPECT_EQ(j["abort"]["guard"], "fleet-healthy");
  EXPECT_EQ(j["abort"]["reason"], "value 0 < 1");
  EXPECT_EQ(j["abort"]["threshold"], ">= 1");
  EXPECT_EQ(j["reverted_cleanly"], true);
}

// --metrics-listen serves the runner's metrics while it runs; --pushgateway pushes the result.
// The guard is a command probe on a file the test removes, so the abort comes when the test
// has seen the metrics.
TEST_F(CliGuardsTest, MetricsListenAndPushgateway) {
  Result<std::unique_ptr<PushgatewayServer>> gateway = PushgatewayServer::Start();
  ASSERT_TRUE(gateway.ok()) << gateway.status().message();
  dir_.Write("armed", "");
  SleepChildren victims(1), paused(2);
  json guards = {
      {{"name", "armed"},
       {"source",
        {{"type", "probe"},
         {"probe", {{"type", "command"}, {"argv", {"test", "-e", dir_.File("armed")}}}}}},
       {"condition", {{"min", 1}}},
       {"interval", "100ms"}}};
  json doc = json::parse(Experiment(victims, 1, paused, guards));
  doc["method"].erase(2);
  dir_.Write("metrics.json", doc.dump(2));
  const int metrics_port = FreeLoopbackPort();
  ChildRun run(Run(dir_.File("metrics.json"),
                   {"--metrics-listen", "127.0.0.1:" + std::to_string(metrics_port),
                    "--pushgateway", (*gateway)->url()}),
               dir_.path());
  ASSERT_TRUE(Eventually([&] { return AllPaused(paused); })) << run.err();

  // The page is read until the guard's first sample is on it.
  Result<MetricExposition> metrics = Status::Error(StatusCode::kUnavailable, "not read yet");
  auto value = [&](const std::string& name, const std::map<std::string, std::string>& labels) {
    if (!metrics.ok()) return -1.0;
    for (const auto& s : metrics->samples) {
      if (s.name == name &&
          std::includes(s.labels.begin(), s.labels.end(), labels.begin(), labels.end())) {
        return s.value;
      }
    }
    return -1.0;
  };
  ASSERT_TRUE(Eventually([&] {
    Result<HttpResponse> page =
        HttpGet("http://127.0.0.1:" + std::to_string(metrics_port) + "/metrics", seconds(2));
    if (!page.ok()) return false;
    metrics = ParseMetricText(page->body);
    return value("ringfence_guard_value", {{"guard", "armed"}}) != -1.0;
  })) << run.err();
  EXPECT_EQ(value("ringfence_experiment_running", {}), 1);
  EXPECT_EQ(value("ringfence_fault_active", {{"fault", "pause"}}), 1);
  EXPECT_EQ(value("ringfence_guard_value", {{"guard", "armed"}}), 1);

  std::filesystem::remove(dir_.File("armed"));
  ASSERT_EQ(run.Wait(seconds(20)), 1) << run.err();
  EXPECT_TRUE(AllRunning(paused));
  EXPECT_EQ(Journal()["abort"]["reason"], "value 0 < 1");

  Result<MetricExposition> pushed = ParseMetricText((*gateway)->Metrics());
  ASSERT_TRUE(pushed.ok());
  std::map<std::string, MetricSample> ours;
  for (const auto& s : pushed->samples) {
    if (s.name.rfind("ringfence_last_run_", 0) == 0) ours[s.name] = s;
  }
  ASSERT_EQ(ours.size(), 5u) << (*gateway)->Metrics();
  EXPECT_EQ(ours["ringfence_last_run_status"].labels.at("status"), "aborted");
  EXPECT_EQ(ours["ringfence_last_run_status"].labels.at("title"), "guards through run");
  EXPECT_EQ(ours["ringfence_last_run_status"].labels.at("job"), "ringfence");
  EXPECT_EQ(ours["ringfence_last_run_guard_breaches"].value, 1);
  EXPECT_EQ(ours["ringfence_last_run_success"].value, 0);
}

// A malformed --pushgateway or --metrics-listen is refused before anything is injected.
TEST_F(CliGuardsTest, BadMetricsFlagsExit2AndTouchNothing) {
  SleepChildren victims(1), paused(1);
  dir_.Write("flags.json", Experiment(victims, 1, paused, json::array()));
  ChildRun push(Run(dir_.File("flags.json"), {"--pushgateway", "127.0.0.1:9091"}), dir_.path());
  ASSERT_EQ(push.Wait(), 2) << push.err();
  EXPECT_EQ(push.err(),
            "ringfence: --pushgateway: \"127.0.0.1:9091\": a URL starting with http:// or "
            "https://; nothing was run\n");
  ChildRun listen(Run(dir_.File("flags.json"), {"--metrics-listen", "localhost"}), dir_.path());
  ASSERT_EQ(listen.Wait(), 2) << listen.err();
  EXPECT_EQ(listen.err(),
            "ringfence: --metrics-listen: \"localhost\": an address such as 127.0.0.1:9464; "
            "nothing was run\n");
  EXPECT_TRUE(AllRunning(paused));
  for (pid_t pid : victims.pids()) EXPECT_FALSE(victims.Exited(pid)) << pid;
  EXPECT_FALSE(std::filesystem::exists(dir_.File("journal.json")));
}

// --check-sources reads every source before anything is injected: an unreachable Prometheus
// ends the run there.
TEST_F(CliGuardsTest, CheckSourcesRefusesAnUnreachablePrometheus) {
  SleepChildren victims(2), paused(1);
  json guards = {{{"name", "errors"},
                  {"source", {{"type", "promql"}, {"url", "http://127.0.0.1:9"}, {"query", "up"}}},
                  {"condition", {{"max", 0}}}}};
  dir_.Write("check.json", Experiment(victims, 1, paused, guards));
  ChildRun run(Run(dir_.File("check.json"), {"--check-sources"}), dir_.path());
  EXPECT_EQ(run.Wait(seconds(20)), 2) << run.err();
  EXPECT_NE(run.err().find("guard \"errors\": GET http://127.0.0.1:9/api/v1/query?query=up: "
                           "connect to 127.0.0.1:9 failed: Connection refused"),
            std::string::npos)
      << run.err();
  EXPECT_TRUE(AllRunning(paused));
  for (pid_t pid : victims.pids()) EXPECT_FALSE(victims.Exited(pid)) << pid;
}

// The shipped demo scenario: kill 3 of 5 with a blast-radius limit of 0.2 → aborted, exit 1,
// and the supervisor brings the instances back (the demo checks that none is left after).
TEST_F(CliGuardsTest, DemoBlastRadiusScenarioIsAborted) {
  ChildRun run({RINGFENCE_BINARY, "demo", "--scenario",
                RINGFENCE_SOURCE_DIR "/scenarios/demo-blast-radius-exceeded.json", "--journal",
                dir_.File("journal.json"), "--state-dir", dir_.File("state")},
               dir_.path());
  ASSERT_EQ(run.Wait(seconds(60)), 1) << run.err();
  json j = Journal();
  EXPECT_EQ(j["status"], "aborted");
  EXPECT_EQ(j["abort"]["guard"], "blast-radius");
  EXPECT_EQ(j["abort"]["threshold"], "<= 0.2");
  EXPECT_GT(j["abort"]["value"].get<double>(), 0.2);
  EXPECT_EQ(j["rollbacks"][0]["ok"], true);
  for (const auto& p : j["steady_state"]["after"]) EXPECT_EQ(p["met"], true) << p.dump();
}

}  // namespace
}  // namespace ringfence::testing
