#include "core/schedule/window.h"

#include <cstdio>

namespace ringfence {

Result<std::bitset<7>> RunWindow::ParseDays(const std::string& text) {
  if (text == "*") return std::bitset<7>().set();
  // The weekdays of a calendar expression, parsed by the calendar's own reader.
  auto spec = CalendarSpec::Parse(text + " 00:00", TimeZone::Utc());
  if (!spec.ok()) return spec.status();
  std::bitset<7> days;
  // Monday 2024-01-01 … Sunday 2024-01-07: which of them the expression names.
  for (int d = 0; d < 7; ++d) {
    const auto before = TimeZone::Utc().FromCivil(2024, 1, 1 + d, 0, 0, 0);
    if (spec->Next(*before - std::chrono::seconds(1)) == *before) days.set(d);
  }
  return days;
}

Status RunWindow::ParseHours(const std::string& text, int& start_minute, int& end_minute) {
  int h1, m1, h2, m2;
  char tail;
  if (std::sscanf(text.c_str(), "%2d:%2d-%2d:%2d%c", &h1, &m1, &h2, &m2, &tail) != 4 ||
      text.size() != 11) {
    return Status::InvalidInput("not HH:MM-HH:MM");
  }
  if (h1 > 23 || m1 > 59 || h2 > 24 || m2 > 59 || (h2 == 24 && m2 != 0) || h1 < 0 || m1 < 0 ||
      h2 < 0 || m2 < 0) {
    return Status::InvalidInput("not HH:MM-HH:MM");
  }
  start_minute = h1 * 60 + m1;
  end_minute = h2 * 60 + m2;
  if (end_minute <= start_minute) return Status::InvalidInput("the end is not after the start");
  return Status::Ok();
}

bool RunWindow::Contains(WallTime t) const {
  const auto c = zone.ToCivil(t);
  const int minute = c.hour * 60 + c.minute;
  return weekdays[c.weekday] && minute >= start_minute && minute < end_minute;
}

std::optional<WallTime> RunWindow::NextOpening(WallTime t) const {
  if (weekdays.none()) return std::nullopt;
  if (Contains(t)) return t;
  const auto c = zone.ToCivil(t);
  // Today's opening if it is still ahead, else the next allowed day's (at most 8 days on).
  for (int ahead = 0; ahead <= 8; ++ahead) {
    const int weekday = (c.weekday + ahead) % 7;
    if (!weekdays[weekday]) continue;
    // civil day + ahead, normalized by FromCivil's arithmetic through a UTC round trip.
    const auto midnight_utc = TimeZone::Utc().FromCivil(c.year, c.month, c.day, 0, 0, 0);
    const auto day = TimeZone::Utc().ToCivil(*midnight_utc + std::chrono::hours(24 * ahead));
    for (int minute = start_minute; minute < end_minute; ++minute) {
      // The opening may fall into a DST gap: the first minute of the window that exists.
      const auto open = zone.FromCivil(day.year, day.month, day.day, minute / 60, minute % 60, 0);
      if (open && *open > t) return open;
      if (open) break;
    }
  }
  return std::nullopt;
}

Status Blackout::ParseDate(const std::string& text, int& year, int& month, int& day) {
  char tail;
  if (text.size() != 10 ||
      std::sscanf(text.c_str(), "%4d-%2d-%2d%c", &year, &month, &day, &tail) != 3) {
    return Status::InvalidInput("not a date");
  }
  if (year < kCalendarMinYear || year > kCalendarMaxYear ||
      !TimeZone::Utc().FromCivil(year, month, day, 0, 0, 0)) {
    return Status::InvalidInput("not a date");
  }
  return Status::Ok();
}

namespace {
int DayNumber(int y, int m, int d) { return y * 10000 + m * 100 + d; }
}  // namespace

bool Blackout::Contains(WallTime t) const {
  const auto c = zone.ToCivil(t);
  const int n = DayNumber(c.year, c.month, c.day);
  return n >= DayNumber(from_year, from_month, from_day) &&
         n <= DayNumber(to_year, to_month, to_day);
}

WallTime Blackout::End() const {
  const auto last = TimeZone::Utc().FromCivil(to_year, to_month, to_day, 12, 0, 0);
  const auto next = TimeZone::Utc().ToCivil(*last + std::chrono::hours(24));
  for (int hour = 0; hour < 24; ++hour) {
    if (auto t = zone.FromCivil(next.year, next.month, next.day, hour, 0, 0)) return *t;
  }
  return *last + std::chrono::hours(36);
}

std::optional<WallTime> NextAllowedRun(const CalendarSpec& calendar,
                                       const std::optional<RunWindow>& window,
                                       const std::vector<Blackout>& blackouts, WallTime after) {
  WallTime from = after;
  // Each turn either returns or jumps past a closed window or a blackout, so the loop is short;
  // the bound covers a window and a calendar that never meet.
  for (int turn = 0; turn < 100000; ++turn) {
    const auto next = calendar.Next(from);
    if (!next) return std::nullopt;
    bool moved = false;
    for (const auto& b : blackouts) {
      if (b.Contains(*next)) {
        from = b.End() - std::chrono::seconds(1);
        moved = true;
        break;
      }
    }
    if (moved) continue;
    if (window && !window->Contains(*next)) {
      const auto opening = window->NextOpening(*next);
      if (!opening) return std::nullopt;
      from = *opening - std::chrono::seconds(1);
      continue;
    }
    return next;
  }
  return std::nullopt;
}

std::string WhyNotAllowed(const std::optional<RunWindow>& window,
                          const std::vector<Blackout>& blackouts, WallTime t) {
  for (const auto& b : blackouts) {
    if (b.Contains(t)) return "blackout" + (b.reason.empty() ? "" : ": " + b.reason);
  }
  if (window && !window->Contains(t)) return "outside the window";
  return "";
}

}  // namespace ringfence
