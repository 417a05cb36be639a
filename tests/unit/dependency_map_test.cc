#include "core/model/dependency_map.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/fault/fault.h"

namespace ringfence {
namespace {

// A valid map; each test breaks one thing.
nlohmann::json ValidMap() {
  return nlohmann::json::parse(R"({
    "version": 1,
    "title": "frontend",
    "service": {
      "name": "frontend",
      "process": {"cmdline": "frontend --port 8080"},
      "endpoint": "127.0.0.1:8080",
      "steady_state": [{"name": "up", "type": "tcp", "port": 8080}],
      "slos": [{"name": "success", "source": {"type": "probe_stats",
                "probe": {"type": "http", "url": "http://127.0.0.1:8080/work"},
                "rate": 10, "window": "2s", "stat": "success_ratio"},
                "condition": {"min": 0.99}}]
    },
    "discover": true,
    "discover_window": "2s",
    "dependencies": [
      {"name": "db", "endpoint": "127.0.0.1:5432", "process": {"cmdline": "db --port 5432"},
       "expect": "hard",
       "faults": [{"kind": "latency", "delay": "300ms", "duration": "5s", "settle": "10s"},
                  {"kind": "partition", "duration": "5s", "settle": "10s"},
                  {"kind": "kill", "duration": "5s", "settle": "10s",
                   "restart_command": ["true"]}]},
      {"name": "cache", "endpoint": "[::1]:6379",
       "faults": [{"kind": "partition", "action": "drop", "duration": "5s", "settle": "5s"}]}
    ]
  })");
}

std::vector<std::string> Errors(const nlohmann::json& map) {
  ValidationErrors errors;
  MapLoadOptions options;
  options.catalog = &FaultRegistry::Global();
  auto loaded = LoadDependencyMapText(map.dump(), options, errors);
  EXPECT_EQ(loaded.has_value(), errors.empty());
  return errors.Format("map.json");
}

TEST(DependencyMapTest, AValidMapHasACellPerDependencyAndFault) {
  ValidationErrors errors;
  MapLoadOptions options;
  options.catalog = &FaultRegistry::Global();
  auto map = LoadDependencyMapText(ValidMap().dump(), options, errors);
  ASSERT_TRUE(map) << errors.Format("map.json")[0];
  EXPECT_EQ(map->service_name, "frontend");
  EXPECT_TRUE(map->discover);
  EXPECT_EQ(map->discover_window, std::chrono::seconds(2));
  ASSERT_EQ(map->dependencies.size(), 2u);
  EXPECT_EQ(map->dependencies[0].expect, DependencyKind::kHard);
  EXPECT_FALSE(map->dependencies[1].expect.has_value());
  EXPECT_EQ(map->dependencies[1].endpoint->Format(), "[::1]:6379");
  ASSERT_EQ(map->cells.size(), 4u);
  EXPECT_EQ(map->cells[0].name, "db × latency");
  EXPECT_EQ(map->cells[2].name, "db × kill");
  EXPECT_EQ(map->cells[3].name, "cache × partition");
  const auto& latency = map->cells[0].experiment["method"][0];
  EXPECT_EQ(latency["type"], "latency");
  EXPECT_EQ(latency["params"]["delay"], "300ms");
  EXPECT_EQ(latency["params"]["port"], 5432);
  EXPECT_EQ(latency["params"]["address"], "127.0.0.1");
  const auto& partition = map->cells[3].experiment["method"][0];
  EXPECT_EQ(partition["type"], "network_partition");
  EXPECT_EQ(partition["params"]["action"], "drop");
  EXPECT_EQ(partition["params"]["address"], "::1");
  const auto& kill = map->cells[2].experiment["method"];
  EXPECT_EQ(kill[0]["type"], "process_kill");
  EXPECT_EQ(kill[0]["target"], "dependency");
  EXPECT_EQ(kill[0]["params"]["signal"], "SIGKILL");
  EXPECT_EQ(kill[1]["type"], "wait");
  EXPECT_EQ(map->cells[2].experiment["guards"][0]["name"], "success");
}

TEST(DependencyMapTest, KillOnAnEndpointDependency) {
  auto map = ValidMap();
  map["dependencies"][1]["faults"][0]["kind"] = "kill";
  EXPECT_EQ(Errors(map),
            std::vector<std::string>{
                "map.json: /dependencies/1/faults/0/kind: \"kill\": one of latency, partition "
                "(kill needs the dependency's \"process\")"});
}

TEST(DependencyMapTest, LatencyOnAProcessDependency) {
  auto map = ValidMap();
  map["dependencies"][0].erase("endpoint");
  map["dependencies"][0]["faults"].erase(1);
  EXPECT_EQ(Errors(map),
            std::vector<std::string>{
                "map.json: /dependencies/0/faults/0/kind: \"latency\": one of kill (latency needs "
                "the dependency's \"endpoint\")"});
}

TEST(DependencyMapTest, NoSlo) {
  auto map = ValidMap();
  map["service"]["slos"] = nlohmann::json::array();
  EXPECT_EQ(Errors(map),
            std::vector<std::string>{"map.json: /service/slos: []: an array of 1 to 20 guards (the "
                                     "service's SLOs, docs/guards.md)"});
  map["service"].erase("slos");
  EXPECT_EQ(Errors(map), std::vector<std::string>{
                             "map.json: /service/slos: missing: an array of 1 to 20 guards (the "
                             "service's SLOs, docs/guards.md)"});
}

TEST(DependencyMapTest, SettleTimeZero) {
  auto map = ValidMap();
  map["dependencies"][1]["faults"][0]["settle"] = "0s";
  EXPECT_EQ(Errors(map), std::vector<std::string>{
                             "map.json: /dependencies/1/faults/0/settle: \"0s\": a duration such "
                             "as \"250ms\", \"30s\", \"2m\" (greater than 0: the time the service "
                             "has to recover)"});
}

TEST(DependencyMapTest, ADependencyEqualToTheService) {
  auto map = ValidMap();
  map["dependencies"][1]["endpoint"] = "127.0.0.1:8080";
  map["dependencies"][0]["process"] = map["service"]["process"];
  map["dependencies"].push_back(map["dependencies"][1]);
  map["dependencies"][2]["name"] = "frontend";
  EXPECT_EQ(Errors(map),
            (std::vector<std::string>{
                "map.json: /dependencies/0: \"db\": a dependency other than the service itself "
                "(its process is /service/process)",
                "map.json: /dependencies/1: \"cache\": a dependency other than the service itself "
                "(its endpoint is /service/endpoint, 127.0.0.1:8080)",
                "map.json: /dependencies/2: \"frontend\": a dependency other than the service "
                "itself (its name is /service/name)"}));
}

TEST(DependencyMapTest, ErrorsTheExperimentLoaderFindsPointIntoTheMap) {
  auto map = ValidMap();
  map["service"]["slos"][0]["condition"] = {{"most", 1}};
  map["dependencies"][0]["faults"][0]["delay"] = "2h";
  map["dependencies"][0]["faults"][1]["action"] = "block";
  map["dependencies"][0]["faults"][2]["pid"] = 1;
  map["dependencies"][1]["endpoint"] = "cache:6379";
  EXPECT_EQ(
      Errors(map),
      (std::vector<std::string>{
          "map.json: /dependencies/0/faults/2/pid: unknown key: one of kind, duration, settle, "
          "signal, grace, restart_command, expect_restart_within",
          "map.json: /dependencies/1/endpoint: \"cache:6379\": an address and a port such as "
          "\"127.0.0.1:5432\" or \"[::1]:5432\" (names are not resolved)"}));
  map["dependencies"][0]["faults"][2].erase("pid");
  map["dependencies"][1]["endpoint"] = "127.0.0.1:6379";
  EXPECT_EQ(Errors(map),
            (std::vector<std::string>{
                "map.json: /dependencies/0/faults/0/delay: \"2h\": a duration such as \"250ms\", "
                "\"30s\", \"2m\" (from 0s to 1m)",
                "map.json: /service/slos/0/condition/most: unknown key: one of min, max, "
                "min_vs_baseline, max_vs_baseline",
                "map.json: /dependencies/0/faults/1/action: \"block\": one of drop, reject"}));
}

TEST(DependencyMapTest, TheDocumentItself) {
  EXPECT_EQ(Errors(nlohmann::json::array()),
            std::vector<std::string>{"map.json: /: []: a dependency map (docs/dependency-map.md)"});
  auto map = ValidMap();
  map["extra"] = 1;
  map["dependencies"][1]["name"] = "db";
  map["dependencies"][1]["expect"] = "maybe";
  map["discover_window"] = "1h";
  EXPECT_EQ(Errors(map),
            (std::vector<std::string>{
                "map.json: /discover_window: \"1h\": a duration such as \"250ms\", \"30s\", \"2m\" "
                "(100ms to 10m)",
                "map.json: /extra: unknown key: one of version, title, service, discover, "
                "discover_window, dependencies",
                "map.json: /dependencies/1/expect: \"maybe\": one of hard, soft"}));
  map["dependencies"][1]["expect"] = "soft";
  map.erase("extra");
  map["discover_window"] = "1s";
  EXPECT_EQ(Errors(map), std::vector<std::string>{
                             "map.json: /dependencies/1/name: \"db\": a name no other dependency "
                             "has (/dependencies/0 has it)"});
}

TEST(DependencyMapTest, TheExampleOfTheDocsPageLoads) {
  std::ifstream page(std::string(RINGFENCE_SOURCE_DIR) + "/docs/dependency-map.md");
  std::stringstream text;
  text << page.rdbuf();
  const std::string md = text.str();
  const size_t start = md.find("```json\n");
  ASSERT_NE(start, std::string::npos);
  const size_t end = md.find("```", start + 8);
  ValidationErrors errors;
  MapLoadOptions options;
  options.catalog = &FaultRegistry::Global();
  auto map = LoadDependencyMapText(md.substr(start + 8, end - start - 8), options, errors);
  ASSERT_TRUE(map) << errors.Format("example")[0];
  EXPECT_EQ(map->cells.size(), 4u);
}

}  // namespace
}  // namespace ringfence
