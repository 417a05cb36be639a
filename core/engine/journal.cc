// The journal (core/engine/journal.h): its JSON, its atomic writes, and the writer that keeps it on
// disk while the run goes.
#include "core/engine/journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string_view>

#include <spdlog/spdlog.h>

#include "core/base/checked_json.h"
#include "core/base/input_file.h"
#include "core/ledger/file_ledger.h"

namespace ringfence {

namespace {
nlohmann::json OptTime(const std::optional<WallTime>& t) {
  return t ? nlohmann::json(FormatRfc3339(*t)) : nlohmann::json(nullptr);
}
}  // namespace

nlohmann::json JournalJson(const RunReport& report, const Experiment& experiment,
                           const RunOrigin& origin) {
  nlohmann::json j;
  j["journal_version"] = kJournalVersion;
  j["incomplete"] = false;
  j["ringfence_version"] = RINGFENCE_VERSION;
  j["host"] = origin.host;
  j["platform"] = origin.platform;
  j["user"] = origin.user;
  j["command_line"] = origin.command_line;
  j["run_id"] = report.run_id;
  j["experiment"] = experiment.document;
  j["seed"] = report.seed;
  j["status"] = RunStatusName(report.status);
  j["reason"] = report.reason;
  j["started_at"] = FormatRfc3339(report.started_at);
  j["ended_at"] = FormatRfc3339(report.ended_at);
  j["duration_ms"] =
      std::chrono::duration_cast<std::chrono::milliseconds>(report.ended_at - report.started_at)
          .count();
  auto probes = [](const std::vector<ProbeOutcome>& v) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& p : v) a.push_back(p.ToJson());
    return a;
  };
  j["steady_state"] = {{"before", probes(report.steady_before)},
                       {"after", report.steady_after_checked ? probes(report.steady_after)
                                                             : nlohmann::json(nullptr)},
                       {"before_at", OptTime(report.steady_before_at)},
                       {"after_at", OptTime(report.steady_after_at)}};
  j["method"] = report.method_log;
  nlohmann::json faults = nlohmann::json::array();
  for (const auto& f : report.faults) {
    nlohmann::json fj = {{"name", f.name},
                         {"type", f.type},
                         {"target", f.target},
                         {"params", f.params},
                         {"duration", FormatDuration(f.duration)},
                         {"start_after", FormatDuration(f.start_after)},
                         {"observed", f.observed},
                         {"observed_after_revert", f.observed_after_revert},
                         {"expectation_met", f.expectation_met}};
    if (!f.expectation_detail.empty()) fj["expectation_detail"] = f.expectation_detail;
    std::optional<WallTime> injected, reverted;
    bool all_reverted = true;
    nlohmann::json targets = nlohmann::json::array();
    for (const auto& t : f.targets) {
      nlohmann::json tj = t.target.ToJson();
      tj["injected_at"] = OptTime(t.injected_at);
      tj["reverted_at"] = OptTime(t.reverted_at);
      tj["inject_ok"] = t.inject_ok;
      tj["revert_ok"] = t.undo ? t.revert_ok : true;
      // This process reverted it, unless a remote host's watchdog had (its verification says
      // so); a watchdog or `recover` that reverts what a dead runner left says so when it
      // completes the journal (CompleteJournalAfterCrash).
      const std::string by = t.verification && !t.verification->reverted_by.empty()
                                 ? t.verification->reverted_by
                                 : "runner";
      tj["reverted_by"] = t.undo && t.revert_ok ? nlohmann::json(by) : nlohmann::json(nullptr);
      if (t.verification) {
        tj["verified"] = t.verification->verified;
        tj["verification"] = t.verification->found;
      }
      if (t.undo) tj["undo"] = t.undo->ToJson();
      if (!t.error.empty()) tj["error"] = t.error;
      targets.push_back(tj);
      if (t.injected_at && (!injected || *t.injected_at < *injected)) injected = t.injected_at;
      if (t.reverted_at && (!reverted || *t.reverted_at > *reverted)) reverted = t.reverted_at;
      if (t.undo && !t.revert_ok) all_reverted = false;
    }
    fj["targets"] = targets;
    fj["injected_at"] = OptTime(injected);
    fj["reverted_at"] = all_reverted ? OptTime(reverted) : nlohmann::json(nullptr);
    fj["revert_ok"] = all_reverted;
    faults.push_back(fj);
  }
  j["faults"] = faults;
  j["rollbacks"] = report.rollbacks;
  j["reverted_cleanly"] = report.reverted_cleanly;
  j["manual_undo"] = report.manual_undo;
  if (report.breach) {
    nlohmann::json abort = report.breach->ToJson();
    abort["all_reverted_at"] = OptTime(report.all_reverted_at);
    j["abort"] = abort;
  } else if (report.operator_abort) {
    // An operator's abort (docs/game-days.md); optional fields, journal_version unchanged.
    j["abort"] = {{"by", "operator"},
                  {"who", report.operator_abort->who},
                  {"reason", report.operator_abort->why},
                  {"requested_at", FormatRfc3339(report.operator_abort->requested_at)},
                  {"all_reverted_at", OptTime(report.all_reverted_at)}};
  } else {
    j["abort"] = nullptr;
  }
  if (!report.operator_actions.empty()) j["operator_actions"] = report.operator_actions;
  j["guards"] = report.guards;
  if (!report.fleet.is_null()) j["fleet"] = report.fleet;
  return j;
}

