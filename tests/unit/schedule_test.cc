// The schedule file, its calendar expressions, windows and blackouts, on fixed instants (no
// clock is read): docs/scheduling.md. The calendar's next elapses are checked against systemd
// itself in tests/integration/calendar_oracle_test.cc.

#include <gtest/gtest.h>

#include "core/fault/fault.h"
#include "core/model/schedule.h"
#include "tests/support/processes.h"

namespace ringfence {
namespace {

WallTime Utc(int y, int mo, int d, int h, int mi, int s = 0) {
  return *TimeZone::Utc().FromCivil(y, mo, d, h, mi, s);
}

TimeZone Berlin() { return *TimeZone::Load("Europe/Berlin"); }

std::string Error(const std::string& expression) {
  auto spec = CalendarSpec::Parse(expression, TimeZone::Utc());
  return spec.ok() ? "ok" : spec.status().message();
}

TEST(Calendar, BadExpressionsSayWhy) {
  EXPECT_EQ(Error("Mon..Fry"), "unknown weekday \"Fry\"");
  EXPECT_EQ(Error("*/0 * * * *"),
            "cron's five fields are not supported; systemd's form is \"*:0/15\" for every 15 "
            "minutes");
  EXPECT_EQ(Error("*:0/0"), "step 0 in \"0/0\"");
  EXPECT_EQ(Error("*:58/9"), "step in \"58/9\" goes past 59");
  EXPECT_EQ(Error("*-*-* 24:00"), "hour \"24\" out of range 0..23");
  EXPECT_EQ(Error("*-13-01"), "month \"13\" out of range 1..12");
  EXPECT_EQ(Error("10:00 Mars/Olympus"), "unknown time zone \"Mars/Olympus\"");
  EXPECT_EQ(Error("10:00:00.5"), "fractional seconds in \"10:00:00.5\"");
  EXPECT_EQ(Error("Fri..Mon 10:00"), "weekday range \"Fri..Mon\" runs backwards");
  EXPECT_EQ(Error(""), "empty expression");
  EXPECT_EQ(Error("10:00 10:00"), "unexpected \"10:00\"");
  EXPECT_EQ(Error("Mon..Fri 10:00"), "ok");
}

TEST(Calendar, TimeZoneNamesArePlainNames) {
  EXPECT_FALSE(TimeZone::Load("../../etc/passwd").ok());
  EXPECT_FALSE(TimeZone::Load("/etc/localtime").ok());
  EXPECT_FALSE(TimeZone::Load("Europe/Nowhere").ok());
  EXPECT_TRUE(TimeZone::Load("America/New_York").ok());
}

TEST(Calendar, NormalizedLikeSystemd) {
  EXPECT_EQ(CalendarSpec::Parse("mon..fri 9:5", TimeZone::Utc())->normalized(),
            "Mon..Fri *-*-* 09:05:00");
  EXPECT_EQ(CalendarSpec::Parse("hourly Europe/Berlin", TimeZone::Utc())->normalized(),
            "*-*-* *:00:00 Europe/Berlin");
}

RunWindow GameDayHours() {
  RunWindow w;
  w.weekdays = *RunWindow::ParseDays("Mon..Fri");
  EXPECT_TRUE(RunWindow::ParseHours("09:00-15:00", w.start_minute, w.end_minute).ok());
  w.zone = Berlin();
  return w;
}

TEST(Window, OpensOnWorkingDaysInItsZone) {
  const RunWindow w = GameDayHours();
  // Monday 2026-12-07: 09:00 CET is 08:00 UTC; 15:00 CET (14:00 UTC) is outside.
  EXPECT_FALSE(w.Contains(Utc(2026, 12, 7, 7, 59, 59)));
  EXPECT_TRUE(w.Contains(Utc(2026, 12, 7, 8, 0)));
  EXPECT_TRUE(w.Contains(Utc(2026, 12, 7, 13, 59, 59)));
  EXPECT_FALSE(w.Contains(Utc(2026, 12, 7, 14, 0)));
  EXPECT_FALSE(w.Contains(Utc(2026, 12, 12, 10, 0)));  // Saturday
  // Friday after hours: the next opening is Monday 09:00 CET.
  EXPECT_EQ(w.NextOpening(Utc(2026, 12, 11, 15, 0)), Utc(2026, 12, 14, 8, 0));
  // In summer (CEST) 09:00 is 07:00 UTC.
  EXPECT_EQ(w.NextOpening(Utc(2026, 7, 6, 0, 0)), Utc(2026, 7, 6, 7, 0));
}

TEST(Window, BadDaysAndHours) {
  EXPECT_FALSE(RunWindow::ParseDays("Mon..Fry").ok());
  int a, b;
  EXPECT_EQ(RunWindow::ParseHours("15:00-09:00", a, b).message(), "the end is not after the start");
  EXPECT_EQ(RunWindow::ParseHours("9-15", a, b).message(), "not HH:MM-HH:MM");
  EXPECT_TRUE(RunWindow::ParseHours("00:00-24:00", a, b).ok());
}

TEST(Window, CalendarRunsOnlyInsideWindowAndOutsideBlackouts) {
  auto calendar = CalendarSpec::Parse("*-*-* *:00", Berlin());  // hourly, Berlin
  ASSERT_TRUE(calendar.ok());
  Blackout freeze;
  ASSERT_TRUE(
      Blackout::ParseDate("2026-12-08", freeze.from_year, freeze.from_month, freeze.from_day).ok());
  ASSERT_TRUE(
      Blackout::ParseDate("2026-12-10", freeze.to_year, freeze.to_month, freeze.to_day).ok());
  freeze.zone = Berlin();
  freeze.reason = "release week";
  const std::optional<RunWindow> window = GameDayHours();
  std::vector<WallTime> runs;
  WallTime t = Utc(2026, 12, 7, 0, 0);  // Monday
  for (int i = 0; i < 9; ++i) {
    auto next = NextAllowedRun(*calendar, window, {freeze}, t);
    ASSERT_TRUE(next);
    runs.push_back(*next);
    t = *next;
  }
  // Monday 09:00 … 14:00 CET, then (Tuesday to Thursday frozen) Friday 09:00 … 11:00.
  std::vector<WallTime> expected;
  for (int h = 8; h <= 13; ++h) expected.push_back(Utc(2026, 12, 7, h, 0));
  for (int h = 8; h <= 10; ++h) expected.push_back(Utc(2026, 12, 11, h, 0));
  EXPECT_EQ(runs, expected);
  EXPECT_EQ(WhyNotAllowed(window, {freeze}, Utc(2026, 12, 9, 10, 0)), "blackout: release week");
  EXPECT_EQ(WhyNotAllowed(window, {freeze}, Utc(2026, 12, 7, 20, 0)), "outside the window");
  EXPECT_EQ(WhyNotAllowed(window, {freeze}, Utc(2026, 12, 7, 10, 0)), "");
}

TEST(Window, NeverWhenCalendarAndWindowNeverMeet) {
  auto calendar = CalendarSpec::Parse("Sat 10:00", Berlin());
  EXPECT_FALSE(NextAllowedRun(*calendar, GameDayHours(), {}, Utc(2026, 12, 7, 0, 0)));
}

TEST(Jitter, SeededAndWithinBound) {
  ScheduleEntry e;
  e.name = "x";
  e.jitter = std::chrono::minutes(10);
  const WallTime due = Utc(2026, 12, 7, 9, 0);
  EXPECT_EQ(e.JitterFor(1, due), e.JitterFor(1, due));
  EXPECT_NE(e.JitterFor(1, due), e.JitterFor(2, due));
  for (int i = 0; i < 50; ++i) {
    const auto j = e.JitterFor(7, due + std::chrono::hours(i));
    EXPECT_GE(j.count(), 0);
    EXPECT_LT(j, e.jitter);
  }
}

class ScheduleFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.Write("ok.json",
               R"({"version": 1, "title": "wait a little", "method": [{"type": "wait",
                   "duration": "1s"}], "guards": []})");
    dir_.Write("bad.json",
               R"({"version": 1, "method": [{"type": "wait", "duration": "1s"}], "guards": []})");
  }
  std::vector<std::string> Errors(const std::string& text) {
    dir_.Write("schedule.json", text);
    ValidationErrors errors;
    ScheduleLoadOptions options;
    options.catalog = &FaultRegistry::Global();
    auto schedule = LoadScheduleFile(dir_.File("schedule.json"), options, errors);
    EXPECT_EQ(schedule.has_value(), errors.empty());
    return errors.Format("schedule.json");
  }
  testing::TempDir dir_;
};

