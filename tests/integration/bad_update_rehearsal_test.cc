// bad_update against the real demo fleet: the two shipped Channel-File-291 scenarios through
// `ringfence demo`, and smaller fleets (started here) for A/A, pipeline mode, deploy failures,
// byte-for-byte restoration and bad input.
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/sys/system_file_system.h"
#include "demo/demo_command.h"
#include "demo/demo_fleet.h"
#include "faults/bad_update/bad_update.h"
#include "tests/support/chaos.h"
#include "tests/support/processes.h"

namespace ringfence {
namespace {

using nlohmann::json;
using testing::ChildRun;
using testing::ReadFile;
using testing::TempDir;

const char kDeploy[] =
    R"(["sh", "-c", "cp \"$1\" \"$2\" && pkill -HUP -f \"^[^ ]*ringfence-demo-service --port $3 \"", "deploy", "{artifact}", "{path}", "{port}"])";
const char kRollback[] =
    R"(["sh", "-c", "cp \"$1\" \"$2\" && { pkill -HUP -f \"^[^ ]*ringfence-demo-service --port $3 \" || true; }", "rollback", "{backup}", "{path}", "{port}"])";

// A demo fleet of `size` whose instances read their own content files in `dir`, and the hosts
// file that lists them.
class SmallFleet {
 public:
  explicit SmallFleet(int size) {
    const std::string good = DemoGoodContent();
    dir_.Write("good.txt", good);
    DemoFleetOptions options;
    options.size = size;
    options.service_binary = RINGFENCE_DEMO_SERVICE_BINARY;
    options.restart_delay = std::chrono::milliseconds(200);
    for (int i = 0; i < size; ++i) {
      const std::string name = "content-" + std::to_string(i) + ".txt";
      dir_.Write(name, good);
      options.content_files.push_back(dir_.File(name));
    }
    fleet_ = std::make_unique<DemoFleet>(options);
    started_ = fleet_->Start();
    if (!started_.ok()) return;
    json hosts = json::array();
    const auto ports = fleet_->ports();
    for (int i = 0; i < size; ++i) {
      const std::string base = "http://127.0.0.1:" + std::to_string(ports[i]);
      hosts.push_back({{"name", "demo-" + std::to_string(i)},
                       {"path", options.content_files[i]},
                       {"health_url", base + "/health"},
                       {"work_url", base + "/work"},
                       {"vars", {{"port", std::to_string(ports[i])}}}});
    }
    dir_.Write("hosts.json", hosts.dump());
  }
  ~SmallFleet() { fleet_->Stop(); }

  const Status& started() const { return started_; }
  const TempDir& dir() const { return dir_; }
  DemoFleet& fleet() { return *fleet_; }

  // Runs an experiment whose bad_update step has `params` (merged over the defaults here).
  int Run(const json& params, std::string* out = nullptr, std::string* err = nullptr,
          const std::string& duration = "4s") {
    json p = {{"hosts_file", dir_.File("hosts.json")},
              {"artifact", dir_.File("good.txt")},
              {"deploy", json::parse(kDeploy)},
              {"rollback", json::parse(kRollback)},
              {"bake", "1s"},
              {"gate_interval", "100ms"}};
    for (const auto& [k, v] : params.items()) p[k] = v;
    json experiment = {{"version", 1},
                       {"title", "bad_update test"},
                       {"guards", json::array()},
                       {"method", json::array({{{"type", "bad_update"},
                                                {"name", "update"},
                                                {"params", p},
                                                {"duration", duration}}})}};
    dir_.Write("experiment.json", experiment.dump(2));
    ChildRun run({RINGFENCE_BINARY, "run", dir_.File("experiment.json"), "--journal",
                  dir_.File("journal.json"), "--state-dir", dir_.File("state"), "--var",
                  "demo_fleet_id=" + fleet_->fleet_id()},
                 dir_.path());
    const int code = run.Wait(std::chrono::seconds(90));
    if (out) *out = run.out();
    if (err) *err = run.err();
    return code;
  }

