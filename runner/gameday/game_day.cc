#include "runner/gameday/game_day.h"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "core/base/clock.h"
#include "core/base/duration.h"
#include "core/sys/system_clock.h"

namespace ringfence {

namespace {

using Steady = std::chrono::steady_clock;
constexpr size_t kMaxEvents = 200;

double Seconds(Steady::duration d) { return std::chrono::duration<double>(d).count(); }

// The method's length as written: waits in order, each fault to the end of its window.
std::chrono::milliseconds PlannedLength(const Experiment& e) {
  Duration cursor{0}, end{0};
  for (const MethodStep& s : e.method) {
    if (s.kind == MethodStep::Kind::kWait) cursor += s.wait.duration;
    if (s.kind == MethodStep::Kind::kFault) {
      end = std::max<Duration>(end, cursor + s.fault.start_after + s.fault.duration);
    }
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::max(cursor, end));
}

}  // namespace

GameDay::GameDay(const Experiment& experiment, Options options)
    : experiment_(experiment), options_(std::move(options)), planned_(PlannedLength(experiment)) {
  for (const GuardSpec& g : experiment.guards) guards_[g.name];
}

std::string GameDay::LocalUser() {
  if (const char* sudo = std::getenv("SUDO_USER"); sudo != nullptr && *sudo != '\0') return sudo;
  struct passwd pw;
  struct passwd* found = nullptr;
  char buf[1024];
  if (::getpwuid_r(::getuid(), &pw, buf, sizeof buf, &found) == 0 && found != nullptr) {
    return found->pw_name;
  }
  return "uid " + std::to_string(::getuid());
}

void GameDay::AddEventLocked(const std::string& kind, const std::string& text) {
  events_.push_back({{"seq", ++seq_},
                     {"at", FormatRfc3339(SystemClock().Now())},
                     {"kind", kind},
                     {"text", text}});
  if (events_.size() > kMaxEvents) events_.pop_front();
  cv_.notify_all();
}

void GameDay::RecordLocked(const std::string& who, const std::string& action,
                           const std::string& text) {
  nlohmann::json a = {{"at", FormatRfc3339(SystemClock().Now())}, {"who", who}, {"action", action}};
  if (!text.empty()) a["text"] = text;
  if (waiting_step_) {
    a["before_step"] = *waiting_step_;
    a["step"] = waiting_name_;
  }
  actions_.push_back(std::move(a));
}

void GameDay::Journal() {
  const nlohmann::json actions = Actions();
  std::lock_guard<std::mutex> lock(journal_mu_);
  if (journal_ != nullptr) journal_->OperatorActed(actions);
}

void GameDay::Abort(const std::string& who) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    RecordLocked(who, "abort");
    AddEventLocked("operator", who + ": abort — reverting every active fault");
  }
  {
    std::lock_guard<std::mutex> lock(engine_mu_);
    if (engine_ != nullptr) engine_->RequestOperatorAbort(who);
  }
  Journal();  // after the abort was asked for: the reverts come first
}

void GameDay::Hold(const std::string& who) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    RecordLocked(who, "hold");
    hold_ = true;
    hold_by_ = who;
    AddEventLocked("operator",
                   who + ": hold — the current step finishes, the next waits for continue");
  }
  Journal();
}

void GameDay::Continue(const std::string& who) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    RecordLocked(who, "continue");
    hold_ = false;
    if (waiting_step_) step_answered_ = *waiting_step_;
    AddEventLocked("operator", who + ": continue");
  }
  Journal();
}

void GameDay::SkipNext(const std::string& who) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    RecordLocked(who, "skip");
    skip_next_ = true;
    skip_by_ = who;
    AddEventLocked("operator", who + ": skip the next step");
  }
  Journal();
}

void GameDay::Note(const std::string& who, const std::string& text) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    RecordLocked(who, "note", text);
  }
  Journal();  // on disk before anyone sees it taken
  std::lock_guard<std::mutex> lock(mu_);
  AddEventLocked("note", who + ": " + text);
}

void GameDay::Refused(const std::string& who, const std::string& what) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    RecordLocked(who, "refused", what);
    AddEventLocked("refused", who + ": " + what);
  }
  Journal();
}

