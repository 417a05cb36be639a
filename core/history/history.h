#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/base/status.h"

namespace ringfence {

// One run as the history keeps it (docs/scheduling.md, "History"): every run — by hand, from a
// suite, from the scheduler — and every scheduled run that did not start (status "skipped").
struct RunRecord {
  std::string run_id;      // the ledger's run id; for a skip, "skip-<entry>-<due ms>"
  std::string title;       // the experiment's title
  std::string file;        // the experiment file as named
  std::string file_hash;   // SHA-256 of its bytes, hex
  int64_t started_ms = 0;  // Unix time in milliseconds
  int64_t ended_ms = 0;
  std::string status;  // passed, failed, aborted, not_steady, error, interrupted, skipped
  int exit_code = 0;
  std::string reason;  // the verdict's reason; the abort reason; why skipped ("overlap")
  std::optional<int64_t> time_to_detect_ms;  // first injection → the guard's decision
  std::optional<int64_t> time_to_revert_ms;  // the guard's decision → every fault reverted
  int faults = 0;                            // blast radius: fault steps injected
  int targets = 0;                           //              targets injected
  int hosts = 0;                             //              hosts touched (0: local only)
  std::string journal;                       // absolute path
  std::string trigger = "manual";            // manual, scheduled, missed, suite
  std::string entry;                         // the schedule entry's name, when scheduled
};

// Which runs a query returns, newest last.
struct HistoryQuery {
  std::optional<std::string> title;  // only this experiment
  std::optional<int64_t> since_ms;   // started at or after
  std::optional<std::string> entry;  // only this schedule entry
  size_t limit = 0;                  // 0: all; else the newest `limit`
  // Only run_id, title, started_ms, ended_ms, status and time_to_detect_ms are read (what the
  // summaries need); the other fields stay empty.
  bool summary_fields_only = false;
};

// What `ringfence history` shows for one experiment (docs/scheduling.md, "Resilience score").
struct ExperimentSummary {
  std::string title;
  int runs = 0;  // runs that ran (passed, failed, aborted, not_steady)
  int passed = 0;
  int failed = 0;                   // failed or not_steady: the hypothesis did not hold
  int aborted = 0;                  // aborted by a guard: the hypothesis did not hold either
  int errors = 0;                   // error or interrupted: not a run of the hypothesis
  int skipped = 0;                  // scheduled but not started (overlap, window, …)
  std::optional<double> pass_rate;  // passed / runs
  std::optional<int64_t> median_time_to_detect_ms;
  std::string trend;  // the last 10 runs, oldest first: █ passed, ▁ failed or aborted, · other
  std::string streak;  // "3 passed", "2 failed" (the latest runs with the same outcome), or ""
  // The resilience score: 100 × passed / runs, rounded; absent without runs.
  std::optional<int> score;
  int64_t last_started_ms = 0;
  bool operator==(const ExperimentSummary&) const = default;
};

// The run history. Implementations: SQLite in the state dir (core/history/sqlite_history.h).
// Every method may be called from any thread; several processes may write at once.
class RunHistory {
 public:
  virtual ~RunHistory() = default;
  // Adds one run (or replaces the record with the same run id). kUnavailable / kRuntime when
  // the store cannot be written; the caller logs it and goes on.
  virtual Status Record(const RunRecord& record) = 0;
  virtual Result<std::vector<RunRecord>> Query(const HistoryQuery& query) = 0;
  // The summaries of the runs `query` selects (its title, since_ms and entry; limit and
  // summary_fields_only do not apply), one per experiment title in order of title: the same as
  // SummarizeHistory (core/history/history_summary.h) over Query's runs, computed where the runs
  // are, without reading them all.
  virtual Result<std::vector<ExperimentSummary>> Summarize(const HistoryQuery& query) = 0;
};

// The SHA-256 of `bytes`, as 64 lower-case hex digits.
std::string Sha256Hex(const std::string& bytes);

}  // namespace ringfence
