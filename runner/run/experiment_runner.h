#pragma once

#include <string>

#include "core/ledger/recovery.h"
#include "runner/base/run_request.h"

namespace ringfence {

// How a run that got as far as the engine ended, for a suite's result list
// (runner/run/suite_runner.h).
struct RunOutcome {
  bool ran = false;    // false: it stopped before the engine ran (the exit code says why)
  std::string title;   // the experiment's title
  std::string status;  // RunStatusName: passed, failed, aborted, not_steady, error, interrupted
  std::string reason;  // the verdict's reason (redacted)
  bool journal_written = false;
};

// Takes the state dir's lock for a run or a suite (core/ledger/recovery.h StateDirLock). On
// failure prints "ringfence: <why>[; wait for it, or pass --allow-concurrent]; nothing was run"
// on stderr (the caller exits 3).
Result<StateDirLock> AcquireRunLock(const std::string& state_dir);

// Loads, validates and runs one experiment against this host, writes the journal and prints the
// verdict. Returns the exit code (docs/cli.md). Installs the SIGINT/SIGTERM/SIGHUP handling for
// the time of the run. `outcome`, when given, is filled once the engine has run.
int RunExperimentFile(const RunRequest& request, RunOutcome* outcome = nullptr);

// --report / --junit / --summary: 0 when each asked-for report can be written (its folder
// exists), else prints "ringfence: --report \"x/r.html\": the folder x does not exist; nothing
// was run" and returns 2. RunExperimentFile checks first; a caller that starts something before
// it (the demo's fleet) checks earlier.
int CheckRequestedReports(const RunRequest& request);

}  // namespace ringfence