  json Observed() const {
    return json::parse(ReadFile(dir_.File("journal.json")))["faults"][0]["observed"];
  }

  // True when every instance's content file holds the good bytes again.
  bool AllRestored() const {
    const std::string good = ReadFile(dir_.File("good.txt"));
    for (size_t i = 0; i < fleet_->ports().size(); ++i) {
      if (ReadFile(dir_.File("content-" + std::to_string(i) + ".txt")) != good) return false;
    }
    return true;
  }

 private:
  TempDir dir_;
  std::unique_ptr<DemoFleet> fleet_;
  Status started_;
};

json DemoJournal(const TempDir& dir) { return json::parse(ReadFile(dir.File("journal.json"))); }

int RunDemoScenario(const std::string& scenario, const TempDir& dir, std::string* out) {
  ChildRun run({RINGFENCE_BINARY, "demo", "--scenario",
                std::string(RINGFENCE_SOURCE_DIR) + "/scenarios/" + scenario, "--journal",
                dir.File("journal.json"), "--state-dir", dir.File("state")},
               dir.path());
  const int code = run.Wait(std::chrono::seconds(90));
  *out = run.out() + run.err();
  return code;
}

TEST(BadUpdateScenarioTest, ChannelFile291IsContainedInTheCanary) {
  TempDir dir;
  std::string out;
  const int code = RunDemoScenario("channel-file-291.json", dir, &out);
  ASSERT_EQ(code, 0) << out;
  const json observed = DemoJournal(dir)["faults"][0]["observed"];
  EXPECT_EQ(observed["fleet"], 20) << observed.dump();
  EXPECT_EQ(observed["exposed"], 1);
  EXPECT_EQ(observed["detected_in_wave"], 1);
  EXPECT_EQ(observed["verdict_reason"], "contained");
  EXPECT_EQ(observed["stranded"], 0);
  EXPECT_EQ(observed["overshoot"], 0);
  EXPECT_DOUBLE_EQ(observed["blast_radius"].get<double>(), 0.05);
  EXPECT_TRUE(observed["time_to_detect_ms"].is_number_integer());
  EXPECT_TRUE(observed["time_to_rollback_ms"].is_number_integer());
  EXPECT_EQ(observed["detected_by"].get<std::string>().rfind("demo-0 unhealthy for 2 samples: ", 0),
            0u)
      << observed.dump();
  EXPECT_NE(out.find("demo: starting a fleet of 20 ringfence-demo-service instances"),
            std::string::npos);
}

TEST(BadUpdateScenarioTest, ChannelFile291AllAtOnceExceedsTheBlastRadius) {
  TempDir dir;
  std::string out;
  const int code = RunDemoScenario("channel-file-291-all-at-once.json", dir, &out);
  ASSERT_EQ(code, 1) << out;
  const json journal = DemoJournal(dir);
  const json observed = journal["faults"][0]["observed"];
  EXPECT_EQ(observed["fleet"], 20) << observed.dump();
  EXPECT_EQ(observed["exposed"], 20);
  EXPECT_EQ(observed["detected_in_wave"], 1);
  EXPECT_EQ(observed["verdict_reason"], "blast_radius_exceeded");
  EXPECT_EQ(observed["stranded"], 0);
  EXPECT_DOUBLE_EQ(observed["blast_radius"].get<double>(), 1.0);
  EXPECT_EQ(journal["status"], "failed");
  EXPECT_EQ(journal["reason"],
            "channel-file-291-all-at-once: the fault's expectation did not hold: "
            "blast_radius_exceeded: 20 of 20 hosts exposed (blast radius 1, allowed 0.1)");
}

