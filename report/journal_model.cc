// A journal read back for reports (report/journal_model.h): checked reads, one error naming its
// JSON pointer, never an exception.
#include "report/journal_model.h"

#include <algorithm>

#include "core/base/checked_json.h"
#include "core/base/input_file.h"
#include "core/base/json_fields.h"

namespace ringfence {

namespace {

// The newest journal_version this reader knows (core/engine/journal.h writes it).
constexpr int64_t kNewestJournalVersion = 3;
constexpr size_t kMaxJournalBytes = size_t{1} << 30;

// Reads the members of one JSON object at `pointer`. The first wrong type is kept (status());
// later reads then return their fallbacks, so a reader reads on and reports one error.
class Fields {
 public:
  Fields(const nlohmann::json& object, std::string pointer, Status* error)
      : object_(object), pointer_(std::move(pointer)), error_(error) {}

  std::string Str(const std::string& key, const std::string& fallback = "") {
    if (Absent(key)) return fallback;
    return Keep(CheckedString(object_, key, pointer_, fallback), fallback);
  }
  bool Bool(const std::string& key, bool fallback) {
    if (Absent(key)) return fallback;
    return Keep(CheckedBool(object_, key, pointer_, fallback), fallback);
  }
  std::optional<int64_t> Int(const std::string& key) {
    if (Absent(key)) return std::nullopt;
    auto v = CheckedInteger(object_, key, pointer_);
    if (!v.ok()) return Fail(v.status()), std::nullopt;
    return *v;
  }
  // A whole number of 0 or more (JSON built in memory holds small ones as signed).
  uint64_t Unsigned(const std::string& key) {
    if (Absent(key)) return 0;
    const nlohmann::json& v = object_[key];
    if (v.is_number_unsigned()) return v.get<uint64_t>();
    if (v.is_number_integer() && v.get<int64_t>() >= 0)
      return static_cast<uint64_t>(v.get<int64_t>());
    Fail(WrongType(Pointer(key), v, "an unsigned integer"));
    return 0;
  }
  std::optional<double> Number(const std::string& key) {
    if (Absent(key)) return std::nullopt;
    const nlohmann::json& v = object_[key];
    if (!v.is_number()) return Fail(WrongType(Pointer(key), v, "a number")), std::nullopt;
    return v.get<double>();
  }
  // Any JSON (null when absent).
  nlohmann::json Any(const std::string& key) { return Absent(key) ? nullptr : object_[key]; }
  // An array member (empty when absent or null).
  const nlohmann::json& Array(const std::string& key) {
    static const nlohmann::json empty = nlohmann::json::array();
    if (Absent(key)) return empty;
    const nlohmann::json& v = object_[key];
    if (!v.is_array()) return Fail(WrongType(Pointer(key), v, "an array")), empty;
    return v;
  }
  bool Has(const std::string& key) const { return !Absent(key); }
  std::string Pointer(const std::string& key) const { return pointer_ + "/" + key; }

 private:
  bool Absent(const std::string& key) const {
    return !object_.is_object() || !object_.contains(key) || object_[key].is_null();
  }
  void Fail(const Status& st) {
    if (error_->ok()) *error_ = st;
  }
  template <typename T>
  T Keep(const Result<T>& r, T fallback) {
    if (r.ok()) return *r;
    Fail(r.status());
    return fallback;
  }

  const nlohmann::json& object_;
  std::string pointer_;
  Status* error_;
};

// Reads the elements of an array as objects; a non-object element is an error at its index.
template <typename F>
void EachObject(const nlohmann::json& array, const std::string& pointer, Status* error, F read) {
  for (size_t i = 0; i < array.size(); ++i) {
    const std::string at = pointer + "/" + std::to_string(i);
    if (!array[i].is_object()) {
      if (error->ok()) *error = WrongType(at, array[i], "an object");
      continue;
    }
    Fields f(array[i], at, error);
    read(f, array[i]);
  }
}

class ModelReader {
 public:
  explicit ModelReader(const nlohmann::json& j) : j_(j) {}

