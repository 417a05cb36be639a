#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/base/duration.h"
#include "core/base/validation.h"
#include "core/schedule/calendar.h"
#include "core/schedule/window.h"

namespace ringfence {

class FaultCatalog;

// What to do about the runs a scheduler missed while it was not running (docs/scheduling.md).
enum class OnMissed { kSkip, kRunOnce };

// One entry of a schedule file: an experiment, its vars, and when it runs.
struct ScheduleEntry {
  std::string name;
  std::string pointer;     // "/entries/0", for messages
  std::string experiment;  // the path, relative to the working directory
  std::string experiment_as_written;
  std::string title;                        // the experiment's title
  std::map<std::string, std::string> vars;  // var files first, then `vars` (which win)
  std::string calendar_text;
  CalendarSpec calendar;
  std::optional<RunWindow> window;
  std::vector<Blackout> blackouts;
  Duration jitter{0};
  std::optional<Duration> timeout;
  OnMissed on_missed = OnMissed::kSkip;

  // The next time this entry may start after `after` (window and blackouts honoured), before
  // jitter.
  std::optional<WallTime> NextRun(WallTime after) const;
  // The seeded delay of the run due at `due`: the same for the same seed, entry and time.
  Duration JitterFor(uint64_t seed, WallTime due) const;
};

struct Schedule {
  int version = 1;
  TimeZone zone = TimeZone::Utc();  // /time_zone: windows, blackouts and calendars without one
  bool allow_overlap = false;       // /concurrency "allow"; default "forbid"
  uint64_t seed = 0;                // /seed, for jitter
  std::vector<ScheduleEntry> entries;
};

struct ScheduleLoadOptions {
  // Fault types for checking each entry's experiment (FaultRegistry::Global()).
  const FaultCatalog* catalog = nullptr;
};

// The limit on a schedule file and on its var files.
inline constexpr size_t kMaxScheduleBytes = 1 << 20;
inline constexpr size_t kMaxScheduleEntries = 1000;

// Reads and validates a schedule file and every experiment it names (with the entry's vars).
// On failure `errors` holds every problem at once and the result is nullopt; an experiment's own
// errors appear under its entry's pointer ("/entries/1/experiment: kill.json: /title: missing:
// a non-empty string"). Relative paths are relative to the schedule file's folder. The texts
// are listed in docs/scheduling.md.
std::optional<Schedule> LoadScheduleFile(const std::string& path,
                                         const ScheduleLoadOptions& options,
                                         ValidationErrors& errors);

}  // namespace ringfence
