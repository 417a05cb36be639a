#include "core/schedule/calendar.h"

#include <cctz/civil_time.h>
#include <cctz/time_zone.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <functional>
#include <mutex>
#include <sstream>

namespace ringfence {

struct TimeZone::Impl {
  cctz::time_zone tz;
};

namespace {

bool PlainZoneName(const std::string& name) {
  if (name.empty() || name.size() > 64 || name[0] == '/' || name.find("..") != std::string::npos) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-' ||
           c == '+';
  });
}

using Seconds = std::chrono::time_point<std::chrono::system_clock, std::chrono::seconds>;

Seconds ToSeconds(WallTime t) { return std::chrono::floor<std::chrono::seconds>(t); }

}  // namespace

Result<TimeZone> TimeZone::Load(const std::string& name) {
  if (name == "UTC") return Utc();
  if (!PlainZoneName(name)) return Status::InvalidInput("unknown time zone");
  // cctz::load_time_zone reads the zoneinfo file; it is not documented as thread-safe for
  // concurrent loads of new zones in this version, so loads are serialized.
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  auto impl = std::make_shared<Impl>();
  if (!cctz::load_time_zone(name, &impl->tz)) return Status::InvalidInput("unknown time zone");
  TimeZone zone;
  zone.impl_ = std::move(impl);
  zone.name_ = name;
  return zone;
}

TimeZone TimeZone::Utc() {
  static const auto utc = [] {
    auto impl = std::make_shared<Impl>();
    impl->tz = cctz::utc_time_zone();
    return impl;
  }();
  TimeZone zone;
  zone.impl_ = utc;
  zone.name_ = "UTC";
  return zone;
}

TimeZone::Civil TimeZone::ToCivil(WallTime t) const {
  const cctz::civil_second cs = cctz::convert(ToSeconds(t), impl_->tz);
  const int weekday = static_cast<int>(cctz::get_weekday(cctz::civil_day(cs)));
  return {static_cast<int>(cs.year()),
          cs.month(),
          cs.day(),
          cs.hour(),
          cs.minute(),
          cs.second(),
          weekday};
}

std::optional<WallTime> TimeZone::FromCivil(int year, int month, int day, int hour, int minute,
                                            int second) const {
  const cctz::civil_second cs(year, month, day, hour, minute, second);
  if (cs.year() != year || cs.month() != month || cs.day() != day) return std::nullopt;
  const auto lookup = impl_->tz.lookup(cs);
  if (lookup.kind == cctz::time_zone::civil_lookup::SKIPPED) return std::nullopt;
  return WallTime(lookup.pre);
}

std::string TimeZone::Format(WallTime t) const {
  return cctz::format("%Y-%m-%d %H:%M:%S %Z", ToSeconds(t), impl_->tz);
}

// ---- parsing ----------------------------------------------------------------------------------

namespace {

const char* const kWeekdayNames[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
const char* const kWeekdayLong[] = {"monday", "tuesday",  "wednesday", "thursday",
                                    "friday", "saturday", "sunday"};

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) break;
    start = at + 1;
  }
  return out;
}

std::optional<int> WeekdayIndex(const std::string& word) {
  const std::string w = Lower(word);
  for (int i = 0; i < 7; ++i) {
    if (w == Lower(kWeekdayNames[i]) || w == kWeekdayLong[i]) return i;
  }
  return std::nullopt;
}

// "Mon..Fri,Sun" (also "Mon-Fri", as systemd accepts it).
Status ParseWeekdays(const std::string& text, std::bitset<7>& out, std::string& normalized) {
  for (const auto& item : Split(text, ',')) {
    std::string a = item, b;
    if (const auto dots = item.find(".."); dots != std::string::npos) {
      a = item.substr(0, dots);
      b = item.substr(dots + 2);
    } else if (const auto dash = item.find('-'); dash != std::string::npos) {
      a = item.substr(0, dash);
      b = item.substr(dash + 1);
    }
    const auto from = WeekdayIndex(a);
    if (!from) return Status::InvalidInput("unknown weekday \"" + a + "\"");
    int to = *from;
    if (!b.empty() || item.find("..") != std::string::npos) {
      const auto end = WeekdayIndex(b);
      if (!end) return Status::InvalidInput("unknown weekday \"" + b + "\"");
      to = *end;
    }
    if (to < *from) return Status::InvalidInput("weekday range \"" + item + "\" runs backwards");
    for (int d = *from; d <= to; ++d) out.set(d);
    normalized += std::string(normalized.empty() ? "" : ",") + kWeekdayNames[*from];
    if (to != *from) normalized += std::string("..") + kWeekdayNames[to];
  }
  return Status::Ok();
}