namespace {

// Writes all of `data` to `fd`; false (errno set) on failure.
bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// A temporary file beside `path` that becomes `path` on Commit (fsync'd first when `sync`), or is
// removed.
class AtomicFile {
 public:
  explicit AtomicFile(const std::string& path)
      : path_(path), tmp_(path + ".tmp." + std::to_string(::getpid())) {
    ::unlink(tmp_.c_str());  // a leftover of a writer that died
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd_ < 0) status_ = Status::FromErrno(errno, "journal " + tmp_);
  }
  ~AtomicFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(tmp_.c_str());
  }
  void Write(std::string_view data) {
    if (status_.ok() && !WriteAll(fd_, data)) status_ = Status::FromErrno(errno, "journal " + tmp_);
  }
  Status Commit(bool sync) {
    if (!status_.ok()) return status_;
    if (sync && ::fsync(fd_) != 0) return Status::FromErrno(errno, "journal " + tmp_);
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) return Status::FromErrno(errno, "journal " + tmp_);
    if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
      return Status::FromErrno(errno, "journal " + path_);
    }
    committed_ = true;
    return Status::Ok();
  }

 private:
  std::string path_, tmp_;
  int fd_ = -1;
  Status status_;
  bool committed_ = false;
};

std::string Basename(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// An event-log line's start for a sample of the guard whose name is `name_json` (its JSON text).
std::string SamplePrefix(const std::string& name_json) {
  return R"({"event":"guard_sample","guard":)" + name_json + R"(,"sample":)";
}

// Where a guard's samples go in the final journal's text, before they are streamed in.
std::string SamplesPlaceholder(size_t guard) {
  return "@@ringfence-samples-" + std::to_string(guard) + "@@";
}

}  // namespace

Status WriteJournal(const std::string& path, const nlohmann::json& journal) {
  AtomicFile file(path);
  file.Write(journal.dump(2) + "\n");
  return file.Commit(true);
}