bool GameDay::held() const {
  std::lock_guard<std::mutex> lock(mu_);
  return waiting_step_.has_value() &&
         (hold_ || (options_.step_mode && step_answered_ != waiting_step_));
}

bool GameDay::closed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return closed_;
}

void GameDay::Close() {
  {
    std::lock_guard<std::mutex> lock(engine_mu_);
    if (engine_ != nullptr) final_progress_ = engine_->Progress();
    engine_ = nullptr;
  }
  {
    std::lock_guard<std::mutex> lock(journal_mu_);
    journal_ = nullptr;
  }
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  cv_.notify_all();
}

StepGate GameDay::BeforeStep(size_t index, size_t count, const MethodStep& step, std::string* who) {
  std::lock_guard<std::mutex> lock(mu_);
  const bool first_ask = waiting_step_ != index;
  waiting_step_ = index;
  waiting_name_ = step.name;
  const StepGate gate = GateLocked(index, count, step, first_ask, who);
  if (gate == StepGate::kHold && !held_since_) held_since_ = Steady::now();
  if (gate != StepGate::kHold && held_since_) {
    held_total_ += Steady::now() - *held_since_;
    held_since_.reset();
  }
  return gate;
}

StepGate GameDay::GateLocked(size_t index, size_t count, const MethodStep& step, bool first_ask,
                             std::string* who) {
  const std::string label =
      "step " + std::to_string(index + 1) + "/" + std::to_string(count) + " (" + step.name + ")";
  if (skip_next_) {
    skip_next_ = false;
    if (who != nullptr) *who = skip_by_;
    waiting_step_.reset();
    AddEventLocked("skipped", label + " skipped by " + skip_by_);
    return StepGate::kSkip;
  }
  if (hold_) {
    if (first_ask) AddEventLocked("held", "held before " + label + " by " + hold_by_);
    return StepGate::kHold;
  }
  if (options_.step_mode && step_answered_ != index) {
    if (first_ask) AddEventLocked("step", "before " + label + ": c continue, s skip, a abort");
    return StepGate::kHold;
  }
  waiting_step_.reset();
  AddEventLocked("step", label);
  return StepGate::kRun;
}

nlohmann::json GameDay::Actions() const {
  std::lock_guard<std::mutex> lock(mu_);
  return actions_;
}

void GameDay::ExperimentStarted() {
  if (options_.inner) options_.inner->ExperimentStarted();
  std::lock_guard<std::mutex> lock(mu_);
  AddEventLocked("started", experiment_.title);
}

void GameDay::FaultActive(const std::string& fault, const std::string& target, bool active) {
  if (options_.inner) options_.inner->FaultActive(fault, target, active);
  std::lock_guard<std::mutex> lock(mu_);
  if (active) {
    auto [it, inserted] = active_.try_emplace(fault);
    if (inserted) {
      it->second.since = Steady::now();
      for (const MethodStep& s : experiment_.method) {
        if (s.kind == MethodStep::Kind::kFault && s.fault.name == fault) {
          it->second.duration =
              std::chrono::duration_cast<std::chrono::milliseconds>(s.fault.duration);
        }
      }
    }
    it->second.targets.push_back(target);
    AddEventLocked("injected", fault + " on " + target);
  } else {
    auto it = active_.find(fault);
    if (it != active_.end()) {
      auto& t = it->second.targets;
      t.erase(std::remove(t.begin(), t.end(), target), t.end());
      if (t.empty()) active_.erase(it);
    }
    AddEventLocked("reverted", fault + " on " + target);
  }
}

void GameDay::GuardSampled(const std::string& guard, const GuardSample& sample) {
  if (options_.inner) options_.inner->GuardSampled(guard, sample);
  std::lock_guard<std::mutex> lock(mu_);
  GuardView& g = guards_[guard];
  g.recent.push_back(sample.value);
  if (g.recent.size() > kSparkSamples) g.recent.pop_front();
  g.last = sample.value;
  if (!g.breached) g.verdict = sample.ToJson().value("verdict", "error");
}

void GameDay::GuardBreached(const std::string& guard) {
  if (options_.inner) options_.inner->GuardBreached(guard);
  std::lock_guard<std::mutex> lock(mu_);
  guards_[guard].breached = true;
  guards_[guard].verdict = "breach";
  AddEventLocked("breach", "guard " + guard + " breached: aborting and reverting");
}