  Result<JournalModel> Read() {
    Fields top(j_, "", &error_);
    m_.version = top.Int("journal_version").value_or(0);
    m_.incomplete = top.Bool("incomplete", false);
    m_.phase = top.Str("phase");
    m_.status = top.Str("status", "unknown");
    m_.reason = top.Str("reason");
    m_.run_id = top.Str("run_id");
    m_.ringfence_version = top.Str("ringfence_version");
    m_.seed = top.Unsigned("seed");
    m_.started_at = top.Str("started_at");
    m_.ended_at = top.Str("ended_at");
    if (auto start = ParseRfc3339(m_.started_at)) m_.start = *start;
    if (!m_.started_at.empty() && !ParseRfc3339(m_.started_at)) {
      return Status::InvalidInput(
          std::string(WrongType("/started_at", m_.started_at, "an RFC 3339 UTC time").message()));
    }
    has_start_ = !m_.started_at.empty();
    m_.duration_s = T(m_.ended_at);
    m_.host = top.Str("host");
    m_.platform = top.Str("platform");
    m_.user = top.Str("user");
    for (const auto& word : top.Array("command_line")) {
      if (word.is_string()) m_.command_line.push_back(word.get<std::string>());
    }
    if (const auto crash = top.Any("completed_after_crash"); crash.is_object()) {
      m_.completed_after_crash = Fields(crash, "/completed_after_crash", &error_).Str("by");
    }
    ReadExperiment(top.Any("experiment"));
    ReadSteadyState(top.Any("steady_state"));
    ReadMethod(top.Array("method"));
    ReadFaults(top.Array("faults"));
    ReadGuards(top.Array("guards"));
    ReadRollbacks(top.Array("rollbacks"));
    m_.reverted_cleanly = top.Bool("reverted_cleanly", true);
    for (const auto& line : top.Array("manual_undo")) {
      if (line.is_string()) m_.manual_undo.push_back(line.get<std::string>());
    }
    ReadAbort(top.Any("abort"));
    ReadOperatorActions(top.Array("operator_actions"));
    NoteWhatItLacks(top);
    if (!error_.ok()) return error_;
    return m_;
  }

 private:
  // Seconds since the run's start; nullopt for "" or a time that is not RFC 3339.
  std::optional<double> T(const std::string& at) const {
    if (!has_start_ || at.empty()) return std::nullopt;
    auto when = ParseRfc3339(at);
    if (!when) return std::nullopt;
    return std::chrono::duration<double>(*when - m_.start).count();
  }

  void ReadExperiment(const nlohmann::json& e) {
    if (!e.is_object()) return;
    Fields f(e, "/experiment", &error_);
    m_.title = f.Str("title");
    m_.description = f.Str("description");
    for (const auto& tag : f.Array("tags")) {
      if (tag.is_string()) m_.tags.push_back(tag.get<std::string>());
    }
  }

  ProbeView ReadProbe(Fields& f) {
    ProbeView p;
    p.name = f.Str("name");
    p.type = f.Str("type");
    p.detail = f.Str("detail");
    p.value = f.Any("value");
    p.tolerance = f.Any("tolerance");
    p.met = f.Bool("met", false);
    return p;
  }

  std::vector<ProbeView> ReadProbes(const nlohmann::json& array, const std::string& pointer) {
    std::vector<ProbeView> out;
    if (!array.is_array()) return out;
    EachObject(array, pointer, &error_,
               [&](Fields& f, const nlohmann::json&) { out.push_back(ReadProbe(f)); });
    return out;
  }

  void ReadSteadyState(const nlohmann::json& s) {
    if (!s.is_object()) return;
    Fields f(s, "/steady_state", &error_);
    m_.before = ReadProbes(f.Array("before"), "/steady_state/before");
    if (f.Has("after")) m_.after = ReadProbes(f.Array("after"), "/steady_state/after");
    m_.before_t = T(f.Str("before_at"));
    m_.after_t = T(f.Str("after_at"));
  }

  void ReadMethod(const nlohmann::json& array) {
    EachObject(array, "/method", &error_, [&](Fields& f, const nlohmann::json& entry) {
      MethodEntryView v;
      v.step = f.Int("step").value_or(0);
      v.at = f.Str("at");
      v.t = T(v.at);
      v.wait = f.Str("wait");
      if (entry.contains("probe") && entry["probe"].is_object()) {
        Fields p(entry["probe"], f.Pointer("probe"), &error_);
        v.probe = ReadProbe(p);
      }
      v.skipped = f.Bool("skipped", false);
      v.name = f.Str("name");
      v.skipped_by = f.Str("by");
      m_.method.push_back(std::move(v));
    });
  }

