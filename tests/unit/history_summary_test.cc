// The history's summaries and the resilience score (docs/scheduling.md, "Resilience score").

#include <gtest/gtest.h>

#include "core/history/history_summary.h"

namespace ringfence {
namespace {

RunRecord Run(const std::string& title, int64_t at, const std::string& status,
              std::optional<int64_t> detect = std::nullopt) {
  RunRecord r;
  r.run_id = title + std::to_string(at);
  r.title = title;
  r.started_ms = at;
  r.ended_ms = at + 10;
  r.status = status;
  r.time_to_detect_ms = detect;
  return r;
}

TEST(HistorySummary, ScoreCountsAbortsAsFailuresAndErrorsAsNotRun) {
  const std::vector<RunRecord> runs = {
      Run("a", 1, "passed"),       Run("a", 2, "aborted", 400), Run("a", 3, "error"),
      Run("a", 4, "passed"),       Run("a", 5, "skipped"),      Run("a", 6, "failed"),
      Run("a", 7, "aborted", 200), Run("a", 8, "passed"),       Run("a", 9, "passed"),
      Run("b", 1, "interrupted"),
  };
  const auto s = SummarizeHistory(runs);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].title, "a");
  EXPECT_EQ(s[0].runs, 7);
  EXPECT_EQ(s[0].passed, 4);
  EXPECT_EQ(s[0].failed, 1);
  EXPECT_EQ(s[0].aborted, 2);
  EXPECT_EQ(s[0].errors, 1);
  EXPECT_EQ(s[0].skipped, 1);
  EXPECT_EQ(s[0].score, 57);  // 4 of 7
  EXPECT_NEAR(*s[0].pass_rate, 4.0 / 7, 1e-9);
  EXPECT_EQ(s[0].median_time_to_detect_ms, 300);
  EXPECT_EQ(s[0].trend, "█▁·█·▁▁██");
  EXPECT_EQ(s[0].streak, "2 passed");
  EXPECT_EQ(s[1].runs, 0);
  EXPECT_FALSE(s[1].score);
  EXPECT_EQ(s[1].streak, "");
}

TEST(HistorySummary, TrendShowsTheLastTen) {
  std::vector<RunRecord> runs;
  for (int i = 0; i < 15; ++i) runs.push_back(Run("t", i, i < 5 ? "failed" : "passed"));
  const auto s = SummarizeHistory(runs);
  EXPECT_EQ(s[0].trend, "██████████");
  EXPECT_EQ(s[0].streak, "10 passed");
}

}  // namespace
}  // namespace ringfence
