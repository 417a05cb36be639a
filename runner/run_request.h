#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace ringfence {

// One `ringfence run` as the command line asks for it (docs/cli.md).
struct RunRequest {
  std::string file;
  std::string journal = "ringfence-journal.json";
  bool dry_run = false;
  std::map<std::string, std::string> vars;
  std::map<std::string, std::string> secrets;  // --secret: like vars, always redacted
  std::optional<uint64_t> seed;
  bool progress = false;          // draw the live status line
  std::string state_dir;          // "": DefaultStateDir()
  bool allow_concurrent = false;  // skip the state dir's lock
  std::chrono::milliseconds watchdog_grace{3000};
  int max_targets = 0;         // 0: no limit
  bool check_sources = false;  // probe every guard's source once before anything is injected
  std::string metrics_listen;  // --metrics-listen ADDRESS:PORT: serve the runner's metrics
  std::string pushgateway;     // --pushgateway URL: push the final result there
  std::string inventory;       // --inventory: overrides the experiment's /inventory
  std::string push_binary;     // --push-binary: copy this binary to that path on every host
  // Chaos Toolkit experiments (docs/chaos-toolkit.md).
  std::string format = "auto";      // --format auto|ctk|native
  std::string rollback_strategy;    // --rollback-strategy ("": the experiment's runtime)
  std::string hypothesis_strategy;  // --hypothesis-strategy ("": the experiment's runtime)
  std::optional<std::chrono::milliseconds> hypothesis_frequency;  // --hypothesis-frequency
  bool fail_fast = false;                                         // --fail-fast
  std::string journal_format = "native";                          // --journal-format native|ctk
};

// One `ringfence demo`: the runner declares its options (runner/cli.cc); demo/ runs it and
// registers itself with SetDemoCommand, so that nothing below demo/ includes it.
inline constexpr int kDefaultDemoFleetSize = 5;

struct DemoRequest {
  std::string scenario;  // empty: the demo game day
  // 0 (no --fleet-size): the scenario's tag "demo-fleet-size:N", else kDefaultDemoFleetSize.
  int fleet_size = 0;
  RunRequest run;  // journal, vars, seed; `file` is filled from `scenario`
};

}  // namespace ringfence
