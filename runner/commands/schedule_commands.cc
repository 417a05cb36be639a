#include "runner/commands/schedule_commands.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/base/input_file.h"
#include "core/base/json_fields.h"
#include "core/fault/fault.h"
#include "core/history/history.h"
#include "core/ledger/file_ledger.h"
#include "core/model/schedule.h"
#include "core/sys/run_command.h"
#include "core/sys/system_clock.h"
#include "runner/run/run_history.h"

namespace ringfence {

namespace {

namespace fs = std::filesystem;

constexpr char kManifestName[] = "ringfence-schedule.manifest";

std::optional<Schedule> Load(const std::string& file) {
  ValidationErrors errors;
  ScheduleLoadOptions options;
  options.catalog = &FaultRegistry::Global();
  auto schedule = LoadScheduleFile(file, options, errors);
  if (!schedule) {
    for (const auto& line : errors.Format(file)) std::fprintf(stderr, "%s\n", line.c_str());
    std::fprintf(stderr, "%zu error%s; nothing was scheduled\n", errors.size(),
                 errors.size() == 1 ? "" : "s");
  }
  return schedule;
}

std::optional<WallTime> ParseFrom(const std::string& text) {
  int y, mo, d, h, mi, s;
  char z = 0, tail = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c%c", &y, &mo, &d, &h, &mi, &s, &z,
                  &tail) != 7 ||
      z != 'Z' || h > 23 || mi > 59 || s > 59) {
    return std::nullopt;
  }
  return TimeZone::Utc().FromCivil(y, mo, d, h, mi, s);
}

const char* const kDayNames[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};

std::string DaysText(const std::bitset<7>& days) {
  if (days.all()) return "every day";
  std::string out;
  for (int d = 0; d < 7;) {
    if (!days[d]) {
      ++d;
      continue;
    }
    int e = d;
    while (e + 1 < 7 && days[e + 1]) ++e;
    out += (out.empty() ? "" : ",") + std::string(kDayNames[d]);
    if (e > d) out += std::string(e == d + 1 ? "," : "..") + kDayNames[e];
    d = e + 1;
  }
  return out;
}

std::string Hhmm(int minutes) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%02d:%02d", minutes / 60, minutes % 60);
  return buf;
}

std::string Date(int y, int m, int d) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
  return buf;
}

