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

// The run history. Implementations: SQLite in the state dir (core/history/sqlite_history.h).
// Every method may be called from any thread; several processes may write at once.
class RunHistory {
 public:
  virtual ~RunHistory() = default;
  // Adds one run (or replaces the record with the same run id). kUnavailable / kRuntime when
  // the store cannot be written; the caller logs it and goes on.
  virtual Status Record(const RunRecord& record) = 0;
  virtual Result<std::vector<RunRecord>> Query(const HistoryQuery& query) = 0;
};

// The SHA-256 of `bytes`, as 64 lower-case hex digits.
std::string Sha256Hex(const std::string& bytes);

}  // namespace ringfence
