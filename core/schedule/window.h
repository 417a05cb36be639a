#pragma once

#include <bitset>
#include <optional>
#include <string>
#include <vector>

#include "core/base/clock.h"
#include "core/base/status.h"
#include "core/schedule/calendar.h"

namespace ringfence {

// When runs may start: some weekdays, between two times of day, in a named zone ("Mon..Fri",
// "09:00-15:00", "Europe/Berlin"). A run due outside the window does not start; the next one that
// falls inside does. The end is exclusive (15:00 is outside "09:00-15:00").
struct RunWindow {
  std::bitset<7> weekdays;  // Monday = 0
  int start_minute = 0;     // minutes after midnight
  int end_minute = 24 * 60;
  TimeZone zone = TimeZone::Utc();

  // Parses the days ("Mon..Fri", "Sat,Sun", "*") and the hours ("09:00-15:00").
  static Result<std::bitset<7>> ParseDays(const std::string& text);
  static Status ParseHours(const std::string& text, int& start_minute, int& end_minute);

  bool Contains(WallTime t) const;
  // The first instant at or after `t` inside the window (t itself when inside); nullopt when
  // the window never opens (no weekday).
  std::optional<WallTime> NextOpening(WallTime t) const;
};

// A freeze: no run starts from `from` to `to` (whole days, both included) in `zone`.
struct Blackout {
  int from_year, from_month, from_day;
  int to_year, to_month, to_day;
  std::string reason;
  TimeZone zone = TimeZone::Utc();

  // "2026-12-21" → year, month, day; kInvalidInput "not a date" otherwise.
  static Status ParseDate(const std::string& text, int& year, int& month, int& day);
  bool Contains(WallTime t) const;
  // The first instant after the blackout (the day after `to`, 00:00 in its zone).
  WallTime End() const;
};

// The next time a calendar entry may start a run, after `after`: the calendar's next elapse that
// lies inside `window` (when given) and outside every blackout. nullopt: never (before 2200, or
// within a bounded search).
std::optional<WallTime> NextAllowedRun(const CalendarSpec& calendar,
                                       const std::optional<RunWindow>& window,
                                       const std::vector<Blackout>& blackouts, WallTime after);

// Why `t` is not allowed ("outside the window", "blackout: <reason>"); "" when it is.
std::string WhyNotAllowed(const std::optional<RunWindow>& window,
                          const std::vector<Blackout>& blackouts, WallTime t);

}  // namespace ringfence