TEST_F(ScheduleFileTest, EveryErrorAtOnceWordForWord) {
  const auto errors = Errors(R"({"version": 1, "entries": [
    {"name": "a", "experiment": "ok.json", "calendar": "*/0 * * * *"},
    {"name": "b", "experiment": "ok.json", "calendar": "Mon..Fry"},
    {"name": "c", "experiment": "ok.json", "calendar": "daily",
     "window": {"days": "Mon..Fri", "hours": "09:00-15:00", "time_zone": "Mars/Olympus_Mons"}},
    {"name": "d", "experiment": "missing.json", "calendar": "daily"},
    {"name": "e", "experiment": "bad.json", "calendar": "daily"},
    {"name": "a", "experiment": "ok.json", "calendar": "daily"},
    {"name": "f", "experiment": "ok.json", "calendar": "*:*:0/2", "timeout": "5s"},
    {"name": "g", "experiment": "ok.json", "calendar": "daily", "on_missed": "later",
     "jiter": "1s"}
  ]})");
  const std::vector<std::string> expected = {
      "schedule.json: /entries/0/calendar: \"*/0 * * * *\": a systemd calendar expression such "
      "as \"Mon..Fri 10:00\" (cron's five fields are not supported; systemd's form is "
      "\"*:0/15\" for every 15 minutes)",
      "schedule.json: /entries/1/calendar: \"Mon..Fry\": a systemd calendar expression such as "
      "\"Mon..Fri 10:00\" (unknown weekday \"Fry\")",
      "schedule.json: /entries/2/window/time_zone: \"Mars/Olympus_Mons\": a time zone of the tz "
      "database, such as \"Europe/Berlin\"",
      "schedule.json: /entries/3/experiment: missing.json: cannot read the file (No such file "
      "or directory): a readable JSON file",
      "schedule.json: /entries/4/experiment: bad.json: /title: missing: a non-empty string",
      "schedule.json: /entries/5/name: \"a\": a name no other entry has (/entries/0 has it)",
      "schedule.json: /entries/6/timeout: \"5s\": a duration no longer than the shortest time "
      "between two runs of /calendar (2s)",
      // In file order: on_missed comes before the typo (nlohmann::json sorted them).
      "schedule.json: /entries/7/on_missed: \"later\": one of skip, run_once",
      "schedule.json: /entries/7/jiter: unknown key: one of name, experiment, vars, var_files, "
      "calendar, window, blackout, jitter, timeout, on_missed",
  };
  EXPECT_EQ(errors, expected);
}

