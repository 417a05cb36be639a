#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "core/base/duration.h"

namespace ringfence {

// The bad_update gates: what they judge is in docs/faults/bad_update.md. Everything here is pure
// (no I/O, no clock of its own) so that it is unit-tested on made-up samples.

// The initial values here are only zeros: the defaults are bad_update's declaration's
// (DeclaredGateConfig() in bad_update.h builds a config from them).
struct GateConfig {
  // Absolute gates, judged at every sample of an exposed host.
  int unhealthy_samples = 0;             // consecutive unhealthy samples that fail the gate
  bool fail_on_restart = false;          // a new pid behind /health fails the gate
  std::optional<double> max_error_rate;  // of the exposed hosts' /work requests in the bake
  // Comparative gates (exposed vs untouched hosts), judged when a bake ends.
  bool comparative = false;
  double alpha = 0;
  double min_latency_effect = 0;    // exposed median ≥ (1 + this) × baseline median
  double min_unhealthy_effect = 0;  // exposed unhealthy share − baseline share ≥ this
  int min_samples = 0;              // per group, per test; fewer is inconclusive
  size_t max_test_samples = 30;     // the latest N per group enter a test (exact tests cost);
                                    // not a parameter
};

// What one sample of one host found.
struct HostSample {
  bool healthy = false;
  std::optional<long long> pid;  // from the /health JSON, when it answered with one
  std::string problem;           // why it is unhealthy ("connect … refused", "status 503")
  bool work_sampled = false;     // a /work request was made
  bool work_ok = false;
  std::optional<double> work_latency_ms;  // when /work answered at all
};

// One host's samples during the current bake.
struct HostWindow {
  std::string name;
  bool exposed = false;
  std::optional<long long> pid_before;  // the pid behind /health before the deploy
  int consecutive_unhealthy = 0;
  std::string last_problem;
  std::optional<long long> restarted_as;  // the first new pid seen
  int health_samples = 0;
  int unhealthy_samples = 0;
  std::vector<double> latencies_ms;
  int work_requests = 0;
  int work_errors = 0;

  void Record(const HostSample& sample);
  bool unhealthy_now() const { return consecutive_unhealthy > 0; }
};

enum class GateVerdict { kPass, kFail, kInconclusive };
const char* GateVerdictName(GateVerdict verdict);  // "pass", "fail", "inconclusive"

struct GateResult {
  GateVerdict verdict = GateVerdict::kPass;
  std::string reason;  // for kFail and kInconclusive; e.g. "web-3 unhealthy for 2 samples: …"
};

// Texts of the reasons (others write docs and tests against them):
//   "<host> restarted (pid <a> → <b>)"
//   "<host> unhealthy for <n> samples: <problem>"
//   "error rate <r> of <n> requests on exposed hosts > <max>"
//   "latency: exposed median <a>ms vs baseline <b>ms, Mann-Whitney p = <p> < <alpha>"
//   "unhealthy: exposed <a>/<n> samples vs baseline <b>/<m>, Fisher p = <p> < <alpha>"
//   "latency: <n> exposed and <m> baseline samples, fewer than min_samples <k>"
//   "unhealthy: <n> exposed and <m> baseline samples, fewer than min_samples <k>"
GateResult EvaluateAbsolute(const std::vector<HostWindow>& hosts, const GateConfig& config);
// Exposed vs not exposed. Passes when comparison is off or no untouched host is left (the last
// wave of a full rollout is judged by the absolute gates alone). Inconclusive beats pass; a fail
// beats both.
GateResult EvaluateComparative(const std::vector<HostWindow>& hosts, const GateConfig& config);

// One wave's bake, judged over time: pass → promote, fail → halt; inconclusive at the end of the
// bake pauses (the bake goes on) until it resolves, or fails closed `inconclusive_deadline` after
// the bake's end.
class GateStateMachine {
 public:
  using Time = std::chrono::steady_clock::time_point;
  enum class State { kBaking, kPaused, kPromoted, kFailed, kFailedClosed };

  GateStateMachine(Time bake_start, Duration bake, Duration inconclusive_deadline)
      : bake_end_(bake_start + bake),
        deadline_(bake_end_ + inconclusive_deadline),
        inconclusive_deadline_(inconclusive_deadline) {}

  // Whether Step() at `now` needs the comparative result (the bake is over).
  bool ComparativeDue(Time now) const { return now >= bake_end_; }
  // Feeds one evaluation. `comparative` is ignored before the bake ends and treated as a pass
  // when absent after it. Terminal states stay.
  State Step(Time now, const GateResult& absolute, const std::optional<GateResult>& comparative);

  State state() const { return state_; }
  bool done() const { return state_ == State::kPromoted || failed(); }
  bool failed() const { return state_ == State::kFailed || state_ == State::kFailedClosed; }
  // Why it failed or paused; "" otherwise. Failing closed reads
  // "inconclusive <deadline> after the bake: <reason>".
  const std::string& reason() const { return reason_; }

 private:
  Time bake_end_;
  Time deadline_;
  Duration inconclusive_deadline_;
  State state_ = State::kBaking;
  std::string reason_;
};

}  // namespace ringfence