Result<std::unique_ptr<JournalWriter>> JournalWriter::Open(const std::string& path,
                                                           const Experiment& experiment,
                                                           const std::string& run_id,
                                                           Options options) {
  const std::string events = path + ".events";
  int fd = ::open(events.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
                  0644);
  if (fd < 0) return Status::FromErrno(errno, "journal event log " + events);
  std::unique_ptr<JournalWriter> writer(
      new JournalWriter(path, experiment, run_id, std::move(options), fd));
  {
    std::lock_guard<std::mutex> lock(writer->events_mu_);
    nlohmann::json header = {{"event", "run"},
                             {"journal_version", kJournalVersion},
                             {"run_id", run_id},
                             {"journal", Basename(path)},
                             {"at", FormatRfc3339(writer->options_.clock.Now())}};
    writer->AppendLine(header.dump());
  }
  {
    std::lock_guard<std::mutex> lock(writer->checkpoint_mu_);
    writer->head_ = {{"journal_version", kJournalVersion},
                     {"ringfence_version", RINGFENCE_VERSION},
                     {"run_id", run_id},
                     {"host", writer->options_.origin.host},
                     {"platform", writer->options_.origin.platform},
                     {"user", writer->options_.origin.user},
                     {"command_line", writer->options_.origin.command_line},
                     {"experiment", experiment.document},
                     {"incomplete", true},
                     {"status", "incomplete"},
                     {"phase", "starting"}};
    if (Status st = writer->WriteCheckpoint(true); !st.ok()) return st;
  }
  if (writer->options_.background) writer->thread_ = std::thread([w = writer.get()] { w->Loop(); });
  return writer;
}

JournalWriter::JournalWriter(std::string path, const Experiment& experiment, std::string run_id,
                             Options options, int events_fd)
    : path_(std::move(path)),
      experiment_(experiment),
      run_id_(std::move(run_id)),
      options_(std::move(options)),
      events_fd_(events_fd) {}

JournalWriter::~JournalWriter() {
  stop_.RequestStop("journal closed");
  if (thread_.joinable()) thread_.join();
  if (events_fd_ >= 0) ::close(events_fd_);
}

void JournalWriter::SetLiveGuards(std::function<nlohmann::json()> guards) {
  std::lock_guard<std::mutex> lock(checkpoint_mu_);
  live_guards_ = std::move(guards);
}

bool JournalWriter::AppendLine(const std::string& line) {
  // One write(2) per line on an O_APPEND descriptor: a reader (or a crash) never sees half of
  // one, short of the disk filling.
  if (events_fd_ < 0) return false;
  if (WriteAll(events_fd_, line + "\n")) return true;
  if (!append_failed_) {
    spdlog::warn("journal event log {}: {}", events_path(), std::strerror(errno));
  }
  append_failed_ = true;
  return false;
}

void JournalWriter::GuardSampled(const std::string& guard, const GuardSample& sample) {
  const nlohmann::json name = options_.redact ? options_.redact(guard) : nlohmann::json(guard);
  const nlohmann::json body = options_.redact ? options_.redact(sample.ToJson()) : sample.ToJson();
  const std::string line = SamplePrefix(name.dump()) + body.dump() + "}";
  std::lock_guard<std::mutex> lock(events_mu_);
  if (AppendLine(line)) {
    samples_logged_.fetch_add(1);
  } else {
    ++samples_lost_[name.is_string() ? name.get<std::string>() : guard];
  }
  dirty_ = true;
}

void JournalWriter::Checkpoint(const RunReport& report, const std::string& phase) {
  nlohmann::json head = JournalJson(report, experiment_, options_.origin);
  head["incomplete"] = true;
  head["status"] = "incomplete";
  head["phase"] = phase;
  head["reason"] = "the run was in phase " + phase + " when this checkpoint was written";
  head["ended_at"] = nullptr;
  head.erase("duration_ms");  // the run has not ended
  {
    std::lock_guard<std::mutex> lock(events_mu_);
    AppendLine(
        nlohmann::json(
            {{"event", "phase"}, {"phase", phase}, {"at", FormatRfc3339(options_.clock.Now())}})
            .dump());
    if (events_fd_ >= 0) ::fsync(events_fd_);
  }
  std::lock_guard<std::mutex> lock(checkpoint_mu_);
  if (finished_) return;
  head_ = std::move(head);
  Status st = WriteCheckpoint(true);
  if (!st.ok()) spdlog::warn("journal checkpoint: {}", st.message());
}

