#include <gtest/gtest.h>

#include "core/model/method_range.h"
#include "runner/gameday/dashboard.h"
#include "runner/gameday/game_day.h"

namespace ringfence {
namespace {

Experiment ThreeSteps() {
  Experiment e;
  e.title = "t";
  for (const char* name : {"pause-api", "wait-1", "check"}) {
    MethodStep s;
    s.kind = MethodStep::Kind::kWait;
    s.name = name;
    e.method.push_back(s);
  }
  return e;
}

TEST(MethodRangeTest, KeepsTheStepsFromTo) {
  Experiment e = ThreeSteps();
  ValidationErrors errors;
  ASSERT_TRUE(SelectMethodRange(e, "wait-1", "", errors));
  ASSERT_EQ(e.method.size(), 2u);
  EXPECT_EQ(e.method[0].name, "wait-1");
  e = ThreeSteps();
  ASSERT_TRUE(SelectMethodRange(e, "", "wait-1", errors));
  ASSERT_EQ(e.method.size(), 2u);
  EXPECT_EQ(e.method[1].name, "wait-1");
  EXPECT_EQ(MethodRangeText("a", "b"), "--from a --to b");
  EXPECT_EQ(MethodRangeText("", "b"), "--to b");
}

TEST(MethodRangeTest, BadNamesListEveryStep) {
  Experiment e = ThreeSteps();
  ValidationErrors errors;
  EXPECT_FALSE(SelectMethodRange(e, "nope", "check2", errors));
  EXPECT_EQ(errors.Format("exp.json"),
            (std::vector<std::string>{
                "exp.json: /method: --from \"nope\": the name of a method step (pause-api, "
                "wait-1, check)",
                "exp.json: /method: --to \"check2\": the name of a method step (pause-api, "
                "wait-1, check)"}));
  EXPECT_EQ(e.method.size(), 3u);
  ValidationErrors order;
  EXPECT_FALSE(SelectMethodRange(e, "check", "pause-api", order));
  EXPECT_EQ(order.Format("exp.json"),
            (std::vector<std::string>{"exp.json: /method: --to \"pause-api\" is step 0: a step at "
                                      "or after --from \"check\" (step 2)"}));
}

nlohmann::json SampleStatus() {
  return {{"title", "pause the api"},
          {"phase", "method"},
          {"step", 1},
          {"steps", 3},
          {"activity", "waiting 30s"},
          {"held", true},
          {"next_step", "wait-1"},
          {"elapsed_s", 75.0},
          {"left_s", 20.0},
          {"faults", {{{"name", "pause-api"}, {"targets", {"pid 42 (sleep)"}}, {"left_s", 9.5}}}},
          {"guards",
           {{{"name", "errors"},
             {"value", 0.25},
             {"limit", "<= 0.2"},
             {"verdict", "breach"},
             {"samples", {0.0, 0.1, nullptr, 0.25}}}}},
          {"events",
           {{{"seq", 1},
             {"at", "2026-12-07T20:01:02.000Z"},
             {"kind", "note"},
             {"text", "alice: latency up"}}}},
          {"result", nullptr}};
}

TEST(DashboardTest, FrameFitsTheTerminalAndShowsTheRun) {
  for (int width : {20, 60, 132}) {
    const auto lines = RenderDashboard(SampleStatus(), width, 16, false, " [a]bort ");
    ASSERT_EQ(lines.size(), 16u);
    for (const auto& l : lines) {
      size_t cols = 0;
      for (unsigned char c : l) cols += (c & 0xC0) != 0x80;
      EXPECT_LE(cols, static_cast<size_t>(width)) << l;
      EXPECT_EQ(l.find('\033'), std::string::npos) << l;
    }
  }
  const auto lines = RenderDashboard(SampleStatus(), 100, 16, false, " [a]bort ");
  std::string all;
  for (const auto& l : lines) all += l + "\n";
  EXPECT_NE(all.find("phase method 1/3 · HELD before wait-1"), std::string::npos) << all;
  EXPECT_NE(all.find("pause-api on pid 42 (sleep)"), std::string::npos) << all;
  EXPECT_NE(all.find("left 00:09"), std::string::npos) << all;
  EXPECT_NE(all.find("errors"), std::string::npos) << all;
  EXPECT_NE(all.find("limit <= 0.2"), std::string::npos) << all;
  EXPECT_NE(all.find("▁▄ █ breach"), std::string::npos) << all;
  EXPECT_NE(all.find("20:01:02 note"), std::string::npos) << all;
  const auto colored = RenderDashboard(SampleStatus(), 100, 16, true, "");
  std::string c;
  for (const auto& l : colored) c += l;
  EXPECT_NE(c.find("\033[1;31m"), std::string::npos);  // the breaching guard is red
}

TEST(DashboardTest, SparklineScalesToTheRecentRange) {
  EXPECT_EQ(Sparkline({1, 2, 3, 4, 5, 6, 7, 8}, 8), "▁▂▃▄▅▆▇█");
  EXPECT_EQ(Sparkline({1, 2, 3, 4, 5, 6, 7, 8}, 2), "▁█");
  EXPECT_EQ(Sparkline({5, nullptr, 5}, 8), "▁ ▁");
}

TEST(GameDayTest, StepModeHoldsUntilContinueAndRecordsWho) {
  Experiment e = ThreeSteps();
  GameDay day(e, GameDay::Options{true, "", nullptr, nullptr});
  std::string who;
  EXPECT_EQ(day.BeforeStep(0, 3, e.method[0], &who), StepGate::kHold);
  EXPECT_TRUE(day.held());
  day.Continue("alice");
  EXPECT_EQ(day.BeforeStep(0, 3, e.method[0], &who), StepGate::kRun);
  EXPECT_EQ(day.BeforeStep(1, 3, e.method[1], &who), StepGate::kHold);
  day.SkipNext("bob");
  EXPECT_EQ(day.BeforeStep(1, 3, e.method[1], &who), StepGate::kSkip);
  EXPECT_EQ(who, "bob");
  day.Note("carol", "all quiet");
  const nlohmann::json actions = day.Actions();
  ASSERT_EQ(actions.size(), 3u);
  EXPECT_EQ(actions[0]["who"], "alice");
  EXPECT_EQ(actions[0]["action"], "continue");
  EXPECT_EQ(actions[0]["before_step"], 0);
  EXPECT_EQ(actions[0]["step"], "pause-api");
  EXPECT_EQ(actions[1]["step"], "wait-1");
  EXPECT_EQ(actions[2]["text"], "all quiet");
  EXPECT_EQ(day.Status()["events"].back()["text"], "carol: all quiet");
}

// What a game day hands the journal (RunJournal::OperatorActed), and what the room saw then.
struct ActionsJournal : RunJournal {
  explicit ActionsJournal(const GameDay& day) : day(day) {}
  void GuardSampled(const std::string&, const GuardSample&) override {}
  void Checkpoint(const RunReport&, const std::string&) override {}
  void OperatorActed(const nlohmann::json& actions) override {
    handed.push_back(actions);
    events_seen.push_back(day.Status()["events"].size());
  }
  const GameDay& day;
  std::vector<nlohmann::json> handed;
  std::vector<size_t> events_seen;
};

TEST(GameDayTest, EveryActionReachesTheJournalANoteBeforeItIsShown) {
  Experiment e = ThreeSteps();
  GameDay day(e, {});
  ActionsJournal journal(day);
  day.Attach(nullptr, &journal);
  day.Hold("alice");
  const size_t shown = day.Status()["events"].size();
  day.Note("bob", "db latency 12 ms");
  day.Refused("client 10.0.0.9", "POST /abort: wrong or missing token");
  ASSERT_EQ(journal.handed.size(), 3u);
  EXPECT_EQ(journal.handed[1].size(), 2u);
  EXPECT_EQ(journal.handed[1][1]["text"], "db latency 12 ms");
  EXPECT_EQ(journal.events_seen[1], shown);  // the note was not shown yet
  EXPECT_EQ(day.Status()["events"].size(), shown + 2);
  day.Close();
  day.Continue("alice");  // after the run: nothing more reaches the journal
  EXPECT_EQ(journal.handed.size(), 3u);
}

TEST(GameDayTest, GuardsWithoutAMonitorHaveNoLimitYet) {
  Experiment e = ThreeSteps();
  GuardSpec g;
  g.name = "errors";
  e.guards.push_back(g);
  GameDay day(e, {});
  GuardSample sample;
  sample.value = 0.5;
  day.GuardSampled("errors", sample);
  const nlohmann::json st = day.Status();
  ASSERT_EQ(st["guards"].size(), 1u);
  EXPECT_EQ(st["guards"][0]["value"], 0.5);
  EXPECT_TRUE(st["guards"][0]["limit"].is_null());
}

}  // namespace
}  // namespace ringfence
