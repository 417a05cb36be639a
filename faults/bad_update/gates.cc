#include "faults/bad_update/gates.h"

#include <algorithm>

#include <fmt/format.h>

#include "faults/bad_update/stats.h"

namespace ringfence {
namespace {

std::vector<double> Latest(std::vector<double> v, size_t n) {
  if (v.size() > n) v.erase(v.begin(), v.end() - static_cast<std::ptrdiff_t>(n));
  return v;
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 == 1 ? v[m] : (v[m - 1] + v[m]) / 2;
}

// Shortest text for a number in a reason: 0.05, 12.5, 3.
std::string Num(double v) { return fmt::format("{:.4g}", v); }

}  // namespace

void HostWindow::Record(const HostSample& sample) {
  ++health_samples;
  if (sample.healthy) {
    consecutive_unhealthy = 0;
  } else {
    ++consecutive_unhealthy;
    ++unhealthy_samples;
    last_problem = sample.problem;
  }
  if (sample.pid && pid_before && *sample.pid != *pid_before && !restarted_as) {
    restarted_as = sample.pid;
  }
  if (sample.work_sampled) {
    ++work_requests;
    if (!sample.work_ok) ++work_errors;
    if (sample.work_latency_ms) latencies_ms.push_back(*sample.work_latency_ms);
  }
}

const char* GateVerdictName(GateVerdict verdict) {
  switch (verdict) {
    case GateVerdict::kPass:
      return "pass";
    case GateVerdict::kFail:
      return "fail";
    case GateVerdict::kInconclusive:
      return "inconclusive";
  }
  return "?";
}

GateResult EvaluateAbsolute(const std::vector<HostWindow>& hosts, const GateConfig& config) {
  int requests = 0, errors = 0;
  for (const HostWindow& h : hosts) {
    if (!h.exposed) continue;
    if (config.fail_on_restart && h.restarted_as) {
      return {GateVerdict::kFail,
              fmt::format("{} restarted (pid {} → {})", h.name, *h.pid_before, *h.restarted_as)};
    }
    if (h.consecutive_unhealthy >= config.unhealthy_samples) {
      return {GateVerdict::kFail, fmt::format("{} unhealthy for {} samples: {}", h.name,
                                              h.consecutive_unhealthy, h.last_problem)};
    }
    requests += h.work_requests;
    errors += h.work_errors;
  }
  if (config.max_error_rate && requests >= config.min_samples) {
    const double rate = static_cast<double>(errors) / requests;
    if (rate > *config.max_error_rate) {
      return {GateVerdict::kFail, fmt::format("error rate {} of {} requests on exposed hosts > {}",
                                              Num(rate), requests, Num(*config.max_error_rate))};
    }
  }
  return {};
}

GateResult EvaluateComparative(const std::vector<HostWindow>& hosts, const GateConfig& config) {
  if (!config.comparative) return {};
  std::vector<double> exposed_latency, baseline_latency;
  int exposed_samples = 0, exposed_unhealthy = 0, baseline_samples = 0, baseline_unhealthy = 0;
  bool any_baseline = false, any_work = false;
  for (const HostWindow& h : hosts) {
    any_work = any_work || h.work_requests > 0;
    auto& latency = h.exposed ? exposed_latency : baseline_latency;
    latency.insert(latency.end(), h.latencies_ms.begin(), h.latencies_ms.end());
    if (h.exposed) {
      exposed_samples += h.health_samples;
      exposed_unhealthy += h.unhealthy_samples;
    } else {
      any_baseline = true;
      baseline_samples += h.health_samples;
      baseline_unhealthy += h.unhealthy_samples;
    }
  }
  if (!any_baseline) return {};
  GateResult inconclusive;

  // The unhealthy share, sample by sample (samples of one host are not independent: the test is
  // a screen, backed by the minimum effect size).
  if (exposed_samples < config.min_samples || baseline_samples < config.min_samples) {
    inconclusive = {GateVerdict::kInconclusive,
                    fmt::format("unhealthy: {} exposed and {} baseline samples, fewer than "
                                "min_samples {}",
                                exposed_samples, baseline_samples, config.min_samples)};
  } else {
    const double p =
        FisherExact(exposed_unhealthy, exposed_samples - exposed_unhealthy, baseline_unhealthy,
                    baseline_samples - baseline_unhealthy, Alternative::kGreater);
    const double effect = static_cast<double>(exposed_unhealthy) / exposed_samples -
                          static_cast<double>(baseline_unhealthy) / baseline_samples;
    if (p < config.alpha && effect >= config.min_unhealthy_effect) {
      return {GateVerdict::kFail,
              fmt::format("unhealthy: exposed {}/{} samples vs baseline {}/{}, Fisher p = {} < {}",
                          exposed_unhealthy, exposed_samples, baseline_unhealthy, baseline_samples,
                          Num(p), Num(config.alpha))};
    }
  }

  if (any_work) {
    const auto x = Latest(exposed_latency, config.max_test_samples);
    const auto y = Latest(baseline_latency, config.max_test_samples);
    if (static_cast<int>(x.size()) < config.min_samples ||
        static_cast<int>(y.size()) < config.min_samples) {
      if (inconclusive.verdict == GateVerdict::kPass) {
        inconclusive = {GateVerdict::kInconclusive,
                        fmt::format("latency: {} exposed and {} baseline samples, fewer than "
                                    "min_samples {}",
                                    x.size(), y.size(), config.min_samples)};
      }
    } else {
      const MannWhitneyResult r = MannWhitneyU(x, y, Alternative::kGreater);
      const double mx = Median(x), my = Median(y);
      if (r.p_value < config.alpha && mx >= (1 + config.min_latency_effect) * my) {
        return {GateVerdict::kFail,
                fmt::format("latency: exposed median {}ms vs baseline {}ms, Mann-Whitney p = {} "
                            "< {}",
                            Num(mx), Num(my), Num(r.p_value), Num(config.alpha))};
      }
    }
  }
  return inconclusive;
}

GateStateMachine::State GateStateMachine::Step(Time now, const GateResult& absolute,
                                               const std::optional<GateResult>& comparative) {
  if (done()) return state_;
  if (absolute.verdict == GateVerdict::kFail) {
    state_ = State::kFailed;
    reason_ = absolute.reason;
    return state_;
  }
  if (now < bake_end_) return state_;
  const GateResult judged = comparative.value_or(GateResult{});
  switch (judged.verdict) {
    case GateVerdict::kFail:
      state_ = State::kFailed;
      reason_ = judged.reason;
      break;
    case GateVerdict::kPass:
      state_ = State::kPromoted;
      reason_.clear();
      break;
    case GateVerdict::kInconclusive:
      if (now >= deadline_) {
        state_ = State::kFailedClosed;
        reason_ = "inconclusive " + FormatDuration(inconclusive_deadline_) +
                  " after the bake: " + judged.reason;
      } else {
        state_ = State::kPaused;
        reason_ = judged.reason;
      }
      break;
  }
  return state_;
}

}  // namespace ringfence