std::optional<int> Number(const std::string& s) {
  if (s.empty() || s.size() > 4) return std::nullopt;
  int v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string Pad(int v, int width) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%0*d", width, v);
  return buf;
}

// One component: "*", or a comma list of "v", "a..b", "v/step", "a..b/step". Values in [lo, hi];
// the items in `items` ("*": none). `reverse`: days counted from the end ("~07/1": the 7th-last
// and every day after it).
template <typename Item>
Status ParseComponent(const std::string& text, const std::string& what, int lo, int hi, int width,
                      bool reverse, std::vector<Item>& items, std::string& normalized) {
  if (text == "*") {
    normalized = "*";
    return Status::Ok();
  }
  normalized.clear();
  for (const auto& item : Split(text, ',')) {
    std::string range = item, step_text;
    if (const auto slash = item.find('/'); slash != std::string::npos) {
      range = item.substr(0, slash);
      step_text = item.substr(slash + 1);
    }
    std::string a = range, b;
    const auto dots = range.find("..");
    if (dots != std::string::npos) {
      a = range.substr(0, dots);
      b = range.substr(dots + 2);
    }
    const auto from = Number(a);
    if (!from) return Status::InvalidInput("bad " + what + " \"" + item + "\"");
    int to = *from;
    if (dots != std::string::npos) {
      const auto end = Number(b);
      if (!end) return Status::InvalidInput("bad " + what + " \"" + item + "\"");
      to = *end;
    }
    if (*from < lo || *from > hi || to < lo || to > hi) {
      return Status::InvalidInput(what + " \"" + item + "\" out of range " + std::to_string(lo) +
                                  ".." + std::to_string(hi));
    }
    if (to < *from || (reverse && dots != std::string::npos)) {
      return Status::InvalidInput("bad " + what + " range \"" + item + "\"");
    }
    int step = 0;
    if (!step_text.empty() || item.find('/') != std::string::npos) {
      const auto s = Number(step_text);
      if (!s) return Status::InvalidInput("bad step in \"" + item + "\"");
      if (*s == 0) return Status::InvalidInput("step 0 in \"" + item + "\"");
      step = *s;
    }
    // As systemd: a step must repeat at least once within the unit.
    if (step > 0 && !reverse && *from + step > hi) {
      return Status::InvalidInput("step in \"" + item + "\" goes past " + std::to_string(hi));
    }
    Item it;
    it.start = *from;
    if (dots != std::string::npos) {
      it.stop = to;
      it.repeat = step == 0 ? 1 : step;
    } else {
      it.repeat = step;
    }
    items.push_back(it);
    std::string n = Pad(*from, width);
    if (dots != std::string::npos) n += ".." + Pad(to, width);
    if (step != 0) n += "/" + std::to_string(step);
    normalized += (normalized.empty() ? "" : ",") + n;
  }
  return Status::Ok();
}

const std::pair<const char*, const char*> kShorthands[] = {
    {"minutely", "*-*-* *:*:00"},
    {"hourly", "*-*-* *:00:00"},
    {"daily", "*-*-* 00:00:00"},
    {"monthly", "*-*-01 00:00:00"},
    {"weekly", "Mon *-*-* 00:00:00"},
    {"yearly", "*-01-01 00:00:00"},
    {"annually", "*-01-01 00:00:00"},
    {"quarterly", "*-01,04,07,10-01 00:00:00"},
    {"semiannually", "*-01,07-01 00:00:00"},
};