int Check(const ScheduleRequest& request) {
  auto schedule = Load(request.file);
  if (!schedule) return 2;
  WallTime from = SystemClock().Now();
  if (!request.from.empty()) from = *ParseFrom(request.from);
  if (request.allowed_now) {
    for (const auto& e : schedule->entries) {
      if (e.name != request.entry) continue;
      const std::string why = WhyNotAllowed(e.window, e.blackouts, from);
      if (why.empty()) return 0;
      std::printf("%s: not now: %s\n", e.name.c_str(), why.c_str());
      return 1;
    }
    std::fprintf(stderr, "ringfence schedule: no entry named %s in %s\n", request.entry.c_str(),
                 request.file.c_str());
    return 2;
  }
  std::printf("%s: ok: %zu entr%s, time zone %s, concurrency %s\n", request.file.c_str(),
              schedule->entries.size(), schedule->entries.size() == 1 ? "y" : "ies",
              schedule->zone.name().c_str(), schedule->allow_overlap ? "allow" : "forbid");
  bool found = request.entry.empty();
  for (const auto& e : schedule->entries) {
    if (!request.entry.empty() && e.name != request.entry) continue;
    found = true;
    std::printf("\n%s: \"%s\" (%s)\n", e.name.c_str(), e.title.c_str(),
                e.experiment_as_written.c_str());
    std::printf("  calendar  %s (%s)\n", e.calendar.normalized().c_str(),
                e.calendar.zone().name().c_str());
    if (e.window) {
      std::printf("  window    %s %s-%s %s\n", DaysText(e.window->weekdays).c_str(),
                  Hhmm(e.window->start_minute).c_str(), Hhmm(e.window->end_minute).c_str(),
                  e.window->zone.name().c_str());
    }
    for (const auto& b : e.blackouts) {
      std::printf("  blackout  %s..%s%s\n", Date(b.from_year, b.from_month, b.from_day).c_str(),
                  Date(b.to_year, b.to_month, b.to_day).c_str(),
                  b.reason.empty() ? "" : (" (" + b.reason + ")").c_str());
    }
    std::printf("  jitter %s, timeout %s, on_missed %s\n",
                e.jitter.count() > 0 ? FormatDuration(e.jitter).c_str() : "none",
                e.timeout ? FormatDuration(*e.timeout).c_str() : "none",
                e.on_missed == OnMissed::kSkip ? "skip" : "run_once");
    const TimeZone& zone = e.window ? e.window->zone : e.calendar.zone();
    std::printf("  next runs after %s:\n", zone.Format(from).c_str());
    WallTime t = from;
    int shown = 0;
    for (; shown < request.count; ++shown) {
      const auto next = e.NextRun(t);
      if (!next) break;
      const Duration jitter = e.JitterFor(schedule->seed, *next);
      const auto civil = zone.ToCivil(*next + jitter);
      std::string line =
          "    " + std::string(kDayNames[civil.weekday]) + " " + zone.Format(*next + jitter);
      if (jitter.count() > 0) {
        const auto s = std::chrono::duration_cast<std::chrono::seconds>(jitter).count();
        line += " (due " + zone.Format(*next).substr(11, 8) + " + jitter " +
                (s >= 60 ? std::to_string(s / 60) + "m" : "") + std::to_string(s % 60) + "s)";
      }
      std::printf("%s\n", line.c_str());
      t = *next;
    }
    if (shown == 0) std::printf("    never (the calendar, window and blackouts never meet)\n");
  }
  if (!found) {
    std::fprintf(stderr, "ringfence schedule: no entry named %s in %s\n", request.entry.c_str(),
                 request.file.c_str());
    return 2;
  }
  return 0;
}

// ---- systemd units ------------------------------------------------------------------------

std::string UnitDir(const ScheduleRequest& request) {
  if (!request.unit_dir.empty()) return request.unit_dir;
  if (!request.user) return "/etc/systemd/system";
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg != nullptr && *xdg == '/') {
    return std::string(xdg) + "/systemd/user";
  }
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/.config/systemd/user";
}

// One word of an Exec line (systemd.service(5), "Command lines"): double-quoted, with \ and "
// escaped, and % and $ doubled so that systemd expands neither specifiers nor variables.
std::string ExecWord(const std::string& word) {
  std::string out = "\"";
  for (char c : word) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '%') {
      out += "%%";
    } else if (c == '$') {
      out += "$$";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string ExecLine(const std::vector<std::string>& argv) {
  std::string line;
  for (const auto& a : argv) line += (line.empty() ? "" : " ") + ExecWord(a);
  return line;
}

std::string Seconds(Duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(d).count()) + "s";
}

std::string Absolute(const std::string& path) {
  std::error_code ec;
  const auto a = fs::absolute(path, ec);
  return ec ? path : a.lexically_normal().string();
}

struct Unit {
  std::string name;
  std::string text;
};