TEST_F(ScheduleFileTest, TopLevelErrors) {
  // In file order, then what is missing.
  EXPECT_EQ(Errors(R"({"version": 2, "entries": [], "concurrency": "sometimes"})"),
            (std::vector<std::string>{
                "schedule.json: /version: 2: 1",
                "schedule.json: /entries: []: an array of 1 to 1000 entries",
                "schedule.json: /concurrency: \"sometimes\": one of forbid, allow",
            }));
  EXPECT_EQ(Errors(R"({"zz": 1, "concurrency": "sometimes"})"),
            (std::vector<std::string>{
                "schedule.json: /zz: unknown key: one of version, time_zone, concurrency, seed, "
                "entries",
                "schedule.json: /concurrency: \"sometimes\": one of forbid, allow",
                "schedule.json: /version: missing: 1",
                "schedule.json: /entries: missing: an array of 1 to 1000 entries",
            }));
  EXPECT_EQ(Errors("[1"), (std::vector<std::string>{
                              Errors("[1").front(),
                          }));
}

TEST_F(ScheduleFileTest, ReadsAGoodSchedule) {
  dir_.Write("vars.json", R"({"port": "8080", "who": "file"})");
  dir_.Write("schedule.json", R"({"version": 1, "time_zone": "Europe/Berlin", "seed": 9,
    "entries": [{"name": "gd", "experiment": "ok.json", "calendar": "Mon..Fri 10:00",
      "vars": {"who": "entry"}, "var_files": ["vars.json"],
      "window": {"days": "Mon..Fri", "hours": "09:00-15:00"},
      "blackout": [{"from": "2026-12-24", "to": "2026-12-26", "reason": "holidays"}],
      "jitter": "5m", "timeout": "10m", "on_missed": "run_once"}]})");
  ValidationErrors errors;
  ScheduleLoadOptions options;
  options.catalog = &FaultRegistry::Global();
  auto s = LoadScheduleFile(dir_.File("schedule.json"), options, errors);
  ASSERT_TRUE(s) << errors.Format("s").front();
  ASSERT_EQ(s->entries.size(), 1u);
  const auto& e = s->entries[0];
  EXPECT_EQ(e.title, "wait a little");
  EXPECT_EQ(e.experiment, dir_.File("ok.json"));
  EXPECT_EQ(e.vars.at("port"), "8080");
  EXPECT_EQ(e.vars.at("who"), "entry");
  EXPECT_EQ(e.calendar.zone().name(), "Europe/Berlin");
  ASSERT_TRUE(e.window);
  EXPECT_EQ(e.window->zone.name(), "Europe/Berlin");
  EXPECT_EQ(e.on_missed, OnMissed::kRunOnce);
  EXPECT_EQ(s->seed, 9u);
  // Thursday 2026-12-24 is frozen: the run after Wednesday's is Monday 2026-12-28 10:00 CET.
  EXPECT_EQ(e.NextRun(Utc(2026, 12, 23, 10, 0)), Utc(2026, 12, 28, 9, 0));
}

}  // namespace
}  // namespace ringfence
