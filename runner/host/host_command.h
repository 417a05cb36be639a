#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace ringfence {

// What `ringfence host <action> [--state-dir D] [--run ID] [--grace DURATION]` asks for, as
// runner/cli/cli.cc parsed it.
struct HostOptions {
  std::string action;     // one of HostActions()
  std::string state_dir;  // never empty (the CLI fills DefaultStateDir())
  std::string run_id;     // "" when not given
  std::chrono::milliseconds grace{3000};
};

// The host side of a fleet run, reached over SSH (docs/fleets.md). One JSON request on stdin,
// one JSON reply on stdout; the exit code is 0 whenever a reply was written (2 for a usage
// error: a run id that is not one, an action that needs --run without it).
//
// Actions: version, begin (create the run's host ledger and arm the host-side watchdog), match
// (processes a selector matches here), prepare, plan, inject (the intent is recorded in the
// host ledger, fsync'd, before the fault is injected), observe, revert (idempotent), heartbeat
// (the runner is alive), end (the run finished), and watchdog (internal: started by begin,
// reverts from the host ledger when heartbeats stop for longer than the grace or a fault's
// deadline passes).
int RunHostAction(const HostOptions& o);

// The actions in the order `ringfence host --help` lists them.
const std::vector<std::string>& HostActions();

}  // namespace ringfence
