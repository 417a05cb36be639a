#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

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
  // Reports written from the journal at the end of the run, also when it failed or aborted
  // (docs/reports.md); "" for one not asked for.
  std::string report_html;                // --report F
  std::string report_junit;               // --junit F
  std::string report_summary;             // --summary F
  std::vector<std::string> command_line;  // argv as typed, for the journal (journal v3)
  // A suite (runner/run/suite_runner.h) holds the state dir's lock for all its runs: when >= 0 the
  // run takes no lock of its own and hands this descriptor to its watchdog instead.
  int held_lock_fd = -1;
  // Game days (docs/game-days.md).
  bool step_mode = false;          // --step: stop before each method step and ask
  bool only_steady_state = false;  // --only steady-state: check it, inject nothing
  std::string from_step, to_step;  // --from / --to: run that part of the method
  std::string control_listen;      // --control-listen ADDR:PORT: the control API
  std::string control_token_file;  // --control-token-file F: `name token` a line
  std::string limit;  // --limit PATTERN: only the inventory hosts it matches (Ansible's)
  // Chaos Toolkit experiments (docs/chaos-toolkit.md).
  std::string format = "auto";      // --format auto|ctk|native
  std::string rollback_strategy;    // --rollback-strategy ("": the experiment's runtime)
  std::string hypothesis_strategy;  // --hypothesis-strategy ("": the experiment's runtime)
  std::optional<std::chrono::milliseconds> hypothesis_frequency;  // --hypothesis-frequency
  bool fail_fast = false;                                         // --fail-fast
  std::string journal_format = "native";                          // --journal-format native|ctk
};

// One `ringfence demo`: the runner declares its options (runner/cli/cli.cc); demo/ runs it and
// registers itself with SetDemoCommand, so that nothing below demo/ includes it.
inline constexpr int kDefaultDemoFleetSize = 5;

struct DemoRequest {
  std::string scenario;  // empty: the demo game day
  // 0 (no --fleet-size): the scenario's tag "demo-fleet-size:N", else kDefaultDemoFleetSize.
  int fleet_size = 0;
  RunRequest run;  // journal, vars, seed; `file` is filled from `scenario`
  // demo --suite FILE: a suite file (docs/suites.md) run against the one fleet instead of a
  // scenario; the fleet is as large as its largest member asks for.
  std::string suite;
};

}  // namespace ringfence