bool LooksLikeWeekdays(const std::string& word) {
  return !word.empty() && std::isalpha(static_cast<unsigned char>(word[0])) &&
         word.find(':') == std::string::npos && word.find('/') == std::string::npos;
}

}  // namespace

Result<CalendarSpec> CalendarSpec::Parse(const std::string& text, const TimeZone& default_zone) {
  if (text.size() > 256) return Status::InvalidInput("longer than 256 characters");
  std::vector<std::string> words;
  {
    std::istringstream in(text);
    std::string w;
    while (in >> w) words.push_back(w);
  }
  if (words.empty()) return Status::InvalidInput("empty expression");
  if (words.size() == 5 && std::none_of(words.begin(), words.end(), [](const std::string& w) {
        return w.find(':') != std::string::npos || w.find('-') != std::string::npos;
      })) {
    return Status::InvalidInput(
        "cron's five fields are not supported; systemd's form is "
        "\"*:0/15\" for every 15 minutes");
  }
  CalendarSpec spec;
  spec.zone_ = default_zone;
  std::string zone_text;
  // A trailing zone: a word that is neither weekdays nor a date nor a time, and loads as a zone.
  if (words.size() > 1) {
    const std::string& last = words.back();
    const bool zone_like = last.find(':') == std::string::npos &&
                           (last.find('/') != std::string::npos || last == "UTC");
    if (zone_like) {
      auto zone = TimeZone::Load(last);
      if (!zone.ok()) return Status::InvalidInput("unknown time zone \"" + last + "\"");
      spec.zone_ = *zone;
      zone_text = last;
      words.pop_back();
    }
  }
  if (words.size() == 1) {
    for (const auto& [name, expansion] : kShorthands) {
      if (Lower(words[0]) == name) {
        std::istringstream in(expansion);
        std::string w;
        words.clear();
        while (in >> w) words.push_back(w);
        break;
      }
    }
  }
  size_t i = 0;
  std::string weekdays_n, date_n = "*-*-*", time_n = "00:00:00";
  if (i < words.size() && LooksLikeWeekdays(words[i])) {
    Status s = ParseWeekdays(words[i], spec.weekdays_, weekdays_n);
    if (!s.ok()) return s;
    ++i;
  } else {
    spec.weekdays_.set();
  }
  std::string date_word, time_word;
  if (i < words.size() && words[i].find(':') == std::string::npos) date_word = words[i++];
  if (i < words.size() && words[i].find(':') != std::string::npos) time_word = words[i++];
  if (i < words.size()) return Status::InvalidInput("unexpected \"" + words[i] + "\"");
  if (weekdays_n.empty() && date_word.empty() && time_word.empty()) {
    return Status::InvalidInput("no date or time");
  }

  // The date: [YEAR-]MONTH-DAY or [YEAR-]MONTH~DAY.
  std::string year_t = "*", month_t = "*", day_t = "*";
  if (!date_word.empty()) {
    std::string head = date_word;
    if (const auto tilde = date_word.find('~'); tilde != std::string::npos) {
      spec.from_end_ = true;
      head = date_word.substr(0, tilde);
      day_t = date_word.substr(tilde + 1);
      const auto parts = Split(head, '-');
      if (parts.size() == 1) {
        month_t = parts[0];
      } else if (parts.size() == 2) {
        year_t = parts[0];
        month_t = parts[1];
      } else {
        return Status::InvalidInput("bad date \"" + date_word + "\"");
      }
    } else {
      const auto parts = Split(date_word, '-');
      if (parts.size() == 2) {
        month_t = parts[0];
        day_t = parts[1];
      } else if (parts.size() == 3) {
        year_t = parts[0];
        month_t = parts[1];
        day_t = parts[2];
      } else {
        return Status::InvalidInput("bad date \"" + date_word + "\"");
      }
    }
  }
  std::string year_n, month_n, day_n, hour_n, minute_n, second_n;
  Status s = ParseComponent(year_t, "year", kCalendarMinYear, kCalendarMaxYear, 4, false,
                            spec.years_, year_n);
  if (!s.ok()) return s;
  s = ParseComponent(month_t, "month", 1, 12, 2, false, spec.months_, month_n);
  if (!s.ok()) return s;
  s = ParseComponent(day_t, "day", 1, 31, 2, spec.from_end_, spec.days_, day_n);
  if (!s.ok()) return s;

  // The time: HOUR:MINUTE[:SECOND].
  std::string hour_t = "00", minute_t = "00", second_t = "00";
  if (!time_word.empty()) {
    const auto parts = Split(time_word, ':');
    if (parts.size() < 2 || parts.size() > 3) {
      return Status::InvalidInput("bad time \"" + time_word + "\"");
    }
    hour_t = parts[0];
    minute_t = parts[1];
    if (parts.size() == 3) second_t = parts[2];
    std::string without_ranges = second_t;
    for (size_t at; (at = without_ranges.find("..")) != std::string::npos;) {
      without_ranges.erase(at, 2);
    }
    if (without_ranges.find('.') != std::string::npos) {
      return Status::InvalidInput("fractional seconds in \"" + time_word + "\"");
    }
  }
  s = ParseComponent(hour_t, "hour", 0, 23, 2, false, spec.hours_, hour_n);
  if (!s.ok()) return s;
  s = ParseComponent(minute_t, "minute", 0, 59, 2, false, spec.minutes_, minute_n);
  if (!s.ok()) return s;
  s = ParseComponent(second_t, "second", 0, 59, 2, false, spec.seconds_, second_n);
  if (!s.ok()) return s;

  spec.normalized_ = (weekdays_n.empty() ? "" : weekdays_n + " ") + year_n + "-" + month_n +
                     (spec.from_end_ ? "~" : "-") + day_n + " " + hour_n + ":" + minute_n + ":" +
                     second_n + (zone_text.empty() ? "" : " " + zone_text);
  return spec;
}

