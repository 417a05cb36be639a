// Every shipped scenario must validate against the faults this build registers, so that the
// examples in scenarios/ never rot.
#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "demo/demo_command.h"

#include "tests/support/processes.h"

namespace ringfence::testing {
namespace {

TEST(ScenariosTest, EveryShippedScenarioValidates) {
  TempDir dir;
  std::vector<std::string> argv = {RINGFENCE_BINARY, "validate"};
  // The bad_update scenarios read their hosts file and artifact while they validate: a fleet of
  // 20 like the one `ringfence demo` writes.
  nlohmann::json hosts = nlohmann::json::array();
  for (int i = 0; i < 20; ++i) {
    hosts.push_back({{"name", "demo-" + std::to_string(i)},
                     {"path", dir.File("content-" + std::to_string(i) + ".txt")},
                     {"health_url", "http://127.0.0.1:9/health"},
                     {"vars", {{"port", "9"}}}});
  }
  dir.Write("hosts.json", hosts.dump());
  dir.Write("good.txt", DemoGoodContent());
  argv.insert(argv.end(), {"--var", "demo_hosts_file=" + dir.File("hosts.json"), "--var",
                           "demo_good_content=" + dir.File("good.txt")});
  // The placeholders the shipped scenarios use; `ringfence demo` fills the demo_* ones itself.
  for (const char* var :
       {"demo_fleet_id=f1", "demo_fleet_size=5", "demo_fleet_min_alive=4", "demo_port_0=8080",
        "demo_port_last=8084", "port=8080", "data_dir=/mnt/data", "address=127.0.0.1",
        "upstream=127.0.0.1:8080", "listen=127.0.0.1:18080"}) {
    argv.push_back("--var");
    argv.push_back(var);
  }
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(RINGFENCE_SOURCE_DIR "/scenarios")) {
    if (e.path().extension() == ".json") {
      argv.push_back(e.path().string());
      ++files;
    }
  }
  ASSERT_GT(files, 0u);
  ChildRun run(argv, dir.path());
  EXPECT_EQ(run.Wait(), 0) << run.err();
}

}  // namespace
}  // namespace ringfence::testing