void JournalWriter::Flush() {
  if (!dirty_.exchange(false)) return;
  {
    std::lock_guard<std::mutex> lock(events_mu_);
    if (events_fd_ >= 0) ::fsync(events_fd_);
  }
  std::lock_guard<std::mutex> lock(checkpoint_mu_);
  if (finished_) return;
  Status st = WriteCheckpoint(false);
  if (!st.ok()) spdlog::warn("journal checkpoint: {}", st.message());
}

void JournalWriter::OperatorActed(const nlohmann::json& actions) {
  if (!actions.is_array() || actions.empty()) return;
  std::lock_guard<std::mutex> lock(checkpoint_mu_);
  if (finished_ || actions.size() <= operator_actions_.size()) return;
  operator_actions_ = actions;
  const nlohmann::json& newest = actions.back();
  if (newest.is_object() && newest.contains("action") && newest["action"] == "refused") {
    dirty_ = true;
    return;
  }
  Status st = WriteCheckpoint(true);
  if (!st.ok()) spdlog::warn("journal checkpoint: {}", st.message());
}

Status JournalWriter::WriteCheckpoint(bool sync) {
  nlohmann::json j = head_;
  // The actions taken since the last phase change (the engine's copy in head_ is older).
  const size_t in_head = j.contains("operator_actions") && j["operator_actions"].is_array()
                             ? j["operator_actions"].size()
                             : 0;
  if (operator_actions_.size() > in_head) j["operator_actions"] = operator_actions_;
  if (live_guards_) j["guards"] = live_guards_();
  j["events"] = Basename(events_path());
  j["checkpointed_at"] = FormatRfc3339(options_.clock.Now());
  if (options_.redact) j = options_.redact(j);
  AtomicFile file(path_);
  file.Write(j.dump(2) + "\n");
  return file.Commit(sync);
}

void JournalWriter::Loop() {
  while (stop_.WaitUntil(std::chrono::steady_clock::now() + options_.flush_every)) Flush();
}

void JournalWriter::Discard() {
  stop_.RequestStop("journal discarded");
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(checkpoint_mu_);
  finished_ = true;
  ::unlink(path_.c_str());
  ::unlink(events_path().c_str());
}

namespace {

// Writes `journal` atomically to `path` with each guard's `samples` replaced by every sample of
// that guard in the event log `events`: one pass over the log per guard, one line in memory at a
// time. `lost` (samples that could not be logged, by guard) sets `samples_dropped` when given.
Status WriteWithLoggedSamples(const std::string& path, const std::string& events,
                              nlohmann::json journal, const std::map<std::string, uint64_t>* lost) {
  std::vector<std::string> names;  // each guard's name as JSON text, by index
  if (journal.contains("guards") && journal["guards"].is_array()) {
    for (size_t i = 0; i < journal["guards"].size(); ++i) {
      nlohmann::json& g = journal["guards"][i];
      if (!g.is_object()) g = nlohmann::json::object();
      const std::string name =
          g.contains("name") && g["name"].is_string() ? g["name"].get<std::string>() : "";
      names.push_back(nlohmann::json(name).dump());
      g["samples"] = SamplesPlaceholder(i);
      if (lost != nullptr) {
        const auto it = lost->find(name);
        g["samples_dropped"] = it != lost->end() ? it->second : 0;
      }
    }
  }
  const std::string text = journal.dump(2) + "\n";
  AtomicFile file(path);
  size_t pos = 0;
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string placeholder = "\"" + SamplesPlaceholder(i) + "\"";
    const size_t at = text.find(placeholder, pos);
    if (at == std::string::npos) continue;
    // The samples' lines are indented one level deeper than the "samples" key.
    const size_t line_start = text.rfind('\n', at) + 1;
    size_t key_indent = 0;
    while (line_start + key_indent < at && text[line_start + key_indent] == ' ') ++key_indent;
    const std::string indent(key_indent + 2, ' ');
    file.Write(std::string_view(text).substr(pos, at - pos));
    file.Write("[");
    std::ifstream in(events);
    const std::string prefix = SamplePrefix(names[i]);
    std::string line;
    bool first = true;
    while (std::getline(in, line)) {
      if (line.size() <= prefix.size() || line.compare(0, prefix.size(), prefix) != 0) continue;
      if (line.back() != '}') continue;  // a line cut short by a crash
      file.Write(first ? "\n" : ",\n");
      file.Write(indent);
      file.Write(std::string_view(line).substr(prefix.size(), line.size() - prefix.size() - 1));
      first = false;
    }
    if (!first) file.Write("\n" + std::string(key_indent, ' '));
    file.Write("]");
    pos = at + placeholder.size();
  }
  file.Write(std::string_view(text).substr(pos));
  return file.Commit(true);
}

}  // namespace

