#pragma once

#include <string>

#include "runner/run_request.h"

namespace ringfence {

// Loads, validates and runs one experiment against this host, writes the journal and prints the
// verdict. Returns the exit code (docs/cli.md). Installs the SIGINT/SIGTERM/SIGHUP handling for
// the time of the run.
int RunExperimentFile(const RunRequest& request);

}  // namespace ringfence
