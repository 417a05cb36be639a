#include "core/model/schedule.h"

#include <filesystem>
#include <functional>
#include <random>
#include <set>

#include "core/base/input_file.h"
#include "core/base/json_fields.h"
#include "core/model/experiment.h"
#include "core/model/object_fields.h"

namespace ringfence {

std::optional<WallTime> ScheduleEntry::NextRun(WallTime after) const {
  return NextAllowedRun(calendar, window, blackouts, after);
}

Duration ScheduleEntry::JitterFor(uint64_t seed, WallTime due) const {
  if (jitter.count() <= 0) return Duration(0);
  const uint64_t when = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(due.time_since_epoch()).count());
  std::seed_seq seq{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32),
                    static_cast<uint32_t>(std::hash<std::string>{}(name)),
                    static_cast<uint32_t>(when), static_cast<uint32_t>(when >> 32)};
  std::mt19937_64 random(seq);
  return Duration(static_cast<int64_t>(random() % static_cast<uint64_t>(jitter.count())));
}

namespace {

// Ordered, so that errors come in file order (core/model/object_fields.h).
using json = nlohmann::ordered_json;

// Allowed texts (docs/scheduling.md).
constexpr const char* kNameAllowed = kPlainNameAllowed;
constexpr char kCalendarAllowed[] = "a systemd calendar expression such as \"Mon..Fri 10:00\"";
constexpr char kZoneAllowed[] = "a time zone of the tz database, such as \"Europe/Berlin\"";
constexpr char kEntriesAllowed[] = "an array of 1 to 1000 entries";

std::string Child(const std::string& pointer, const std::string& key) {
  return ChildPointer(pointer, key);
}
std::string Child(const std::string& pointer, size_t index) { return ChildPointer(pointer, index); }

using Field = ObjectField;

class ScheduleReader {
 public:
  ScheduleReader(std::string dir, const ScheduleLoadOptions& options, ValidationErrors& errors)
      : dir_(std::move(dir)), options_(options), errors_(errors) {}

  void Read(const json& doc, Schedule& out) {
    if (!doc.is_object()) return Error("", doc, "a schedule object");
    // The zone first: windows and calendars of the entries default to it.
    if (auto it = doc.find("time_zone"); it != doc.end()) {
      if (auto zone = Zone(*it, "/time_zone")) out.zone = *zone;
    }
    zone_ = out.zone;
    ReadObject(doc, "",
               {{"version", true, "1",
                 [&](const json& v, const std::string& p) {
                   if (!(v.is_number_integer() && v.get<int64_t>() == 1)) Error(p, v, "1");
                 }},
                {"time_zone", false, "", [](const json&, const std::string&) {}},
                {"concurrency", false, "",
                 [&](const json& v, const std::string& p) {
                   if (v == "forbid" || v == "allow") {
                     out.allow_overlap = v == "allow";
                   } else {
                     Error(p, v, OneOf({"forbid", "allow"}));
                   }
                 }},
                {"seed", false, "",
                 [&](const json& v, const std::string& p) {
                   if (!v.is_number_unsigned()) return Error(p, v, "an unsigned integer");
                   out.seed = v.get<uint64_t>();
                 }},
                {"entries", true, kEntriesAllowed, [&](const json& v, const std::string& p) {
                   if (!v.is_array() || v.empty() || v.size() > kMaxScheduleEntries) {
                     return Error(p, v, kEntriesAllowed);
                   }
                   std::map<std::string, std::string> names;
                   for (size_t i = 0; i < v.size(); ++i) {
                     ScheduleEntry entry;
                     const bool read = ReadEntry(v[i], Child(p, i), entry);
                     if (entry.name.empty()) continue;
                     const auto [it, fresh] = names.emplace(entry.name, entry.pointer);
                     if (!fresh) {
                       errors_.Add(entry.pointer + "/name", FoundValue(json(entry.name)),
                                   "a name no other entry has (" + it->second + " has it)");
                       continue;
                     }
                     if (read) out.entries.push_back(std::move(entry));
                   }
                 }}});
  }