namespace {
// Who reverted a journal target as `ledger` records it: "" while outstanding, nullopt when the
// ledger does not hold it (matched by fault name and target, as both records conceal them).
std::optional<std::string> LedgerRevertedBy(const LedgerContents& ledger,
                                            const nlohmann::json& undo) {
  if (!undo.is_object()) return std::nullopt;
  const nlohmann::json name = undo.value("fault_name", nlohmann::json());
  const nlohmann::json target = undo.value("target", nlohmann::json());
  for (const auto& e : ledger.entries) {
    if (name == e.undo.fault_name && target == e.undo.target) {
      return e.reverted ? e.reverted_by : std::string();
    }
  }
  return std::nullopt;
}

// Every target the dead runner had injected and not reverted was left to `by` (the watchdog or
// `recover`), which reverts from the ledger; the ledger, when given, says whether it succeeded
// and who did it. With `only_unknown`, only targets without a `reverted_by` that the ledger
// records as reverted change.
// Returns whether anything changed.
bool MarkRevertedBy(nlohmann::json& journal, const std::string& by, const LedgerContents* ledger,
                    bool only_unknown) {
  if (!journal.contains("faults") || !journal["faults"].is_array()) return false;
  bool changed = false;
  for (auto& fault : journal["faults"]) {
    if (!fault.is_object() || !fault.contains("targets") || !fault["targets"].is_array()) continue;
    for (auto& target : fault["targets"]) {
      if (!target.is_object() || !target.contains("undo")) continue;
      const bool reverted = target.contains("reverted_at") && target["reverted_at"].is_string();
      const bool known = target.contains("reverted_by") && target["reverted_by"].is_string();
      if (reverted || (only_unknown && known)) continue;
      std::optional<std::string> recorded =
          ledger ? LedgerRevertedBy(*ledger, target["undo"]) : std::nullopt;
      if (only_unknown && (!recorded || recorded->empty())) continue;
      nlohmann::json who = !recorded           ? nlohmann::json(by)
                           : recorded->empty() ? nlohmann::json(nullptr)
                                               : nlohmann::json(*recorded);
      if (target.value("reverted_by", nlohmann::json()) != who) changed = true;
      target["reverted_by"] = std::move(who);
    }
  }
  return changed;
}

// The journal of a ledger's run record, read back when it is an incomplete journal of that run.
Result<nlohmann::json> IncompleteJournalOfRun(const std::string& path, const std::string& run_id) {
  constexpr size_t kMaxCheckpointBytes = 64 << 20;
  Result<std::string> text = ReadInputFile(path, kMaxCheckpointBytes, "journal");
  if (!text.ok()) return text.status();
  nlohmann::json journal = nlohmann::json::parse(*text, nullptr, false);
  auto is = [&](const char* key, const nlohmann::json& want) {
    return journal.is_object() && journal.contains(key) && journal[key] == want;
  };
  if (!is("incomplete", true) || !is("run_id", run_id)) {
    return Status::InvalidInput(path + ": not an incomplete journal of run " + run_id);
  }
  return journal;
}
}  // namespace

