#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/history/history.h"

namespace ringfence {

// One summary per experiment title, in order of title; `runs` oldest first.
std::vector<ExperimentSummary> SummarizeHistory(const std::vector<RunRecord>& runs);

// True for the statuses that test the hypothesis (passed, failed, aborted, not_steady).
bool RanTheHypothesis(const std::string& status);

// The parts every summary derives the same way, from SummarizeHistory or a store's Summarize:
// the trend's mark for one run (█ passed, ▁ failed or aborted, · other), the streak's text
// ("3 passed", "2 failed"), and pass_rate and score from `runs` and `passed`.
const char* TrendMark(const std::string& status);
std::string StreakText(int count, bool passed);
void SetPassRateAndScore(ExperimentSummary& s);

}  // namespace ringfence
