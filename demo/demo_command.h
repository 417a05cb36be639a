#pragma once

#include <string>

#include "runner/base/run_request.h"

namespace ringfence {

// Starts the embedded demo fleet, runs the scenario against it with the fleet's placeholders
// (demo_fleet_id, demo_fleet_size, demo_fleet_min_alive, demo_port_<i>, and for bad_update:
// demo_hosts_file, demo_good_content, demo_content_dir), stops the fleet, removes the content
// directory and checks that none of its processes is left. Every instance reads its own content
// file (demo_content_dir/content-<i>.txt, a copy of demo_good_content); demo_hosts_file lists the
// instances as a bad_update hosts file. Returns the run's exit code.
int RunDemo(const DemoRequest& request);

// Where the shipped scenarios are: $RINGFENCE_SCENARIOS, else the source tree's scenarios/ for
// the binary the build made (run from the build directory), else PREFIX/share/ringfence/scenarios
// for a binary installed in PREFIX/bin (docs/install.md).
std::string ScenarioDir();

// The fleet size a scenario asks for with a tag "demo-fleet-size:N" (1..64), or 0.
int ScenarioFleetSize(const std::string& scenario_file);

// The demo's good content: `records` records of `fields` fields, one per line, after a comment.
std::string DemoGoodContent(int records = 5, int fields = 20);

}  // namespace ringfence
