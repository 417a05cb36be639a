#pragma once

#include <string>

namespace ringfence {

// `ringfence schedule ACTION [FILE]` (docs/scheduling.md).
struct ScheduleRequest {
  std::string action;        // check, install, uninstall
  std::string file;          // the schedule (check, install)
  std::string from;          // check --from: RFC 3339 UTC ("2026-12-07T08:00:00Z"); "" now
  int count = 5;             // check --count: next runs per entry
  std::string entry;         // check --entry: only this entry
  bool allowed_now = false;  // check --allowed-now: exit 0 when --entry may run now, else 1
  bool user = false;         // install/uninstall --user: systemd user units
  std::string unit_dir;      // install/uninstall --unit-dir: instead of systemd's
  std::string state_dir;     // install: the runs' state dir ("": DefaultStateDir())
};

// The actions, for the CLI's help and checks.
inline constexpr const char* kScheduleActions[] = {"check", "install", "uninstall"};

// check: validates the schedule (every error at once, exit 2) and prints each entry's next runs
// with windows, blackouts and jitter applied; exit 0. install: writes one .service and one
// .timer per entry, and a manifest of what it wrote, into the unit dir; exit 0, 2 (invalid
// schedule, nothing written), 3 (cannot write). uninstall: removes what the manifest lists
// (files changed since are kept and named; exit 3), then the manifest.
int RunScheduleCommand(const ScheduleRequest& request);

}  // namespace ringfence
