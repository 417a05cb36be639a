#include "runner/demo_command.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "runner/demo_fleet.h"

namespace ringfence {

std::string ScenarioDir() {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv("RINGFENCE_SCENARIOS"); env != nullptr && *env != '\0') {
    return env;
  }
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (const char* rel : {"../scenarios", "../share/ringfence/scenarios"}) {
      fs::path candidate = exe.parent_path() / rel;
      if (fs::exists(candidate / "demo-game-day.json", ec)) return candidate.lexically_normal();
    }
  }
  return RINGFENCE_SCENARIO_DIR;
}

int RunDemo(const DemoRequest& request) {
  RunRequest run = request.run;
  run.file = request.scenario.empty() ? ScenarioDir() + "/demo-game-day.json" : request.scenario;

  DemoFleetOptions options;
  options.size = request.fleet_size;
  options.service_binary = DemoFleet::DefaultServiceBinary();
  DemoFleet fleet(options);
  std::printf("demo: starting a fleet of %d ringfence-demo-service instances\n", request.fleet_size);
  std::fflush(stdout);
  Status started = fleet.Start();
  if (!started.ok()) {
    std::fprintf(stderr, "demo: the fleet did not start: %s\n", started.message().c_str());
    fleet.Stop();
    return 3;
  }
  std::string ports;
  for (int p : fleet.ports()) ports += (ports.empty() ? "" : ", ") + std::to_string(p);
  std::printf("demo: fleet %s up on 127.0.0.1 ports %s\n", fleet.fleet_id().c_str(), ports.c_str());
  std::printf("demo: running %s\n", run.file.c_str());
  std::fflush(stdout);

  for (const auto& [k, v] : fleet.Vars()) run.vars.emplace(k, v);  // --var wins
  run.vars.emplace("demo_fleet_min_alive", std::to_string(std::max(1, request.fleet_size - 1)));
  run.vars.emplace("demo_port_last", std::to_string(fleet.ports().back()));
  int code = RunExperimentFile(run);

  fleet.Stop();
  std::printf("demo: fleet stopped (%d restart%s by its supervisor during the run)\n",
              fleet.restarts(), fleet.restarts() == 1 ? "" : "s");
  return code;
}

}  // namespace ringfence
