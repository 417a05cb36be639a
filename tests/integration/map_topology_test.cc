// The demo topology (docs/dependency-map.md, docs/demo.md): a frontend demo service whose /work
// calls db (hard), cache (soft), recommendations (timeout 50ms) and audit (soft, which the map
// does not declare), each a demo service of its own on loopback. The shipped map must come out
// exactly: db hard, cache soft (latency and partition degraded), recommendations soft, audit
// undeclared. Runs as root (latency and partition use nftables), like the other fault tests.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/ledger/file_ledger.h"
#include "tests/support/chaos.h"
#include "tests/support/processes.h"

namespace ringfence {
namespace {

using json = nlohmann::json;
using testing::ChildProcesses;
using testing::ChildRun;
using testing::Eventually;
using testing::ProcessesMentioning;
using testing::ReadFile;
using testing::TempDir;

class MapTopologyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int port : {18201, 18202, 18203, 18204}) {
      pids_[port] =
          children_.Spawn({RINGFENCE_DEMO_SERVICE_BINARY, "--port", std::to_string(port)});
    }
    for (int port : {18201, 18202, 18203, 18204}) ASSERT_TRUE(Up(port)) << port;
    frontend_ = children_.Spawn({RINGFENCE_DEMO_SERVICE_BINARY, "--port", "18200", "--depends",
                                 "db=http://127.0.0.1:18201/work:hard", "--depends",
                                 "cache=http://127.0.0.1:18202/work:soft", "--depends",
                                 "recommendations=http://127.0.0.1:18203/work:timeout=50ms",
                                 "--depends", "audit=http://127.0.0.1:18204/work:soft"});
    ASSERT_TRUE(Up(18200));
  }

  // The service answers /health (through curl, as a user would check).
  bool Up(int port) {
    return Eventually([&] {
      ChildRun curl({"/usr/bin/curl", "-sf", "-o", "/dev/null",
                     "http://127.0.0.1:" + std::to_string(port) + "/health"},
                    dir_.path());
      return curl.Wait() == 0;
    });
  }

  int Map(const std::string& file, json& result) {
    ChildRun run({RINGFENCE_BINARY, "map", file, "--journal", dir_.File("map.json"), "--state-dir",
                  dir_.File("state"), "--report", dir_.File("map.html")},
                 dir_.path());
    const int code = run.Wait(std::chrono::seconds(110));
    out_ = run.out();
    result = json::parse(ReadFile(dir_.File("map.json")), nullptr, false);
    return code;
  }

  const json* Dependency(const json& result, const std::string& name) {
    for (const auto& d : result["dependencies"]) {
      if (d["name"] == name) return &d;
    }
    return nullptr;
  }

  std::string Outcome(const json& dependency, const std::string& fault) {
    for (const auto& c : dependency["cells"]) {
      if (c["fault"] == fault) return c["outcome"];
    }
    return "";
  }

  TempDir dir_;
  ChildProcesses children_;
  std::map<int, pid_t> pids_;
  pid_t frontend_ = -1;
  std::string out_;
};

TEST_F(MapTopologyTest, TheShippedMapComesOutExactly) {
  json result;
  const int code =
      Map(std::string(RINGFENCE_SOURCE_DIR) + "/scenarios/maps/demo-topology.json", result);
  ASSERT_EQ(code, 0) << out_;
  const json* db = Dependency(result, "db");
  const json* cache = Dependency(result, "cache");
  const json* recommendations = Dependency(result, "recommendations");
  ASSERT_TRUE(db && cache && recommendations) << result.dump(2);
  EXPECT_EQ((*db)["verdict"], "hard");
  EXPECT_EQ(Outcome(*db, "partition"), "broken");
  EXPECT_EQ((*cache)["verdict"], "soft");
  EXPECT_EQ(Outcome(*cache, "latency"), "degraded");
  EXPECT_EQ(Outcome(*cache, "partition"), "degraded");
  EXPECT_EQ((*recommendations)["verdict"], "soft");
  for (const auto* d : {db, cache, recommendations}) EXPECT_FALSE((*d)["mismatch"]) << *d;
  ASSERT_EQ(result["discovery"]["undeclared"].size(), 1u) << result["discovery"].dump(2);
  EXPECT_EQ(result["discovery"]["undeclared"][0]["endpoint"], "127.0.0.1:18204");
  EXPECT_EQ(result["discovery"]["undeclared"][0]["listener"]["pid"], pids_[18204]);
  EXPECT_TRUE(result["stopped"].is_null());
  for (const auto& e : std::filesystem::directory_iterator(dir_.path())) {
    EXPECT_NE(e.path().filename().string().rfind(".ringfence-map-cells-", 0), 0u) << e.path();
  }
  // The heatmap, as headless Chromium builds it: one row per dependency, its cells' outcomes.
  TempDir profile;
  ChildRun chromium(
      {"/usr/bin/chromium", "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
       "--disable-background-networking", "--disable-component-update",
       "--user-data-dir=" + profile.path(), "--dump-dom", "file://" + dir_.File("map.html")},
      dir_.path());
  ASSERT_EQ(chromium.Wait(std::chrono::seconds(60)), 0) << chromium.err();
  const std::string dom = chromium.out();
  EXPECT_NE(dom.find("data-verdict=\"passed\">AS EXPECTED"), std::string::npos) << dom;
  EXPECT_NE(dom.find("<tr data-dependency=\"cache\"><th>cache<br><small>127.0.0.1:18202</small>"
                     "</th><td class=\"cell o-degraded\" data-outcome=\"degraded\">"),
            std::string::npos)
      << dom;
  EXPECT_NE(dom.find("<li><b>undeclared dependency</b> 127.0.0.1:18204: listener pid " +
                     std::to_string(pids_[18204])),
            std::string::npos)
      << dom;
  // Every cell reverted: each cell's journal says so.
  for (const auto& d : result["dependencies"]) {
    for (const auto& c : d["cells"]) {
      const json journal = json::parse(ReadFile(c["journal"]), nullptr, false);
      EXPECT_TRUE(journal.value("reverted_cleanly", false)) << c["journal"];
    }
  }
}