 private:
  void Error(const std::string& pointer, const json& found, const std::string& allowed) {
    errors_.Add(pointer, FoundValue(found), allowed);
  }

  void ReadObject(const json& object, const std::string& pointer,
                  const std::vector<Field>& fields) {
    if (!object.is_object()) return Error(pointer, object, "an object");
    ReadObjectFields(object, pointer, fields, errors_);
  }

  std::optional<TimeZone> Zone(const json& v, const std::string& p) {
    if (!v.is_string()) {
      Error(p, v, kZoneAllowed);
      return std::nullopt;
    }
    auto zone = TimeZone::Load(v.get<std::string>());
    if (!zone.ok()) {
      Error(p, v, kZoneAllowed);
      return std::nullopt;
    }
    return *zone;
  }

  std::optional<std::string> String(const json& v, const std::string& p) {
    if (!v.is_string() || v.get_ref<const std::string&>().empty()) {
      Error(p, v, "a non-empty string");
      return std::nullopt;
    }
    return v.get<std::string>();
  }

  std::optional<Duration> DurationOf(const json& v, const std::string& p, bool positive) {
    const std::string allowed =
        std::string(kDurationAllowed) + (positive ? " (greater than 0)" : "");
    if (!v.is_string()) {
      Error(p, v, allowed);
      return std::nullopt;
    }
    auto d = ParseDuration(v.get<std::string>());
    if (!d.ok() || (positive && d->count() == 0)) {
      Error(p, v, allowed);
      return std::nullopt;
    }
    return *d;
  }

  std::string Resolve(const std::string& path) const {
    if (path.empty() || path[0] == '/' || dir_.empty()) return path;
    return (std::filesystem::path(dir_) / path).lexically_normal().string();
  }

  // Var files: JSON objects of strings; later files win.
  void ReadVarFile(const json& v, const std::string& p, std::map<std::string, std::string>& vars) {
    auto path = String(v, p);
    if (!path) return;
    InputFileRefusal refusal;
    auto text = ReadInputFile(Resolve(*path), kMaxScheduleBytes, "JSON file", &refusal);
    if (!text.ok()) {
      errors_.Add(p, *path + ": " + refusal.found, refusal.allowed);
      return;
    }
    auto doc = ParseUntrustedJson(*text);
    if (!doc.ok() || !doc->is_object()) {
      errors_.Add(p, *path + ": " + (doc.ok() ? FoundValue(*doc) : doc.status().message()),
                  "a JSON object of strings");
      return;
    }
    for (const auto& [name, value] : doc->items()) {
      if (!value.is_string()) {
        errors_.Add(p, *path + ": " + Child("", name) + ": " + FoundValue(value), "a string");
        continue;
      }
      vars[name] = value.get<std::string>();
    }
  }

  void ReadWindow(const json& v, const std::string& p, ScheduleEntry& entry) {
    RunWindow window;
    window.zone = zone_;
    window.weekdays.set();
    bool ok = true;
    ReadObject(v, p,
               {{"days", false, "",
                 [&](const json& d, const std::string& dp) {
                   auto days = d.is_string() ? RunWindow::ParseDays(d.get<std::string>())
                                             : Result<std::bitset<7>>(Status::InvalidInput(""));
                   if (!days.ok()) {
                     ok = false;
                     return Error(dp, d, "weekdays such as \"Mon..Fri\" or \"Sat,Sun\"");
                   }
                   window.weekdays = *days;
                 }},
                {"hours", true, "hours such as \"09:00-15:00\"",
                 [&](const json& h, const std::string& hp) {
                   Status s = h.is_string()
                                  ? RunWindow::ParseHours(h.get<std::string>(), window.start_minute,
                                                          window.end_minute)
                                  : Status::InvalidInput("");
                   if (!s.ok()) {
                     ok = false;
                     Error(hp, h, "hours such as \"09:00-15:00\" (the end after the start)");
                   }
                 }},
                {"time_zone", false, "", [&](const json& z, const std::string& zp) {
                   if (auto zone = Zone(z, zp)) {
                     window.zone = *zone;
                   } else {
                     ok = false;
                   }
                 }}});
    if (ok && v.is_object()) entry.window = window;
  }

