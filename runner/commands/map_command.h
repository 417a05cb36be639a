#pragma once

#include <string>

#include "runner/base/run_request.h"

namespace ringfence {

// One `ringfence map FILE` (docs/dependency-map.md).
struct MapRequest {
  std::string file;
  bool dry_run = false;
  std::string journal = "ringfence-map.json";  // the map's result; each cell's run journal
                                               // is written beside it
  std::string report_html;  // --report F: the heatmap page (report/map_report.h); "" for none
  // Shared by every cell's run: state dir, lock, watchdog grace, seed, progress, command line.
  RunRequest run;
};

// Validates the map (every error at once on stderr, exit 2, nothing touched), finds the
// service's processes and, with `discover`, its dependencies in use; prints them and the cells
// in order. With dry_run that is all (exit 0). Otherwise takes the state dir's lock, runs each
// cell as an experiment (RunExperimentFile: ledger, guards, verified revert, watchdog), waits
// up to the cell's settle time for the steady state, classifies it, and writes the map journal.
// With report_html, its folder is checked before anything (exit 2) and the heatmap is written
// from the map journal at the end. A cell after which the service does not recover, a revert that
// failed or an interruption stops the map. Exit codes: 0 the map ran and every dependency is what
// `expect` says; 1 it ran and a dependency differs from its `expect` or the service did not
// recover; 2 invalid input; 3 a runtime error (the service is not running, the lock is taken); 4 a
// revert failed; 130/143 interrupted. Never throws.
int RunMapCommand(const MapRequest& request);

}  // namespace ringfence