TEST_F(MapTopologyTest, ADependencyBelievedSoftThatBreaksTheServiceIsAMismatch) {
  json map = json::parse(
      ReadFile(std::string(RINGFENCE_SOURCE_DIR) + "/scenarios/maps/demo-topology.json"));
  map["discover"] = false;
  map["dependencies"] = json::array({map["dependencies"][0]});
  map["dependencies"][0]["expect"] = "soft";
  map["dependencies"][0]["faults"].erase(0);  // the partition only
  dir_.Write("soft-db.json", map.dump());
  json result;
  EXPECT_EQ(Map("soft-db.json", result), 1) << out_;
  const json* db = Dependency(result, "db");
  ASSERT_NE(db, nullptr);
  EXPECT_EQ((*db)["verdict"], "hard");
  EXPECT_EQ((*db)["expect"], "soft");
  EXPECT_TRUE((*db)["mismatch"]);
  EXPECT_NE(out_.find("db               -              broken         -              hard     "
                      "soft      MISMATCH\n"),
            std::string::npos)
      << out_;
}

TEST_F(MapTopologyTest, AServiceThatDoesNotRecoverStopsTheMap) {
  // A kill of db with nothing to restart it: the frontend stays broken after the "revert".
  json map = json::parse(
      ReadFile(std::string(RINGFENCE_SOURCE_DIR) + "/scenarios/maps/demo-topology.json"));
  map["discover"] = false;
  map["dependencies"][0]["process"] = {{"pid", pids_[18201]}};
  map["dependencies"][0]["faults"] =
      json::array({{{"kind", "kill"}, {"duration", "2s"}, {"settle", "2s"}}});
  dir_.Write("kill-db.json", map.dump());
  json result;
  EXPECT_EQ(Map("kill-db.json", result), 1) << out_;
  const json* db = Dependency(result, "db");
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(Outcome(*db, "kill"), "not recovered");
  EXPECT_EQ(result["stopped"], "db × kill: the service did not recover");
  // The cells after it never ran.
  EXPECT_TRUE((*Dependency(result, "cache"))["cells"].empty());
}

TEST_F(MapTopologyTest, SigkillOfTheRunnerMidCellLeavesNothing) {
  // One long partition cell; the runner is killed while the partition is in place. The cell's
  // watchdog (the experiments' own) reverts it: the ledger shows nothing outstanding and the
  // frontend works again.
  json map = json::parse(
      ReadFile(std::string(RINGFENCE_SOURCE_DIR) + "/scenarios/maps/demo-topology.json"));
  map["discover"] = false;
  map["service"]["slos"] = json::array({map["service"]["slos"][0]});
  map["service"]["slos"][0]["condition"] = {{"min", 0}};        // never breaches: the cell goes on
  map["dependencies"] = json::array({map["dependencies"][1]});  // cache
  map["dependencies"][0]["faults"] = json::array(
      {{{"kind", "partition"}, {"action", "drop"}, {"duration", "60s"}, {"settle", "5s"}}});
  dir_.Write("long.json", map.dump());
  const std::string state = dir_.File("state");
  auto outstanding = [&] {
    for (const auto& path : ListLedgers(state)) {
      auto c = ReadLedger(path);
      if (c.ok() && !c->Outstanding().empty()) return true;
    }
    return false;
  };
  {
    ChildRun run({RINGFENCE_BINARY, "map", "long.json", "--journal", dir_.File("map.json"),
                  "--state-dir", state},
                 dir_.path());
    ASSERT_TRUE(Eventually([&] { return outstanding(); }, std::chrono::seconds(30))) << run.out();
    run.Signal(SIGKILL);
    EXPECT_EQ(run.Wait(), 128 + SIGKILL);
  }
  EXPECT_TRUE(
      Eventually([&] { return ProcessesMentioning(state).empty(); }, std::chrono::seconds(30)));
  EXPECT_FALSE(outstanding());
  const auto ledgers = ListLedgers(state);
  ASSERT_EQ(ledgers.size(), 1u);
  auto ledger = ReadLedger(ledgers[0]);
  ASSERT_TRUE(ledger.ok());
  ASSERT_FALSE(ledger->entries.empty());
  for (const auto& e : ledger->entries) EXPECT_EQ(e.reverted_by, "watchdog");
  EXPECT_TRUE(Up(18202));
  for (pid_t p : ProcessesMentioning(state)) ::kill(p, SIGKILL);
  // The killed runner's cell files stay beside its journal (in the test's folder), not in /tmp.
  int cell_folders = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_.path())) {
    cell_folders += e.path().filename().string().rfind(".ringfence-map-cells-", 0) == 0;
  }
  EXPECT_EQ(cell_folders, 1);
}

}  // namespace
}  // namespace ringfence
