#include "runner/run/run_history.h"

#include <cstdlib>
#include <filesystem>
#include <set>

#include <spdlog/spdlog.h>

#include "core/history/sqlite_history.h"

namespace ringfence {

namespace {

int64_t Ms(WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

}  // namespace

RunRecord RecordOfRun(const RunRequest& request, const Experiment& experiment,
                      const RunReport& report, int exit_code, const std::string& file_bytes) {
  RunRecord r;
  r.run_id = report.run_id;
  r.title = experiment.title;
  r.file = request.file;
  r.file_hash = Sha256Hex(file_bytes);
  r.started_ms = Ms(report.started_at);
  r.ended_ms = Ms(report.ended_at);
  r.status = RunStatusName(report.status);
  r.exit_code = exit_code;
  r.reason = report.reason;
  std::optional<WallTime> first_injection;
  std::set<std::string> hosts;
  for (const auto& f : report.faults) {
    bool injected = false;
    for (const auto& t : f.targets) {
      if (!t.inject_ok) continue;
      injected = true;
      ++r.targets;
      if (t.target.host != "local") hosts.insert(t.target.host);
      if (t.injected_at && (!first_injection || *t.injected_at < *first_injection)) {
        first_injection = t.injected_at;
      }
    }
    r.faults += injected;
  }
  r.hosts = static_cast<int>(hosts.size());
  if (report.breach) {
    if (first_injection)
      r.time_to_detect_ms = Ms(report.breach->detected_at) - Ms(*first_injection);
    if (report.all_reverted_at) {
      r.time_to_revert_ms = Ms(*report.all_reverted_at) - Ms(report.breach->detected_at);
    }
  }
  std::error_code ec;
  const auto journal = std::filesystem::absolute(request.journal, ec);
  r.journal = ec ? request.journal : journal.string();
  r.trigger = EnvOr(kTriggerEnv, "manual");
  r.entry = EnvOr(kScheduleEntryEnv, "");
  return r;
}

void RecordInHistory(const std::string& state_dir, const RunRecord& record) {
  try {
    const std::string path = (std::filesystem::path(state_dir) / kHistoryFileName).string();
    auto history = OpenSqliteHistory(path);
    Status recorded = history.ok() ? (*history)->Record(record) : history.status();
    if (!recorded.ok()) {
      spdlog::warn("run {} not recorded in the history: {}", record.run_id, recorded.message());
    }
  } catch (const std::exception& e) {
    spdlog::warn("run {} not recorded in the history: {}", record.run_id, e.what());
  }
}

void RecordRunInHistory(const std::string& state_dir, const RunRequest& request,
                        const Experiment& experiment, const RunReport& report, int exit_code,
                        const std::string& file_bytes, const Redactor& redactor) {
  try {
    RunRecord record = RecordOfRun(request, experiment, report, exit_code, file_bytes);
    for (std::string* text : {&record.title, &record.reason, &record.file, &record.journal}) {
      *text = redactor.Apply(*text);
    }
    RecordInHistory(state_dir, record);
  } catch (const std::exception& e) {
    spdlog::warn("run {} not recorded in the history: {}", report.run_id, e.what());
  }
}

void RecordSkippedScheduledRun(const std::string& state_dir, const RunRequest& request,
                               const Experiment& experiment, const std::string& file_bytes,
                               const std::string& why, WallTime at, const Redactor& redactor) {
  const std::string trigger = EnvOr(kTriggerEnv, "manual");
  if (trigger == "manual") return;
  try {
    RunRecord r;
    r.entry = EnvOr(kScheduleEntryEnv, "");
    r.run_id =
        "skip-" + (r.entry.empty() ? std::string("run") : r.entry) + "-" + std::to_string(Ms(at));
    r.title = redactor.Apply(experiment.title);
    r.file = redactor.Apply(request.file);
    r.file_hash = Sha256Hex(file_bytes);
    r.started_ms = r.ended_ms = Ms(at);
    r.status = "skipped";
    r.reason = redactor.Apply("overlap: " + why);
    r.trigger = trigger;
    RecordInHistory(state_dir, r);
  } catch (const std::exception& e) {
    spdlog::warn("a skipped run not recorded in the history: {}", e.what());
  }
}

}  // namespace ringfence
