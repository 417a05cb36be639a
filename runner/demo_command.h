#pragma once

#include <string>

#include "runner/experiment_runner.h"

namespace ringfence {

struct DemoRequest {
  std::string scenario;  // empty: the demo game day
  int fleet_size = 5;
  RunRequest run;        // journal, vars, seed; `file` is filled from `scenario`
};

// Starts the embedded demo fleet, runs the scenario against it with the fleet's placeholders
// (demo_fleet_id, demo_fleet_size, demo_fleet_min_alive, demo_port_<i>), stops the fleet and
// checks that none of its processes is left. Returns the run's exit code.
int RunDemo(const DemoRequest& request);

// Where the shipped scenarios are: $RINGFENCE_SCENARIOS, else next to the binary
// (../scenarios, ../share/ringfence/scenarios), else the source tree it was built from.
std::string ScenarioDir();

}  // namespace ringfence