  void ReadFaults(const nlohmann::json& array) {
    EachObject(array, "/faults", &error_, [&](Fields& f, const nlohmann::json&) {
      FaultView v;
      v.name = f.Str("name");
      v.type = f.Str("type");
      v.target = f.Str("target");
      v.duration = f.Str("duration");
      v.start_after = f.Str("start_after");
      v.params = f.Any("params");
      v.observed = f.Any("observed");
      v.observed_after_revert = f.Any("observed_after_revert");
      v.expectation_met = f.Bool("expectation_met", true);
      v.expectation_detail = f.Str("expectation_detail");
      v.revert_ok = f.Bool("revert_ok", true);
      EachObject(f.Array("targets"), f.Pointer("targets"), &error_,
                 [&](Fields& t, const nlohmann::json& target) {
                   v.targets.push_back(ReadTarget(t, target));
                 });
      m_.faults.push_back(std::move(v));
    });
  }

  TargetView ReadTarget(Fields& t, const nlohmann::json& target) {
    TargetView v;
    v.label = t.Str("label");
    v.host = t.Str("host");
    v.error = t.Str("error");
    v.verification = t.Str("verification");
    if (t.Has("verified")) v.verified = t.Bool("verified", false);
    v.injected_at = t.Str("injected_at");
    v.reverted_at = t.Str("reverted_at");
    v.injected_t = T(v.injected_at);
    v.reverted_t = T(v.reverted_at);
    v.inject_ok = t.Bool("inject_ok", false);
    v.revert_ok = t.Bool("revert_ok", false);
    v.reverted_by = t.Str("reverted_by");
    v.has_undo = target.contains("undo") && target["undo"].is_object();
    if (v.has_undo)
      v.manual_undo = Fields(target["undo"], t.Pointer("undo"), &error_).Str("manual_undo");
    return v;
  }

  void ReadGuards(const nlohmann::json& array) {
    EachObject(array, "/guards", &error_, [&](Fields& f, const nlohmann::json&) {
      GuardView g;
      g.name = f.Str("name");
      g.source =
          f.Any("source").is_string()
              ? f.Str("source")
              : f.Any("source").dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      g.threshold = f.Str("threshold");
      g.interval = f.Str("interval");
      if (f.Any("condition").is_object()) g.condition = f.Any("condition");
      g.baseline = f.Number("baseline");
      g.samples_total = f.Unsigned("samples_total");
      g.samples_dropped = f.Unsigned("samples_dropped");
      const nlohmann::json breach = f.Any("breach");
      g.breached = breach.is_object();
      if (g.breached) g.breach_reason = Fields(breach, f.Pointer("breach"), &error_).Str("reason");
      const nlohmann::json& samples = f.Array("samples");
      g.samples.reserve(samples.size());
      EachObject(samples, f.Pointer("samples"), &error_, [&](Fields& s, const nlohmann::json&) {
        SampleView v;
        v.t = T(s.Str("at")).value_or(0);
        v.value = s.Number("value");
        v.verdict = s.Str("verdict", "ok");
        v.detail = s.Str("detail");
        ++g.verdicts[v.verdict];
        g.samples.push_back(std::move(v));
      });
      if (g.samples_total < g.samples.size()) g.samples_total = g.samples.size();
      m_.guards.push_back(std::move(g));
    });
  }

  void ReadRollbacks(const nlohmann::json& array) {
    EachObject(array, "/rollbacks", &error_, [&](Fields& f, const nlohmann::json&) {
      RollbackView r;
      r.name = f.Str("name");
      r.started_at = f.Str("started_at");
      r.t = T(r.started_at);
      r.exit_code = f.Int("exit_code");
      r.timed_out = f.Bool("timed_out", false);
      r.ok = f.Bool("ok", false);
      r.error = f.Str("error");
      r.stderr_text = f.Str("stderr");
      for (const auto& word : f.Array("argv")) {
        if (word.is_string()) r.argv.push_back(word.get<std::string>());
      }
      m_.rollbacks.push_back(std::move(r));
    });
  }

  void ReadAbort(const nlohmann::json& a) {
    if (!a.is_object()) return;
    Fields f(a, "/abort", &error_);
    AbortView v;
    v.guard = f.Str("guard");
    v.reason = f.Str("reason");
    v.threshold = f.Str("threshold");
    v.value = f.Number("value");
    v.sampled_t = T(f.Str("sampled_at"));
    v.detected_t = T(f.Str("detected_at"));
    v.all_reverted_t = T(f.Str("all_reverted_at"));
    v.by = f.Str("by");
    v.who = f.Str("who");
    v.requested_t = T(f.Str("requested_at"));
    m_.abort = v;
  }