std::vector<Unit> UnitsOf(const Schedule& schedule, const std::string& schedule_file,
                          const std::string& state_dir) {
  const std::string self = SelfBinary();
  std::vector<Unit> units;
  for (const auto& e : schedule.entries) {
    const std::string base = "ringfence-" + e.name;
    std::vector<std::string> run = {self,          "run",
                                    "--state-dir", state_dir,
                                    "--journal",   state_dir + "/journals/" + e.name + ".json",
                                    "--progress",  "never"};
    for (const auto& [k, v] : e.vars) {
      run.push_back("--var");
      run.push_back(k + "=" + v);
    }
    run.push_back("--");
    run.push_back(Absolute(e.experiment));
    std::string service = "# Written by `ringfence schedule install` from " + schedule_file +
                          "; `ringfence schedule uninstall` removes it.\n[Unit]\n";
    service += "Description=ringfence scheduled run " + e.name + ": " + e.title + "\n";
    service += "After=network-online.target\n\n[Service]\n";
    service += "Type=oneshot\n";
    service += "Environment=" + std::string(kTriggerEnv) + "=scheduled\n";
    service += "Environment=" + std::string(kScheduleEntryEnv) + "=" + e.name + "\n";
    if (e.window || !e.blackouts.empty()) {
      // Windows and blackouts have no timer setting: the run is skipped (not failed) outside.
      service += "ExecCondition=" +
                 ExecLine({self, "schedule", "check", Absolute(schedule_file), "--entry", e.name,
                           "--allowed-now"}) +
                 "\n";
    }
    service += "ExecStart=" + ExecLine(run) + "\n";
    // The timeout ends the run through its revert path: SIGTERM to ringfence only, and time to
    // revert. Nothing else of the unit is ever killed (process, not mixed): when ringfence dies,
    // its watchdog must live on to revert what it left.
    service += "TimeoutStartSec=" + (e.timeout ? Seconds(*e.timeout) : std::string("infinity")) +
               "\nKillMode=process\nKillSignal=SIGTERM\nTimeoutStopSec=300\n";
    std::string calendar = e.calendar_text;
    const std::string zone = e.calendar.zone().name();
    const bool named = calendar.size() >= zone.size() &&
                       calendar.compare(calendar.size() - zone.size(), zone.size(), zone) == 0;
    if (!named && zone != "UTC") calendar += " " + zone;
    if (!named && zone == "UTC") calendar += " UTC";
    std::string timer = "# Written by `ringfence schedule install` from " + schedule_file +
                        "; `ringfence schedule uninstall` removes it.\n[Unit]\n";
    timer += "Description=ringfence schedule " + e.name + " (" + e.calendar_text + ")\n\n[Timer]\n";
    timer += "OnCalendar=" + calendar + "\n";
    timer += "AccuracySec=1s\n";
    if (e.jitter.count() > 0) timer += "RandomizedDelaySec=" + Seconds(e.jitter) + "\n";
    timer +=
        std::string("Persistent=") + (e.on_missed == OnMissed::kRunOnce ? "true" : "false") + "\n";
    timer += "Unit=" + base + ".service\n\n[Install]\nWantedBy=timers.target\n";
    units.push_back({base + ".service", service});
    units.push_back({base + ".timer", timer});
  }
  return units;
}

Status WriteFile(const fs::path& path, const std::string& text) {
  const fs::path temp = path.string() + ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) return Status::Runtime("cannot write " + temp.string());
  }
  std::error_code ec;
  fs::permissions(temp, fs::perms(0644), ec);
  fs::rename(temp, path, ec);
  if (ec) return Status::Runtime("cannot write " + path.string() + ": " + ec.message());
  return Status::Ok();
}

Result<nlohmann::json> ReadManifest(const fs::path& dir) {
  const fs::path path = dir / kManifestName;
  InputFileRefusal refusal;
  auto text = ReadInputFile(path.string(), 1 << 20, "file", &refusal);
  if (!text.ok()) return Status::NotFound(path.string() + ": " + refusal.found);
  auto doc = ParseUntrustedJson(*text);
  if (!doc.ok() || !doc->is_object() || !doc->contains("units") || !(*doc)["units"].is_array()) {
    return Status::InvalidInput(path.string() + ": not a manifest written by ringfence");
  }
  return *doc;
}

