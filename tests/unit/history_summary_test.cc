// The history's summaries and the resilience score (docs/scheduling.md, "Resilience score").

#include <random>

#include <gtest/gtest.h>

#include "core/history/history_summary.h"
#include "core/history/sqlite_history.h"
#include "tests/support/processes.h"

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

// The store's own aggregation (SqliteHistory::Summarize, SQL) says exactly what SummarizeHistory
// says of the same runs read back: every status, ties in start time, missing times to detect,
// even and odd counts, and the query's filters.
TEST(HistorySummary, TheStoresAggregationEqualsSummarizingItsRuns) {
  testing::TempDir dir;
  auto history = OpenSqliteHistory(dir.File("history.db"));
  ASSERT_TRUE(history.ok()) << history.status().message();
  std::mt19937 random(7);
  const std::vector<std::string> statuses = {"passed",     "passed", "failed",      "aborted",
                                             "not_steady", "error",  "interrupted", "skipped"};
  for (int i = 0; i < 600; ++i) {
    const std::string title = "exp-" + std::to_string(random() % 7);
    // Some titles only pass, some only skip; starts collide on purpose (ties by run id).
    std::string status = statuses[random() % statuses.size()];
    if (title == "exp-5") status = "passed";
    if (title == "exp-6") status = "skipped";
    std::optional<int64_t> detect;
    if (random() % 3 != 0) detect = static_cast<int64_t>(random() % 5000);
    RunRecord r = Rec(title, static_cast<int64_t>(random() % 200), status, detect);
    r.run_id = "run-" + std::to_string(i);
    r.entry = random() % 2 ? "nightly" : "";
    ASSERT_TRUE((*history)->Record(r).ok());
  }
  auto same = [&](HistoryQuery q) {
    q.summary_fields_only = true;
    auto runs = (*history)->Query(q);
    auto aggregated = (*history)->Summarize(q);
    ASSERT_TRUE(runs.ok() && aggregated.ok());
    const auto expected = SummarizeHistory(*runs);
    ASSERT_EQ(aggregated->size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
      const ExperimentSummary& a = (*aggregated)[i];
      const ExperimentSummary& e = expected[i];
      EXPECT_TRUE(a == e) << e.title << ": " << a.runs << " " << a.passed << " " << a.errors << " "
                          << a.skipped << " " << a.trend << " " << a.streak;
    }
  };
  same({});
  same({.title = "exp-2"});
  same({.since_ms = 150});
  same({.entry = "nightly"});
  same({.title = "nobody"});
}

}  // namespace
}  // namespace ringfence
