#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/engine/lifecycle.h"
#include "core/engine/operator_control.h"
#include "core/engine/run_observer.h"
#include "core/model/experiment.h"

namespace ringfence {

// What one run looks like to the people in the room, and what they may ask of it
// (docs/game-days.md). The dashboard (runner/gameday/dashboard.h) and the control API
// (runner/gameday/control_server.h) both show Status() and both act through the operator methods,
// so the terminal and the browser never disagree. It observes the run (forwarding every call to
// `inner`, the runner's metrics, when set) and is the engine's OperatorControl.
// Thread-safe: observer calls come from the engine's and the guards' threads, operator calls
// from the keyboard and the API's threads.
class GameDay : public RunObserver, public OperatorControl {
 public:
  struct Options {
    bool step_mode = false;          // --step: hold before every method step
    std::string method_range;        // "--from a --to b", shown and journalled; "" all
    RunObserver* inner = nullptr;    // the runner's metrics
    GuardMonitor* guards = nullptr;  // for each guard's limit
  };
  GameDay(const Experiment& experiment, Options options);

  // The engine whose progress is shown and which an abort stops, and the journal written as
  // the run goes (null: none), which gets every operator action as it is taken
  // (RunJournal::OperatorActed). Set before the run starts; Close() lets go of both.
  void Attach(LifecycleEngine* engine, RunJournal* journal) {
    {
      std::lock_guard<std::mutex> lock(engine_mu_);
      engine_ = engine;
    }
    std::lock_guard<std::mutex> lock(journal_mu_);
    journal_ = journal;
  }

  // ---- What the operators do (the keyboard and the control API) ----
  // Every call is recorded as an operator action (time, who), handed to the journal and shown
  // as an event; a note is on disk before it is shown (and before the API answers).
  void Abort(const std::string& who);
  void Hold(const std::string& who);
  void Continue(const std::string& who);
  void SkipNext(const std::string& who);
  void Note(const std::string& who, const std::string& text);
  // A refused API request (wrong or missing token, or not allowed from there): recorded only.
  void Refused(const std::string& who, const std::string& what);

  // ---- What they see ----
  // The dashboard's content as JSON (GET /status; docs/game-days.md lists the fields).
  nlohmann::json Status() const;
  // Events after sequence number `after` (each {seq, at, kind, text}); waits up to `wait` for
  // one when there is none yet. Returns at once after Close().
  std::vector<nlohmann::json> EventsAfter(uint64_t after, std::chrono::milliseconds wait) const;
  // The run is over: wakes every waiter in EventsAfter and lets go of the engine (call it while
  // the engine still exists).
  void Close();
  bool closed() const;
  // Whether the method is held before a step (or waits for the --step answer).
  bool held() const;
  bool step_mode() const { return options_.step_mode; }

  // The user running ringfence, as actions from the keyboard are recorded.
  static std::string LocalUser();

  // ---- RunObserver ----
  void ExperimentStarted() override;
  void FaultActive(const std::string& fault, const std::string& target, bool active) override;
  void GuardSampled(const std::string& guard, const GuardSample& sample) override;
  void GuardBreached(const std::string& guard) override;
  void RevertDuration(double seconds) override;
  void ProbeChecked(const std::string& probe, bool met, const std::string& detail) override;
  void ExperimentFinished(const std::string& status) override;

  // ---- OperatorControl ----
  StepGate BeforeStep(size_t index, size_t count, const MethodStep& step,
                      std::string* who) override;
  nlohmann::json Actions() const override;

  // How many recent samples of each guard are kept for the sparkline.
  static constexpr size_t kSparkSamples = 40;

 private:
  void AddEventLocked(const std::string& kind, const std::string& text);
  StepGate GateLocked(size_t index, size_t count, const MethodStep& step, bool first_ask,
                      std::string* who);
  void RecordLocked(const std::string& who, const std::string& action,
                    const std::string& text = "");
  // Hands every action so far to the journal; called without mu_ held.
  void Journal();

  const Experiment& experiment_;
  Options options_;
  // The engine until Close(); then its last progress. engine_mu_ keeps Close() from returning
  // (and the engine from being destroyed) while another thread reads it.
  mutable std::mutex engine_mu_;
  LifecycleEngine* engine_ = nullptr;
  RunProgress final_progress_;
  // The journal until Close(); journal_mu_ keeps Close() from returning while it is written.
  std::mutex journal_mu_;
  RunJournal* journal_ = nullptr;
  const std::chrono::steady_clock::time_point t0_ = std::chrono::steady_clock::now();
  std::chrono::milliseconds planned_{0};  // the method's length as written

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool closed_ = false;
  std::string result_;  // the status at the end
  std::deque<nlohmann::json> events_;
  uint64_t seq_ = 0;
  nlohmann::json actions_ = nlohmann::json::array();
  bool hold_ = false;
  std::string hold_by_;
  bool skip_next_ = false;
  std::string skip_by_;
  std::optional<size_t> step_answered_;  // --step: the step the operator said c for
  std::optional<size_t> waiting_step_;   // the step the engine waits before (held)
  std::string waiting_name_;
  mutable std::optional<std::chrono::steady_clock::time_point> method_started_;
  // Time the method spent held (not counted in `left_s`); held_since_ while a hold lasts.
  std::chrono::steady_clock::duration held_total_{0};
  std::optional<std::chrono::steady_clock::time_point> held_since_;
  struct ActiveFault {
    std::vector<std::string> targets;
    std::chrono::steady_clock::time_point since;
    std::chrono::milliseconds duration{0};
  };
  std::map<std::string, ActiveFault> active_;
  struct GuardView {
    std::deque<std::optional<double>> recent;
    std::optional<double> last;
    std::string verdict = "waiting";
    bool breached = false;
  };
  std::map<std::string, GuardView> guards_;
  mutable nlohmann::json limits_;  // guard name → threshold text, refreshed at most every second
  mutable std::chrono::steady_clock::time_point limits_at_{};
};

}  // namespace ringfence