// Removes what the manifest in `dir` lists; a unit changed since it was written is kept.
int RemoveInstalled(const fs::path& dir, bool quiet_when_none) {
  auto manifest = ReadManifest(dir);
  if (!manifest.ok()) {
    if (manifest.status().code() == StatusCode::kNotFound && quiet_when_none) return 0;
    std::fprintf(stderr, "ringfence schedule uninstall: %s\n", manifest.status().message().c_str());
    return manifest.status().code() == StatusCode::kNotFound ? 0 : 3;
  }
  int code = 0;
  for (const auto& u : (*manifest)["units"]) {
    auto name = StringMember(u, "name");
    auto hash = StringMember(u, "sha256");
    if (!name.ok() || !hash.ok() || name->find('/') != std::string::npos || name->empty() ||
        (*name)[0] == '.') {
      std::fprintf(stderr, "ringfence schedule uninstall: a manifest line is not trusted: %s\n",
                   u.dump().c_str());
      code = 3;
      continue;
    }
    const fs::path path = dir / *name;
    auto text = ReadInputFile(path.string(), 1 << 20, "file");
    if (!text.ok()) continue;  // already gone
    if (Sha256Hex(*text) != *hash) {
      std::fprintf(stderr,
                   "ringfence schedule uninstall: %s changed since it was installed; kept\n",
                   path.c_str());
      code = 3;
      continue;
    }
    std::error_code ec;
    fs::remove(path, ec);
    if (ec) {
      std::fprintf(stderr, "ringfence schedule uninstall: %s: %s\n", path.c_str(),
                   ec.message().c_str());
      code = 3;
      continue;
    }
    std::printf("removed %s\n", path.c_str());
  }
  if (code == 0) {
    std::error_code ec;
    fs::remove(dir / kManifestName, ec);
  }
  return code;
}

std::string SystemctlHint(bool user) { return user ? "systemctl --user" : "systemctl"; }

int Install(const ScheduleRequest& request) {
  auto schedule = Load(request.file);
  if (!schedule) return 2;
  const fs::path dir = UnitDir(request);
  std::error_code ec;
  fs::create_directories(dir, ec);
  const std::string state_dir =
      Absolute(request.state_dir.empty() ? DefaultStateDir() : request.state_dir);
  const auto units = UnitsOf(*schedule, Absolute(request.file), state_dir);
  // Where the units' runs write their journals (the runs make the state dir itself).
  fs::create_directories(fs::path(state_dir) / "journals", ec);
  fs::permissions(state_dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  fs::permissions(fs::path(state_dir) / "journals", fs::perms::owner_all, fs::perm_options::replace,
                  ec);
  // What an earlier install wrote goes first, so that a removed entry leaves no unit behind.
  if (int code = RemoveInstalled(dir, true); code != 0) return code;
  nlohmann::json manifest = {{"schedule", Absolute(request.file)},
                             {"units", nlohmann::json::array()}};
  for (const auto& u : units) {
    if (fs::exists(dir / u.name)) {
      std::fprintf(stderr,
                   "ringfence schedule install: %s exists and was not written by ringfence; "
                   "nothing more was written\n",
                   (dir / u.name).c_str());
      return 3;
    }
  }
  for (const auto& u : units) {
    Status written = WriteFile(dir / u.name, u.text);
    if (!written.ok()) {
      std::fprintf(stderr, "ringfence schedule install: %s\n", written.message().c_str());
      return 3;
    }
    manifest["units"].push_back({{"name", u.name}, {"sha256", Sha256Hex(u.text)}});
    // The manifest is rewritten after every unit: an interrupted install can be uninstalled.
    Status listed = WriteFile(dir / kManifestName, manifest.dump(2) + "\n");
    if (!listed.ok()) {
      std::fprintf(stderr, "ringfence schedule install: %s\n", listed.message().c_str());
      return 3;
    }
    std::printf("wrote %s\n", (dir / u.name).c_str());
  }
  std::printf("to start them: %s daemon-reload && %s enable --now",
              SystemctlHint(request.user).c_str(), SystemctlHint(request.user).c_str());
  for (const auto& e : schedule->entries) std::printf(" ringfence-%s.timer", e.name.c_str());
  std::printf("\n");
  return 0;
}

}  // namespace

int RunScheduleCommand(const ScheduleRequest& request) {
  if (request.action == "check") return Check(request);
  if (request.action == "install") return Install(request);
  const int code = RemoveInstalled(UnitDir(request), false);
  if (code == 0) {
    std::printf("then: %s daemon-reload\n", SystemctlHint(request.user).c_str());
  }
  return code;
}

}  // namespace ringfence