namespace {

struct Civil {
  int64_t y;
  int mo, d, h, mi, s;
};

cctz::civil_second ToCs(const Civil& c) {
  return cctz::civil_second(c.y, c.mo, c.d, c.h, c.mi, c.s);
}

Civil FromCs(const cctz::civil_second& cs) {
  return {cs.year(), cs.month(), cs.day(), cs.hour(), cs.minute(), cs.second()};
}

int DaysInMonth(int64_t year, int month) {
  return cctz::civil_day(cctz::civil_month(year, month) + 1) - cctz::civil_day(year, month, 1);
}

}  // namespace

// systemd's mktime(): fields out of range carry over (civil arithmetic), and a time that a DST
// change skips moves on by the change (02:30 → 03:30), as glibc's mktime does.
struct CalendarSearch {
  const cctz::time_zone& tz;

  Civil Normalize(const Civil& c) const {
    const cctz::civil_second cs = ToCs(c);
    const auto lookup = tz.lookup(cs);
    if (lookup.kind == cctz::time_zone::civil_lookup::SKIPPED) {
      return FromCs(cctz::convert(lookup.pre, tz));
    }
    return FromCs(cs);
  }

  // calendarspec.c tm_within_bounds(): true when normalizing changed nothing; else `c` becomes
  // the normalized time with the unit below the highest changed one reset (unless normalizing
  // went backwards), and false.
  bool WithinBounds(Civil& c) const {
    if (c.y > kCalendarMaxYear) return true;
    Civil t = Normalize(c);
    int cmp;
    auto sign = [](int64_t a, int64_t b) { return a < b ? -1 : a > b ? 1 : 0; };
    if ((cmp = sign(t.y, c.y)) != 0) {
      t.mo = 1;
    } else if ((cmp = sign(t.mo, c.mo)) != 0) {
      t.d = 1;
    } else if ((cmp = sign(t.d, c.d)) != 0) {
      t.h = 0;
    } else if ((cmp = sign(t.h, c.h)) != 0) {
      t.mi = 0;
    } else if ((cmp = sign(t.mi, c.mi)) != 0) {
      t.s = 0;
    } else {
      cmp = sign(t.s, c.s);
    }
    if (cmp < 0) return false;
    c = t;
    return cmp == 0;
  }
};