  void ReadBlackouts(const json& v, const std::string& p, ScheduleEntry& entry) {
    constexpr char kAllowed[] = "an array of {\"from\", \"to\"} date ranges";
    if (!v.is_array()) return Error(p, v, kAllowed);
    for (size_t i = 0; i < v.size(); ++i) {
      const std::string bp = Child(p, i);
      Blackout b;
      b.zone = entry.window ? entry.window->zone : zone_;
      bool ok = v[i].is_object();
      auto date = [&](int& y, int& m, int& d) {
        return [&, this](const json& x, const std::string& xp) {
          if (!x.is_string() || !Blackout::ParseDate(x.get<std::string>(), y, m, d).ok()) {
            ok = false;
            Error(xp, x, "a date such as \"2026-12-24\"");
          }
        };
      };
      ReadObject(
          v[i], bp,
          {{"from", true, "a date such as \"2026-12-24\"",
            date(b.from_year, b.from_month, b.from_day)},
           {"to", true, "a date such as \"2026-12-24\"", date(b.to_year, b.to_month, b.to_day)},
           {"reason", false, "", [&](const json& r, const std::string& rp) {
              if (auto s = String(r, rp)) b.reason = *s;
            }}});
      if (!ok || !v[i].contains("from") || !v[i].contains("to")) continue;
      if (std::tie(b.to_year, b.to_month, b.to_day) <
          std::tie(b.from_year, b.from_month, b.from_day)) {
        Error(bp + "/to", v[i]["to"], "a date on or after /from");
        continue;
      }
      entry.blackouts.push_back(b);
    }
  }

  bool ReadEntry(const json& v, const std::string& p, ScheduleEntry& entry) {
    entry.pointer = p;
    const size_t before = errors_.size();
    std::map<std::string, std::string> file_vars, vars;
    std::optional<json> timeout_value;
    ReadObject(v, p,
               {{"name", true, kNameAllowed,
                 [&](const json& x, const std::string& xp) {
                   if (!x.is_string() || !IsPlainName(x.get<std::string>()))
                     return Error(xp, x, kNameAllowed);
                   entry.name = x.get<std::string>();
                 }},
                {"experiment", true, "the path of an experiment file",
                 [&](const json& x, const std::string& xp) {
                   if (auto s = String(x, xp)) {
                     entry.experiment_as_written = *s;
                     entry.experiment = Resolve(*s);
                   }
                 }},
                {"vars", false, "",
                 [&](const json& x, const std::string& xp) {
                   if (!x.is_object()) return Error(xp, x, "an object of strings");
                   for (const auto& [k, val] : x.items()) {
                     if (!val.is_string()) {
                       Error(Child(xp, k), val, "a string");
                       continue;
                     }
                     vars[k] = val.get<std::string>();
                   }
                 }},
                {"var_files", false, "",
                 [&](const json& x, const std::string& xp) {
                   if (!x.is_array()) return Error(xp, x, "an array of paths");
                   for (size_t i = 0; i < x.size(); ++i) ReadVarFile(x[i], Child(xp, i), file_vars);
                 }},
                {"calendar", true, kCalendarAllowed,
                 [&](const json& x, const std::string& xp) {
                   if (!x.is_string()) return Error(xp, x, kCalendarAllowed);
                   auto spec = CalendarSpec::Parse(x.get<std::string>(), zone_);
                   if (!spec.ok()) {
                     return Error(
                         xp, x,
                         std::string(kCalendarAllowed) + " (" + spec.status().message() + ")");
                   }
                   entry.calendar_text = x.get<std::string>();
                   entry.calendar = *spec;
                 }},
                {"window", false, "",
                 [&](const json& x, const std::string& xp) { ReadWindow(x, xp, entry); }},
                {"blackout", false, "",
                 [&](const json& x, const std::string& xp) { ReadBlackouts(x, xp, entry); }},
                {"jitter", false, "",
                 [&](const json& x, const std::string& xp) {
                   if (auto d = DurationOf(x, xp, false)) entry.jitter = *d;
                 }},
                {"timeout", false, "",
                 [&](const json& x, const std::string& xp) {
                   if (auto d = DurationOf(x, xp, true)) {
                     entry.timeout = *d;
                     timeout_value = x;
                   }
                 }},
                {"on_missed", false, "", [&](const json& x, const std::string& xp) {
                   if (x == "skip" || x == "run_once") {
                     entry.on_missed = x == "skip" ? OnMissed::kSkip : OnMissed::kRunOnce;
                   } else {
                     Error(xp, x, OneOf({"skip", "run_once"}));
                   }
                 }}});
    if (errors_.size() != before) return false;
    // A blackout read before the window took the schedule's zone: take the window's.
    if (entry.window) {
      for (auto& b : entry.blackouts) b.zone = entry.window->zone;
    }
    entry.vars = file_vars;
    for (const auto& [k, val] : vars) entry.vars[k] = val;
    CheckTimeout(entry, timeout_value);
    CheckExperiment(entry);
    return errors_.size() == before;
  }

