// The history's summaries and the resilience score (docs/scheduling.md, "Resilience score").

#include <gtest/gtest.h>

#include "core/history/history_summary.h"

namespace ringfence {
namespace {

RunRecord Rec(const std::string& title, int64_t at, const std::string& status,
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
      Rec("a", 1, "passed"),       Rec("a", 2, "aborted", 400), Rec("a", 3, "error"),
      Rec("a", 4, "passed"),       Rec("a", 5, "skipped"),      Rec("a", 6, "failed"),
      Rec("a", 7, "aborted", 200), Rec("a", 8, "passed"),       Rec("a", 9, "passed"),
      Rec("b", 1, "interrupted"),
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
  for (int i = 0; i < 15; ++i) runs.push_back(Rec("t", i, i < 5 ? "failed" : "passed"));
  const auto s = SummarizeHistory(runs);
  EXPECT_EQ(s[0].trend, "██████████");
  EXPECT_EQ(s[0].streak, "10 passed");
}

}  // namespace
}  // namespace ringfence