void GameDay::RevertDuration(double seconds) {
  if (options_.inner) options_.inner->RevertDuration(seconds);
}

void GameDay::ProbeChecked(const std::string& probe, bool met, const std::string& detail) {
  if (options_.inner) options_.inner->ProbeChecked(probe, met, detail);
  if (met) return;
  std::lock_guard<std::mutex> lock(mu_);
  AddEventLocked("probe_failed", probe + (detail.empty() ? "" : ": " + detail));
}

void GameDay::ExperimentFinished(const std::string& status) {
  if (options_.inner) options_.inner->ExperimentFinished(status);
  std::lock_guard<std::mutex> lock(mu_);
  result_ = status;
  AddEventLocked("finished", "run " + status);
}

nlohmann::json GameDay::Status() const {
  RunProgress p;
  {
    std::lock_guard<std::mutex> lock(engine_mu_);
    p = engine_ != nullptr ? engine_->Progress() : final_progress_;
  }
  const auto now = Steady::now();
  if (options_.guards != nullptr && now - limits_at_ > std::chrono::seconds(1)) {
    nlohmann::json limits = nlohmann::json::object();
    for (const auto& g : options_.guards->ToJson()) {
      if (g.contains("name") && g.contains("threshold"))
        limits[g["name"].get<std::string>()] = g["threshold"];
    }
    std::lock_guard<std::mutex> lock(mu_);
    limits_ = std::move(limits);
    limits_at_ = now;
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (p.phase == "method" && !method_started_) method_started_ = now;
  nlohmann::json j;
  j["title"] = experiment_.title;
  j["phase"] = p.phase;
  j["step"] = p.step;
  j["steps"] = p.steps;
  j["activity"] = p.activity;
  j["held"] = waiting_step_.has_value() &&
              (hold_ || (options_.step_mode && step_answered_ != waiting_step_));
  j["hold_requested"] = hold_;
  j["step_mode"] = options_.step_mode;
  j["next_step"] = waiting_step_ ? nlohmann::json(waiting_name_) : nlohmann::json(nullptr);
  if (!options_.method_range.empty()) j["method_range"] = options_.method_range;
  j["elapsed_s"] = Seconds(now - t0_);
  j["planned_s"] = Seconds(planned_);
  if (method_started_) {
    const auto held = held_total_ + (held_since_ ? now - *held_since_ : Steady::duration(0));
    j["left_s"] = std::max(0.0, Seconds(planned_ - (now - *method_started_ - held)));
  } else {
    j["left_s"] = nullptr;
  }
  nlohmann::json faults = nlohmann::json::array();
  for (const auto& [name, f] : active_) {
    faults.push_back({{"name", name},
                      {"targets", f.targets},
                      {"left_s", std::max(0.0, Seconds(f.duration - (now - f.since)))}});
  }
  j["faults"] = faults;
  nlohmann::json guards = nlohmann::json::array();
  for (const auto& [name, g] : guards_) {
    nlohmann::json samples = nlohmann::json::array();
    for (const auto& v : g.recent) samples.push_back(v ? nlohmann::json(*v) : nullptr);
    guards.push_back(
        {{"name", name},
         {"value", g.last ? nlohmann::json(*g.last) : nullptr},
         {"limit",
          limits_.is_object() && limits_.contains(name) ? limits_[name] : nlohmann::json(nullptr)},
         {"verdict", g.verdict},
         {"samples", samples}});
  }
  j["guards"] = guards;
  nlohmann::json events = nlohmann::json::array();
  const size_t from = events_.size() > 20 ? events_.size() - 20 : 0;
  for (size_t i = from; i < events_.size(); ++i) events.push_back(events_[i]);
  j["events"] = events;
  j["result"] = result_.empty() ? nlohmann::json(nullptr) : nlohmann::json(result_);
  return j;
}

std::vector<nlohmann::json> GameDay::EventsAfter(uint64_t after,
                                                 std::chrono::milliseconds wait) const {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, wait, [&] { return closed_ || seq_ > after; });
  std::vector<nlohmann::json> out;
  for (const auto& e : events_) {
    if (e["seq"].get<uint64_t>() > after) out.push_back(e);
  }
  return out;
}

}  // namespace ringfence