// calendarspec.c find_matching_component(): the smallest value of `items` at or after `*val`
// (a step may give one past the unit's end); -1 none, 0 `*val` itself, 1 a later one.
template <typename Item>
int Match(const std::vector<Item>& items, int& val, int days_in_month = 0) {
  if (items.empty()) return 0;
  bool found = false;
  int best = 0;
  for (const auto& item : items) {
    int start = item.start;
    int stop = item.stop;
    if (days_in_month > 0) {  // "~": counted from the end of the month
      start = days_in_month - start + 1;
      stop = stop > 0 ? days_in_month - stop + 1 : -1;
      if (stop > 0) std::swap(start, stop);
    }
    if (start >= val) {
      if (!found || start < best) best = start;
      found = true;
    } else if (item.repeat > 0) {
      const int k = start + item.repeat * ((val - start + item.repeat - 1) / item.repeat);
      if ((stop < 0 || k <= stop) && (!found || k < best)) {
        best = k;
        found = true;
      }
    }
  }
  if (!found) return -1;
  const int r = val != best ? 1 : 0;
  val = best;
  return r;
}

std::optional<WallTime> CalendarSpec::Next(WallTime after) const {
  const auto& tz = zone_.impl_->tz;
  const auto first = cctz::convert(ToSeconds(after) + std::chrono::seconds(1), tz);
  Civil c = FromCs(first);
  CalendarSearch search{tz};
  // Each turn moves forward; the bound only guards against a calendar systemd would loop on.
  for (int turn = 0; turn < 1000000; ++turn) {
    c = search.Normalize(c);
    if (c.y > kCalendarMaxYear) return std::nullopt;
    int year = static_cast<int>(c.y);
    int r = Match(years_, year);
    c.y = year;
    if (r > 0) c = {c.y, 1, 1, 0, 0, 0};
    if (r < 0 || !search.WithinBounds(c) || c.y > kCalendarMaxYear) return std::nullopt;

    r = Match(months_, c.mo);
    if (r > 0) c = {c.y, c.mo, 1, 0, 0, 0};
    if (r < 0) {
      c = {c.y + 1, 1, 1, 0, 0, 0};
      continue;
    }
    if (!search.WithinBounds(c)) continue;

    r = Match(days_, c.d, from_end_ ? DaysInMonth(c.y, c.mo) : 0);
    if (r > 0) c.h = c.mi = c.s = 0;
    if (r < 0) {
      c = {c.y, c.mo + 1, 1, 0, 0, 0};
      continue;
    }
    if (!search.WithinBounds(c)) continue;

    const int weekday = static_cast<int>(cctz::get_weekday(cctz::civil_day(c.y, c.mo, c.d)));
    if (!weekdays_[weekday]) {
      c = {c.y, c.mo, c.d + 1, 0, 0, 0};
      continue;
    }

    r = Match(hours_, c.h);
    if (r > 0) c.mi = c.s = 0;
    if (r < 0) {
      c = {c.y, c.mo, c.d + 1, 0, 0, 0};
      continue;
    }
    if (!search.WithinBounds(c)) continue;

    r = Match(minutes_, c.mi);
    if (r > 0) c.s = 0;
    if (r < 0) {
      c = {c.y, c.mo, c.d, c.h + 1, 0, 0};
      continue;
    }
    if (!search.WithinBounds(c)) continue;

    r = Match(seconds_, c.s);
    if (r < 0) {
      c = {c.y, c.mo, c.d, c.h, c.mi + 1, 0};
      continue;
    }
    if (!search.WithinBounds(c)) continue;

    const auto lookup = tz.lookup(ToCs(c));
    WallTime instant(lookup.pre);
    if (instant <= after && lookup.kind == cctz::time_zone::civil_lookup::REPEATED) {
      instant = WallTime(lookup.post);
    }
    if (instant <= after) {  // normalizing went backwards (a repeated hour): look further
      c.s += 1;
      continue;
    }
    return instant;
  }
  return std::nullopt;
}

}  // namespace ringfence