  void ReadOperatorActions(const nlohmann::json& array) {
    EachObject(array, "/operator_actions", &error_, [&](Fields& f, const nlohmann::json&) {
      OperatorActionView v;
      v.at = f.Str("at");
      v.t = T(v.at);
      v.who = f.Str("who");
      v.action = f.Str("action");
      v.text = f.Str("text");
      v.before_step = f.Int("before_step");
      v.step = f.Str("step");
      m_.operator_actions.push_back(std::move(v));
    });
  }

  void NoteWhatItLacks(Fields& top) {
    if (m_.incomplete) {
      m_.lacks.push_back("this journal is a checkpoint of a run that had not ended (phase " +
                         (m_.phase.empty() ? std::string("unknown") : m_.phase) +
                         "): what happened after it is not in it");
    }
    if (m_.version < 3) {
      m_.lacks.push_back("journal_version " + std::to_string(m_.version) +
                         " (before 3) does not record the host, platform, user, command line "
                         "and duration, nor who reverted each target, nor when the steady "
                         "state was checked");
    }
    if (m_.version < 2) {
      m_.lacks.push_back(
          "journal_version " + std::to_string(m_.version) +
          " (before 2) has no guard sample totals and no observation after the revert");
    }
    for (const auto& g : m_.guards) {
      if (g.samples_dropped > 0) {
        m_.lacks.push_back("guard " + g.name + ": " + std::to_string(g.samples_dropped) + " of " +
                           std::to_string(g.samples_total) + " samples are not in the journal");
      }
    }
    (void)top;
  }

  const nlohmann::json& j_;
  JournalModel m_;
  Status error_;
  bool has_start_ = false;
};

}  // namespace

double JournalModel::span_s() const {
  double end = duration_s.value_or(0);
  auto later = [&end](const std::optional<double>& t) {
    if (t) end = std::max(end, *t);
  };
  for (const auto& f : faults) {
    for (const auto& t : f.targets) {
      later(t.injected_t);
      later(t.reverted_t);
    }
  }
  for (const auto& g : guards) {
    if (!g.samples.empty()) end = std::max(end, g.samples.back().t);
  }
  for (const auto& m : method) later(m.t);
  later(after_t);
  if (abort) later(abort->all_reverted_t);
  for (const auto& a : operator_actions) later(a.t);
  return end > 0 ? end : 1.0;
}

Result<JournalModel> JournalModelFromJson(const nlohmann::json& journal,
                                          const std::string& source) {
  if (!journal.is_object() || !journal.contains("journal_version")) {
    return Status::InvalidInput(source + ": not a ringfence journal (no journal_version)");
  }
  const nlohmann::json& version = journal["journal_version"];
  if (!version.is_number_integer() || version.get<int64_t>() < 1) {
    return Status::InvalidInput(
        source + ": " + WrongType("/journal_version", version, "a version of 1 or more").message());
  }
  if (version.get<int64_t>() > kNewestJournalVersion) {
    return Status::InvalidInput(source + ": journal_version " +
                                std::to_string(version.get<int64_t>()) +
                                " is newer than this ringfence reads (at most " +
                                std::to_string(kNewestJournalVersion) + "); use a newer ringfence");
  }
  auto model = ModelReader(journal).Read();
  if (!model.ok()) return Status::InvalidInput(source + ": " + model.status().message());
  return model;
}

namespace {
// True when `text` stops inside a string, an object or an array: a file cut short (by a full
// disk, a copy that stopped) rather than one that is wrong all along.
bool EndsInsideAValue(const std::string& text) {
  int depth = 0;
  bool in_string = false, escaped = false, seen = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') in_string = true;
    if (c == '{' || c == '[') ++depth, seen = true;
    if ((c == '}' || c == ']') && --depth < 0) return false;
  }
  return seen && (in_string || depth > 0);
}
}  // namespace

Result<JournalModel> ReadJournalFile(const std::string& path) {
  InputFileRefusal refusal;
  Result<std::string> text = ReadInputFile(path, kMaxJournalBytes, "journal", &refusal);
  if (!text.ok()) return Status::InvalidInput(path + ": " + text.status().message());
  auto parsed = ParseUntrustedJson(*text);
  if (!parsed.ok()) {
    if (EndsInsideAValue(*text)) {
      return Status::InvalidInput(
          path + ": truncated: the JSON ends before its last value does (a journal cut short)");
    }
    return Status::InvalidInput(path + ": " + parsed.status().message());
  }
  return JournalModelFromJson(*parsed, path);
}

}  // namespace ringfence