Status CompleteJournalAfterCrash(const std::string& path, const std::string& run_id,
                                 const std::string& by, WallTime at, const LedgerContents* ledger) {
  // Only a checkpoint of this very run is rewritten: whatever else sits at the path is left.
  Result<nlohmann::json> read = IncompleteJournalOfRun(path, run_id);
  if (!read.ok()) return read.status();
  nlohmann::json journal = std::move(*read);
  if (journal.contains("completed_after_crash")) {
    return Status::NotFound(path +
                            ": completed already");  // by the watchdog, or an earlier recover
  }
  const std::string events = path + ".events";
  struct stat st {};
  if (::lstat(events.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return Status::InvalidInput(events + ": not a regular file");
  }
  std::ifstream in(events);
  std::string first;
  std::getline(in, first);
  const nlohmann::json h = nlohmann::json::parse(first, nullptr, false);
  if (!h.is_object() || !h.contains("run_id") || h["run_id"] != run_id) {
    return Status::InvalidInput(events + ": not the event log of run " + run_id);
  }
  journal["completed_after_crash"] = {{"by", by}, {"at", FormatRfc3339(at)}};
  MarkRevertedBy(journal, by, ledger, false);
  return WriteWithLoggedSamples(path, events, std::move(journal), nullptr);
}

namespace {
// The journal path and run id a ledger's run record names (checked reads).
Result<std::pair<std::string, std::string>> JournalOfRunRecord(const nlohmann::json& run_record) {
  auto journal = CheckedString(run_record, "journal", "", "");
  auto run_id = CheckedString(run_record, "run_id", "", "");
  if (!journal.ok()) return journal.status();
  if (!run_id.ok()) return run_id.status();
  if (journal->empty() || run_id->empty()) return Status::NotFound("the run names no journal");
  return std::make_pair(*journal, *run_id);
}
}  // namespace

Status CompleteJournalOfRun(const nlohmann::json& run_record, const std::string& by, WallTime at,
                            std::string* path, const LedgerContents* ledger) {
  auto named = JournalOfRunRecord(run_record);
  if (!named.ok()) return named.status();
  if (path != nullptr) *path = named->first;
  return CompleteJournalAfterCrash(named->first, named->second, by, at, ledger);
}

Status AddRevertedByToJournal(const LedgerContents& ledger) {
  auto named = JournalOfRunRecord(ledger.run);
  if (!named.ok()) return named.status();
  Result<nlohmann::json> journal = IncompleteJournalOfRun(named->first, named->second);
  if (!journal.ok()) return journal.status();
  if (!journal->contains("completed_after_crash")) {
    return Status::NotFound(named->first + ": not completed yet");
  }
  if (!MarkRevertedBy(*journal, "", &ledger, true)) {
    return Status::NotFound(named->first + ": nothing to add");
  }
  return WriteJournal(named->first, *journal);
}

Status JournalWriter::Finish(nlohmann::json journal) {
  stop_.RequestStop("journal finished");
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(checkpoint_mu_);
  finished_ = true;
  std::map<std::string, uint64_t> lost;
  {
    std::lock_guard<std::mutex> events_lock(events_mu_);
    lost = samples_lost_;
    if (events_fd_ >= 0) ::fsync(events_fd_);
  }
  if (options_.redact) journal = options_.redact(journal);
  journal["incomplete"] = false;
  Status st = WriteWithLoggedSamples(path_, events_path(), std::move(journal), &lost);
  if (st.ok()) {
    if (events_fd_ >= 0) ::close(events_fd_);
    events_fd_ = -1;
    ::unlink(events_path().c_str());
  }
  return st;
}

}  // namespace ringfence
