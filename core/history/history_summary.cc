#include "core/history/history_summary.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace ringfence {

bool RanTheHypothesis(const std::string& status) {
  return status == "passed" || status == "failed" || status == "aborted" || status == "not_steady";
}

const char* TrendMark(const std::string& status) {
  if (status == "passed") return "█";
  if (RanTheHypothesis(status)) return "▁";
  return "·";
}

std::string StreakText(int count, bool passed) {
  return std::to_string(count) + (passed ? " passed" : " failed");
}

void SetPassRateAndScore(ExperimentSummary& s) {
  if (s.runs == 0) return;
  s.pass_rate = static_cast<double>(s.passed) / s.runs;
  s.score = static_cast<int>(std::lround(100.0 * s.passed / s.runs));
}

std::vector<ExperimentSummary> SummarizeHistory(const std::vector<RunRecord>& runs) {
  std::map<std::string, std::vector<const RunRecord*>> by_title;
  for (const auto& r : runs) by_title[r.title].push_back(&r);
  std::vector<ExperimentSummary> out;
  for (const auto& [title, records] : by_title) {
    ExperimentSummary s;
    s.title = title;
    std::vector<int64_t> detect;
    std::vector<const RunRecord*> ran;
    for (const RunRecord* r : records) {
      s.last_started_ms = std::max(s.last_started_ms, r->started_ms);
      if (r->status == "skipped") {
        ++s.skipped;
        continue;
      }
      if (!RanTheHypothesis(r->status)) {
        ++s.errors;
        continue;
      }
      ran.push_back(r);
      ++s.runs;
      if (r->status == "passed") ++s.passed;
      if (r->status == "failed" || r->status == "not_steady") ++s.failed;
      if (r->status == "aborted") ++s.aborted;
      if (r->time_to_detect_ms) detect.push_back(*r->time_to_detect_ms);
    }
    SetPassRateAndScore(s);
    if (!detect.empty()) {
      std::sort(detect.begin(), detect.end());
      const size_t n = detect.size();
      s.median_time_to_detect_ms = n % 2 ? detect[n / 2] : (detect[n / 2 - 1] + detect[n / 2]) / 2;
    }
    const size_t first = records.size() > 10 ? records.size() - 10 : 0;
    for (size_t i = first; i < records.size(); ++i) s.trend += TrendMark(records[i]->status);
    if (!ran.empty()) {
      const bool last = ran.back()->status == "passed";
      int n = 0;
      for (auto it = ran.rbegin(); it != ran.rend() && ((*it)->status == "passed") == last; ++it) {
        ++n;
      }
      s.streak = StreakText(n, last);
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace ringfence
