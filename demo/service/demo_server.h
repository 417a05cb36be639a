#pragma once

#include <string>
#include <vector>

#include "demo/service/demo_dependency.h"

namespace ringfence::demo {

struct DemoServerOptions {
  int port = 0;
  std::string content_file;  // "" = no content (zero records)
  std::string fleet_id;
  int fields = 20;  // fields per content record
  int work_ms = 2;  // CPU time spent by GET /work
  // Called by every GET /work, in order (--depends; docs/demo.md, "The topology").
  std::vector<DependencySpec> depends;
};

// Loads the content, serves HTTP on 127.0.0.1:port with two io threads until SIGTERM or SIGINT,
// reloads the content on SIGHUP. Returns the process exit code: 0 after a clean shutdown, 1 when
// the port cannot be bound, 2 when the content file is missing at start. A record with too many
// fields aborts the process (the crash pattern the demo exists for; see docs/demo.md).
int RunDemoServer(const DemoServerOptions& options);

}  // namespace ringfence::demo
