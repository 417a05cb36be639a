#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "runner/terminal.h"

namespace ringfence {

struct RunRequest {
  std::string file;
  std::string journal = "ringfence-journal.json";
  bool dry_run = false;
  std::map<std::string, std::string> vars;
  std::map<std::string, std::string> secrets;  // --secret: like vars, always redacted
  std::optional<uint64_t> seed;
  bool progress = false;  // draw the live status line
  std::string state_dir;  // "": DefaultStateDir()
  bool allow_concurrent = false;  // skip the state dir's lock
  std::chrono::milliseconds watchdog_grace{3000};
  int max_targets = 0;    // 0: no limit
  bool check_sources = false;  // probe every guard's source once before anything is injected
  std::string metrics_listen;  // --metrics-listen ADDRESS:PORT: serve the runner's metrics
  std::string pushgateway;     // --pushgateway URL: push the final result there
  std::string inventory;    // --inventory: overrides the experiment's /inventory
  std::string push_binary;  // --push-binary: copy this binary to that path on every host
};

// Loads, validates and runs one experiment against this host, writes the journal and prints the
// verdict. Returns the exit code (docs/cli.md). Installs the SIGINT/SIGTERM/SIGHUP handling for
// the time of the run.
int RunExperimentFile(const RunRequest& request);

// The path of the running ringfence binary (/proc/self/exe).
std::string SelfBinary();

}  // namespace ringfence
