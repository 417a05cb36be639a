// Every shipped scenario must validate against the faults this build registers, so that the
// examples in scenarios/ never rot.
#include <filesystem>

#include <gtest/gtest.h>

#include "tests/support/processes.h"

namespace ringfence::testing {
namespace {

TEST(ScenariosTest, EveryShippedScenarioValidates) {
  std::vector<std::string> argv = {RINGFENCE_BINARY, "validate"};
  // The placeholders the shipped scenarios use; `ringfence demo` fills the demo_* ones itself.
  for (const char* var : {"demo_fleet_id=f1", "demo_fleet_size=5", "demo_fleet_min_alive=4",
                          "demo_port_0=8080", "demo_port_last=8084", "port=8080", "data_dir=/mnt/data",
                          "address=127.0.0.1", "upstream=127.0.0.1:8080", "listen=127.0.0.1:18080"}) {
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
  TempDir dir;
  ChildRun run(argv, dir.path());
  EXPECT_EQ(run.Wait(), 0) << run.err();
}

}  // namespace
}  // namespace ringfence::testing
