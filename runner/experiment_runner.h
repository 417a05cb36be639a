#pragma once

#include <string>

#include "runner/run_request.h"

namespace ringfence {

// Loads, validates and runs one experiment against this host, writes the journal and prints the
// verdict. Returns the exit code (docs/cli.md). Installs the SIGINT/SIGTERM/SIGHUP handling for
// the time of the run.
int RunExperimentFile(const RunRequest& request);

// --report / --junit / --summary: 0 when each asked-for report can be written (its folder
// exists), else prints "ringfence: --report \"x/r.html\": the folder x does not exist; nothing
// was run" and returns 2. RunExperimentFile checks first; a caller that starts something before
// it (the demo's fleet) checks earlier.
int CheckRequestedReports(const RunRequest& request);

}  // namespace ringfence