TEST(BadUpdateTest, AnAaRunWithTheGoodArtifactPasses) {
  SmallFleet fleet(4);
  ASSERT_TRUE(fleet.started().ok()) << fleet.started().message();
  std::string out, err;
  const int code = fleet.Run({{"mode", "aa"}, {"waves", {1, "50%", "100%"}}}, &out, &err, "5s");
  ASSERT_EQ(code, 0) << out << err;
  const json observed = fleet.Observed();
  EXPECT_EQ(observed["verdict_reason"], "contained") << observed.dump();
  EXPECT_EQ(observed["exposed"], 4);
  EXPECT_EQ(observed["waves_run"], 3);
  EXPECT_TRUE(observed["detected_by"].is_null());
  EXPECT_EQ(fleet.fleet().restarts(), 0);
  EXPECT_TRUE(fleet.AllRestored());
}

TEST(BadUpdateTest, EveryHostIsRestoredByteForByteAfterTheRollback) {
  SmallFleet fleet(4);
  ASSERT_TRUE(fleet.started().ok()) << fleet.started().message();
  const std::string before = ReadFile(fleet.dir().File("content-0.txt"));
  auto good_sum = FileChecksum(SystemFileSystem(), fleet.dir().File("good.txt"));
  ASSERT_TRUE(good_sum.ok());
  std::string out, err;
  // Two hosts in the canary: both crash, both are rolled back.
  const int code = fleet.Run({{"waves", {"2", "100%"}}, {"max_blast_radius", 0.5}}, &out, &err);
  ASSERT_EQ(code, 0) << out << err;
  const json observed = fleet.Observed();
  EXPECT_EQ(observed["exposed"], 2) << observed.dump();
  EXPECT_EQ(observed["verdict_reason"], "contained");
  for (int i = 0; i < 4; ++i) {
    auto sum =
        FileChecksum(SystemFileSystem(), fleet.dir().File("content-" + std::to_string(i) + ".txt"));
    ASSERT_TRUE(sum.ok());
    EXPECT_EQ(*sum, *good_sum) << "host " << i;
  }
  EXPECT_EQ(ReadFile(fleet.dir().File("content-0.txt")), before);
  // The run's work directory (artifact, backups) is gone.
  const json journal = json::parse(ReadFile(fleet.dir().File("journal.json")));
  const std::string work_dir = journal["faults"][0]["targets"][0]["undo"]["data"]["work_dir"];
  EXPECT_FALSE(std::filesystem::exists(work_dir)) << work_dir;
}

// The runner SIGKILLed at seeded points of a rollout: its watchdog restores every host's content
// from the backups named in the ledger, so no host is left with the bad artifact.
TEST(BadUpdateTest, RunnerKilledMidRolloutLeavesNoHostWithTheBadArtifact) {
  SmallFleet fleet(3);
  ASSERT_TRUE(fleet.started().ok()) << fleet.started().message();
  // A "bad" artifact the service takes without crashing: nothing halts the rollout, so most
  // kill points find hosts holding it (a crashing one is rolled back within ~100 ms).
  fleet.dir().Write("other.txt", ReadFile(fleet.dir().File("good.txt")) + "# v2\n");
  testing::ChaosRun chaos(fleet.dir(), {{"type", "bad_update"},
                                        {"params",
                                         {{"hosts_file", fleet.dir().File("hosts.json")},
                                          {"artifact", fleet.dir().File("good.txt")},
                                          {"bad_artifact", fleet.dir().File("other.txt")},
                                          {"deploy", json::parse(kDeploy)},
                                          {"rollback", json::parse(kRollback)},
                                          {"waves", {1, 2, "100%"}},
                                          {"bake", "300ms"},
                                          {"gate_interval", "100ms"}}},
                                        {"duration", "2s"}});
  chaos.KillAtSeededPoints(6, 1007, 1800, [&]() -> std::string {
    const std::string good = ReadFile(fleet.dir().File("good.txt"));
    for (int i = 0; i < 3; ++i) {
      if (ReadFile(fleet.dir().File("content-" + std::to_string(i) + ".txt")) != good) {
        return "host demo-" + std::to_string(i) + " still has another artifact";
      }
    }
    return "";
  });
}