  // A run must end before the next one is due: the timeout is at most the shortest time between
  // two elapses of the calendar (over its next 50 elapses).
  void CheckTimeout(ScheduleEntry& entry, const std::optional<json>& value) {
    if (!entry.timeout) return;
    std::optional<Duration> shortest;
    // From a fixed base (Monday 2026-01-05), so that the check does not depend on the clock.
    std::optional<WallTime> previous =
        entry.calendar.Next(*TimeZone::Utc().FromCivil(2026, 1, 5, 0, 0, 0));
    for (int i = 0; previous && i < 50; ++i) {
      const auto next = entry.calendar.Next(*previous);
      if (!next) break;
      const auto gap = std::chrono::duration_cast<Duration>(*next - *previous);
      if (!shortest || gap < *shortest) shortest = gap;
      previous = next;
    }
    if (shortest && *entry.timeout > *shortest) {
      Error(entry.pointer + "/timeout", *value,
            "a duration no longer than the shortest time between two runs of /calendar (" +
                FormatDuration(*shortest) + ")");
    }
  }

  void CheckExperiment(ScheduleEntry& entry) {
    ValidationErrors experiment_errors;
    LoadOptions load;
    load.vars = entry.vars;
    load.catalog = options_.catalog;
    auto experiment = LoadExperimentFile(entry.experiment, load, experiment_errors);
    if (experiment) {
      entry.title = experiment->title;
      return;
    }
    const std::string p = entry.pointer + "/experiment";
    for (const auto& e : experiment_errors.errors()) {
      std::string where = entry.experiment_as_written;
      if (e.line > 0) {
        where += ":" + std::to_string(e.line) + ":" + std::to_string(e.column);
      } else if (!e.pointer.empty()) {
        where += ": " + e.pointer;
      }
      errors_.Add(p, where + ": " + e.found, e.allowed);
    }
  }

  std::string dir_;
  const ScheduleLoadOptions& options_;
  ValidationErrors& errors_;
  TimeZone zone_ = TimeZone::Utc();
};

}  // namespace

std::optional<Schedule> LoadScheduleFile(const std::string& path,
                                         const ScheduleLoadOptions& options,
                                         ValidationErrors& errors) {
  InputFileRefusal refusal;
  auto text = ReadCommandLineInput(path, kMaxScheduleBytes, "JSON file", &refusal);
  if (!text.ok()) {
    errors.Add("", refusal.found, refusal.allowed);
    return std::nullopt;
  }
  auto doc = ParseUntrustedJson(*text);
  if (!doc.ok()) {
    errors.Add("", doc.status().message(), "a schedule (docs/scheduling.md)");
    return std::nullopt;
  }
  Schedule schedule;
  const std::string dir =
      path == kStandardInputName ? "" : std::filesystem::path(path).parent_path().string();
  // Parsed again, checked already, keeping the members' order for the errors.
  ScheduleReader(dir, options, errors).Read(json::parse(*text), schedule);
  if (!errors.empty()) return std::nullopt;
  return schedule;
}

}  // namespace ringfence
