#pragma once

#include <bitset>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/base/clock.h"
#include "core/base/status.h"

namespace ringfence {

// A time zone by its IANA name ("Europe/Berlin", "UTC"), loaded from the system's tzdata
// (/usr/share/zoneinfo) through cctz (docs/scheduling.md says why cctz). Cheap to copy.
class TimeZone {
 public:
  // kInvalidInput "unknown time zone" for a name that is not in the tz database (or that is not
  // a plain zone name: no "..", no leading "/", only letters, digits, "/", "_", "-" and "+").
  static Result<TimeZone> Load(const std::string& name);
  static TimeZone Utc();

  const std::string& name() const { return name_; }

  // The civil time at `t` in this zone.
  struct Civil {
    int year, month, day, hour, minute, second;
    int weekday;  // 0 = Monday … 6 = Sunday
  };
  Civil ToCivil(WallTime t) const;
  // The instant of a civil time: a time skipped by a DST change is nullopt; a repeated one is
  // its first occurrence.
  std::optional<WallTime> FromCivil(int year, int month, int day, int hour, int minute,
                                    int second) const;
  // "2026-12-07 10:00:00 CET"
  std::string Format(WallTime t) const;

 private:
  friend class CalendarSpec;
  struct Impl;
  std::shared_ptr<const Impl> impl_;
  std::string name_;
};

// A systemd OnCalendar expression (systemd.time(7)), the subset documented in
// docs/scheduling.md: "[WEEKDAYS] [DATE] [TIME] [ZONE]" or a shorthand (minutely, hourly, daily,
// weekly, monthly, yearly, annually, quarterly, semiannually) with an optional zone. Components
// are "*", values, lists "a,b", ranges "a..b", steps "a/n" and "a..b/n"; the day may count from
// the end of the month ("*-02~01", "*-*~07/1"). No fractional seconds, no time zone
// abbreviations. Next() is systemd 252's search (calendarspec.c find_next), ported to civil
// times in the zone: a time that a DST change skips does not happen that day, a repeated one
// happens once (its first occurrence), and an open step that overflows into a unit that carries
// further restarts there at its remainder, as systemd's does ("*:0/25": 23:50, then 00:25).
class CalendarSpec {
 public:
  // Parses `text`. A zone named in the expression wins over `default_zone` (the schedule's).
  // On error: kInvalidInput with why, e.g. "step 0 in \"0/0\"", "unknown weekday \"Fry\"".
  static Result<CalendarSpec> Parse(const std::string& text, const TimeZone& default_zone);

  // The first elapse strictly after `after` (whole seconds), or nullopt when there is none
  // before the year 2200 (systemd's "never").
  std::optional<WallTime> Next(WallTime after) const;

  // The expression as systemd normalizes it ("Mon..Fri *-*-* 10:00:00 Europe/Berlin").
  const std::string& normalized() const { return normalized_; }
  const TimeZone& zone() const { return zone_; }

 private:
  // One item of a component, as systemd keeps it: a value (`repeat` 0), a range a..b
  // (`stop` b, `repeat` 1), a step a/n (`repeat` n, no stop) or a..b/n. No items: "*".
  struct Item {
    int start = 0;
    int stop = -1;
    int repeat = 0;
  };
  using Component = std::vector<Item>;

  Component years_, months_, days_, hours_, minutes_, seconds_;
  bool from_end_ = false;    // days_ count from the end of the month ("~")
  std::bitset<7> weekdays_;  // Monday = 0
  TimeZone zone_;
  std::string normalized_;
};

inline constexpr int kCalendarMinYear = 1970;
inline constexpr int kCalendarMaxYear = 2199;

}  // namespace ringfence