TEST(BadUpdateTest, APipelineThatIgnoresHealthIsNotDetectedAndReachesEveryHost) {
  SmallFleet fleet(4);
  ASSERT_TRUE(fleet.started().ok()) << fleet.started().message();
  // The user's rollout tool: copies the artifact everywhere, reloads, never looks at health.
  fleet.dir().Write(
      "pipeline.sh",
      "for f in \"$2\"/content-*.txt; do cp \"$1\" \"$f\"; done\n"
      "pkill -HUP -f \"^[^ ]*ringfence-demo-service --port [0-9]+ --fleet-id $3( |$)\"\n"
      "exit 0\n");
  std::string out, err;
  const int code = fleet.Run({{"mode", "pipeline"},
                              {"pipeline_command",
                               {"sh", fleet.dir().File("pipeline.sh"), "{artifact}",
                                fleet.dir().path(), fleet.fleet().fleet_id()}}},
                             &out, &err);
  ASSERT_EQ(code, 1) << out << err;
  const json observed = fleet.Observed();
  EXPECT_EQ(observed["verdict_reason"], "not_detected") << observed.dump();
  EXPECT_EQ(observed["exposed"], 4);
  EXPECT_DOUBLE_EQ(observed["blast_radius"].get<double>(), 1.0);
  EXPECT_EQ(observed["pipeline_exit_code"], 0);
  EXPECT_TRUE(observed["time_to_detect_ms"].is_number_integer());
  EXPECT_EQ(observed["stranded"], 0);
  EXPECT_TRUE(fleet.AllRestored());
}

// Issue 11, point 9: a pipeline that keeps deploying host after host after the damage showed.
// ringfence halts it (SIGTERM to its process group) as soon as a gate fails and rolls back at
// once: at most one more host is reached, nothing of the pipeline is left, every host has its
// bytes back.
TEST(BadUpdateTest, APipelineThatKeepsDeployingIsHaltedWhenTheGateFails) {
  SmallFleet fleet(8);
  ASSERT_TRUE(fleet.started().ok()) << fleet.started().message();
  // In the command lines of the pipeline's shell and of each of its sleeps.
  const std::string marker = testing::UniqueDigits();
  fleet.dir().Write(
      "pipeline.sh",
      "for f in \"$2\"/content-*.txt; do\n"
      "  cp \"$1\" \"$f\"\n"
      "  pkill -HUP -f \"^[^ ]*ringfence-demo-service --port [0-9]+ --fleet-id $3( |$)\"\n"
      "  sleep 1.000$4\n"
      "done\n"
      "exit 0\n");
  std::string out, err;
  const int code = fleet.Run({{"mode", "pipeline"},
                              {"max_blast_radius", 0.5},
                              {"pipeline_stop_grace", "1s"},
                              {"pipeline_command",
                               {"sh", fleet.dir().File("pipeline.sh"), "{artifact}",
                                fleet.dir().path(), fleet.fleet().fleet_id(), marker}}},
                             &out, &err);
  const json observed = fleet.Observed();
  ASSERT_TRUE(observed.contains("pipeline_halt")) << observed.dump() << out << err;
  const json halt = observed["pipeline_halt"];
  EXPECT_EQ(halt["halted_by"], "gate") << observed.dump();
  EXPECT_EQ(halt["left_running"], false);
  EXPECT_LE(observed["overshoot"].get<int>(), 1) << observed.dump();
  EXPECT_EQ(halt["overshoot"], observed["overshoot"]);
  EXPECT_LT(observed["exposed"].get<int>(), 8) << observed.dump();
  // Contained (exit 0) when it reached no other host; else the overshoot fails the run (exit 1).
  if (observed["overshoot"] == 0) {
    EXPECT_EQ(halt["contained"], true);
    EXPECT_EQ(observed["verdict_reason"], "contained");
    EXPECT_EQ(code, 0) << out << err;
  } else {
    EXPECT_EQ(halt["contained"], false);
    EXPECT_EQ(observed["verdict_reason"], "overshoot");
    EXPECT_EQ(code, 1) << out << err;
  }
  EXPECT_EQ(testing::CountProcesses(marker), 0);
  EXPECT_TRUE(fleet.AllRestored());
  EXPECT_EQ(observed["stranded"], 0);
}

