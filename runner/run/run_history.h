#pragma once

#include <string>

#include "core/engine/lifecycle.h"
#include "core/history/history.h"
#include "core/model/experiment.h"
#include "runner/base/redaction.h"
#include "runner/base/run_request.h"

namespace ringfence {

// The environment variables by which a parent (the scheduler, a suite) tells a child `ringfence
// run` how it was started; recorded in the history (RunRecord::trigger, RunRecord::entry).
inline constexpr char kTriggerEnv[] = "RINGFENCE_TRIGGER";
inline constexpr char kScheduleEntryEnv[] = "RINGFENCE_SCHEDULE_ENTRY";

// The history record of a finished run.
RunRecord RecordOfRun(const RunRequest& request, const Experiment& experiment,
                      const RunReport& report, int exit_code, const std::string& file_bytes);

// Adds `record` to <state_dir>/history.db. A failure is logged (warning) and otherwise ignored:
// the history never changes a run's verdict or exit code. Never throws.
void RecordInHistory(const std::string& state_dir, const RunRecord& record);

// The end of `ringfence run`: both of the above, with every text the run's secrets could be in
// (title, reason, file and journal paths) redacted first: a secret never reaches history.db.
void RecordRunInHistory(const std::string& state_dir, const RunRequest& request,
                        const Experiment& experiment, const RunReport& report, int exit_code,
                        const std::string& file_bytes, const Redactor& redactor);

// A scheduled run (RINGFENCE_TRIGGER set: the scheduler, a systemd timer) that did not start
// because another run holds the state dir's lock: recorded as `skipped` with the reason
// "overlap: <why>" and the time `at`, as the scheduler records its own overlaps, so that it is
// not lost. A run started by hand that is refused is not a run and is not recorded. Never throws.
void RecordSkippedScheduledRun(const std::string& state_dir, const RunRequest& request,
                               const Experiment& experiment, const std::string& file_bytes,
                               const std::string& why, WallTime at, const Redactor& redactor);

}  // namespace ringfence
