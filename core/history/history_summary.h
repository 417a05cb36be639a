#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/history/history.h"

namespace ringfence {

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
};

// One summary per experiment title, in order of title; `runs` oldest first.
std::vector<ExperimentSummary> SummarizeHistory(const std::vector<RunRecord>& runs);

// True for the statuses that test the hypothesis (passed, failed, aborted, not_steady).
bool RanTheHypothesis(const std::string& status);

}  // namespace ringfence