// A pipeline that ignores SIGTERM (and so do its children, who inherit the ignored signal) is
// killed with SIGKILL after pipeline_stop_grace: nothing of it is left.
TEST(BadUpdateTest, APipelineThatIgnoresSigtermIsKilledAfterTheGrace) {
  SmallFleet fleet(4);
  ASSERT_TRUE(fleet.started().ok()) << fleet.started().message();
  const std::string marker = testing::UniqueDigits();
  fleet.dir().Write(
      "pipeline.sh",
      "trap '' TERM\n"
      "for f in \"$2\"/content-*.txt; do\n"
      "  cp \"$1\" \"$f\"\n"
      "  pkill -HUP -f \"^[^ ]*ringfence-demo-service --port [0-9]+ --fleet-id $3( |$)\"\n"
      "  sleep 3.000$4\n"
      "done\n"
      "exit 0\n");
  std::string out, err;
  fleet.Run({{"mode", "pipeline"},
             {"max_blast_radius", 0.5},
             {"pipeline_stop_grace", "300ms"},
             {"pipeline_command",
              {"sh", fleet.dir().File("pipeline.sh"), "{artifact}", fleet.dir().path(),
               fleet.fleet().fleet_id(), marker}}},
            &out, &err);
  const json observed = fleet.Observed();
  ASSERT_TRUE(observed.contains("pipeline_halt")) << observed.dump() << out << err;
  EXPECT_EQ(observed["pipeline_halt"]["signal"], "SIGKILL") << observed.dump();
  EXPECT_EQ(observed["pipeline_halt"]["left_running"], false);
  EXPECT_EQ(observed["pipeline_exit_code"], 137);
  EXPECT_LE(observed["overshoot"].get<int>(), 1) << observed.dump();
  EXPECT_EQ(testing::CountProcesses(marker), 0);
  EXPECT_TRUE(fleet.AllRestored());
}

TEST(BadUpdateTest, DeployFailuresCountAgainstMaxErrors) {
  SmallFleet fleet(3);
  ASSERT_TRUE(fleet.started().ok()) << fleet.started().message();
  // demo-2 cannot be deployed to; truncate makes a file the service rejects and survives.
  const json deploy = {"sh",
                       "-c",
                       "test \"$1\" != demo-2 || { echo no route >&2; exit 3; }; cp \"$2\" \"$3\"",
                       "deploy",
                       "{name}",
                       "{artifact}",
                       "{path}"};
  std::string out, err;
  int code = fleet.Run({{"mutation", "truncate"},
                        {"deploy", deploy},
                        {"waves", {"1", "100%"}},
                        {"max_blast_radius", 1.0},
                        {"max_errors", 0}},
                       &out, &err);
  EXPECT_EQ(code, 0) << out << err;
  json observed = fleet.Observed();
  EXPECT_EQ(observed["detected_by"], "deploy: 1 error in wave 2 > max_errors 0") << observed.dump();
  EXPECT_EQ(observed["exposed"], 2);
  ASSERT_EQ(observed["deploy_errors"].size(), 1u);
  EXPECT_EQ(observed["deploy_errors"][0]["host"], "demo-2");
  const std::string error = observed["deploy_errors"][0]["error"];
  const std::string suffix = " exited with 3: no route";
  ASSERT_GT(error.size(), suffix.size());
  EXPECT_EQ(error.substr(error.size() - suffix.size()), suffix) << error;
  EXPECT_EQ(error.rfind("sh -c ", 0), 0u) << error;
  EXPECT_TRUE(fleet.AllRestored());

  // One error tolerated: the rollout goes on to the end (truncated content is rejected by the
  // service, so nothing crashes and nothing is detected).
  code = fleet.Run({{"mutation", "truncate"},
                    {"deploy", deploy},
                    {"waves", {"1", "100%"}},
                    {"max_blast_radius", 1.0},
                    {"max_errors", 1}},
                   &out, &err);
  EXPECT_EQ(code, 1) << out << err;
  observed = fleet.Observed();
  EXPECT_EQ(observed["verdict_reason"], "not_detected") << observed.dump();
  EXPECT_EQ(observed["exposed"], 2);
  EXPECT_EQ(observed["deploy_errors"].size(), 1u);
  EXPECT_TRUE(fleet.AllRestored());
}

