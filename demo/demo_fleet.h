#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/base/status.h"

namespace ringfence {

struct DemoFleetOptions {
  int size = 5;
  std::string service_binary;  // path to ringfence-demo-service
  std::string content_file;    // optional: one content file for every instance
  // Optional: instance i reads content_files[i] (wins over content_file); must have `size`
  // entries when given (else Start() fails: "demo fleet: <n> content files for <size> instances").
  std::vector<std::string> content_files;
  std::chrono::milliseconds restart_delay{300};
  std::string fleet_id;  // default: "fleet-<pid>-<random>", unique per fleet
};

// How one instance ended (while the fleet ran, or at Stop()).
struct DemoInstanceExit {
  int port = 0;
  pid_t pid = 0;
  int exit_code = -1;  // when it exited by itself; -1 when a signal ended it
  int signal = 0;      // the signal that ended it, or 0
};

// N instances of ringfence-demo-service on free 127.0.0.1 ports, supervised: an instance that
// exits for any reason while the fleet runs is started again on the same port after
// restart_delay. Every instance runs as
//   <service_binary> --port P --fleet-id ID [--content F]
// (F: content_files[i] for instance i when given, else content_file)
// so that a scenario selects the fleet's processes with the cmdline regex
// `ringfence-demo-service --port [0-9]+ --fleet-id ID`. Instances are spawned from one
// supervisor thread that lives until Stop(), and get PR_SET_PDEATHSIG(SIGKILL): they die with it.
// All methods are thread-safe.
class DemoFleet {
 public:
  explicit DemoFleet(DemoFleetOptions o);
  ~DemoFleet();  // Stop()
  DemoFleet(const DemoFleet&) = delete;
  DemoFleet& operator=(const DemoFleet&) = delete;

  // Starts every instance and waits (at most 10 s) until each /health answers 200. Errors:
  //   kNotFound    "demo service binary not found: <path>"
  //   kInvalidInput "demo fleet size must be 1..64, got <n>" | "demo fleet already started"
  //   kTimeout     "demo fleet: instance on port <p> not healthy after 10s"
  // On error everything started is stopped again.
  Status Start();
  // No restarts after this; SIGTERM to every instance, SIGKILL after 2 s; reaps all. Idempotent.
  void Stop();

  std::vector<int> ports() const;
  std::string fleet_id() const;
  int restarts() const;  // how many times the supervisor restarted an instance
  // Every instance exit seen so far, oldest first.
  std::vector<DemoInstanceExit> exits() const;
  // Placeholder values for scenarios: demo_fleet_id, demo_fleet_size, demo_port_0..N-1,
  // demo_service (the binary path).
  std::map<std::string, std::string> Vars() const;
  // ringfence-demo-service in the directory of the running executable (/proc/self/exe).
  static std::string DefaultServiceBinary();

 private:
  class Supervisor;
  std::unique_ptr<Supervisor> supervisor_;
};

}  // namespace ringfence