TEST(BadUpdateTest, BadInputExitsTwoAndDeploysNothing) {
  SmallFleet fleet(2);
  ASSERT_TRUE(fleet.started().ok()) << fleet.started().message();
  fleet.dir().Write("no-records.txt", "# nothing but a comment\n");
  const std::string file = fleet.dir().File("experiment.json");
  const std::string p = "/method/0/params";
  struct Case {
    json params;
    std::string error;
  };
  const std::vector<Case> cases = {
      {{{"waves", {2, "50%"}}},
       p + "/waves: [2,\"50%\"]: wave 2 (1 host) does not grow: it must expose more hosts than "
           "wave 1 (2)"},
      {{{"waves", {"1", "150%"}}},
       p + "/waves/1: \"150%\": a host count of at least 1 (3) or a percentage above 0 and at "
           "most 100 (\"10%\")"},
      {{{"waves", {1, 3}}}, p + "/waves: [1,3]: wave 2 needs 3 hosts; the fleet has 2"},
      {{{"waves", {true, "100%"}}}, p + "/waves/0: true: a count (3) or a percentage (\"10%\")"},
      {{{"rollback", nullptr}},
       p + "/rollback: missing: a non-empty command: the program, then its arguments"},
      {{{"artifact", fleet.dir().File("no-records.txt")}},
       p + "/mutation: \"extra_field\": a mutation the artifact can take: it has no records to "
           "add a field to"},
      {{{"alpha", 1.5}}, p + "/alpha: 1.5: a number above 0 and below 1"},
  };
  for (const Case& c : cases) {
    json params = c.params;
    std::string out, err;
    // A null value means "leave the key out".
    json merged = params;
    const int code = [&] {
      if (merged.contains("rollback") && merged["rollback"].is_null()) {
        // Run() always sets rollback; write this experiment by hand.
        json p2 = {{"hosts_file", fleet.dir().File("hosts.json")},
                   {"artifact", fleet.dir().File("good.txt")},
                   {"deploy", json::parse(kDeploy)}};
        json experiment = {
            {"version", 1},
            {"title", "t"},
            {"guards", json::array()},
            {"method",
             json::array({{{"type", "bad_update"}, {"params", p2}, {"duration", "5s"}}})}};
        fleet.dir().Write("experiment.json", experiment.dump());
        ChildRun run({RINGFENCE_BINARY, "run", file, "--state-dir", fleet.dir().File("state")},
                     fleet.dir().path());
        const int rc = run.Wait();
        err = run.err();
        return rc;
      }
      return fleet.Run(merged, &out, &err);
    }();
    EXPECT_EQ(code, 2) << err;
    EXPECT_NE(err.find(file + ": " + c.error + "\n"), std::string::npos) << err;
    EXPECT_TRUE(fleet.AllRestored());
  }
  EXPECT_EQ(fleet.fleet().restarts(), 0);
}

}  // namespace
}  // namespace ringfence
