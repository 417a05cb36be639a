#include "core/observe/guards.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <deque>
#include <future>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "core/observe/metric_sources.h"

namespace ringfence {

namespace {

// A baseline is the median of this many readings, taken one interval apart; up to twice as many
// attempts are made before the baseline counts as not measurable.
constexpr int kBaselineReadings = 3;

std::string Number(double v) { return fmt::format("{}", v); }

bool NeedsBaseline(const GuardSpec& g) {
  return g.min_vs_baseline.has_value() || g.max_vs_baseline.has_value();
}

// Why `value` breaks the guard's condition, or "" when it keeps it.
std::string ConditionBroken(const GuardSpec& g, double value, std::optional<double> baseline) {
  const std::string v = "value " + Number(value);
  if (g.min && value < *g.min) return v + " < " + Number(*g.min);
  if (g.max && value > *g.max) return v + " > " + Number(*g.max);
  if (baseline) {
    if (g.min_vs_baseline && value < *g.min_vs_baseline * *baseline) {
      return v + " < " + Number(*g.min_vs_baseline * *baseline) + " (" +
             Number(*g.min_vs_baseline) + " × baseline " + Number(*baseline) + ")";
    }
    if (g.max_vs_baseline && value > *g.max_vs_baseline * *baseline) {
      return v + " > " + Number(*g.max_vs_baseline * *baseline) + " (" +
             Number(*g.max_vs_baseline) + " × baseline " + Number(*baseline) + ")";
    }
  }
  return "";
}

nlohmann::json Optional(std::optional<double> v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

class GuardMonitorImpl : public GuardMonitor {
 public:
  GuardMonitorImpl(const std::vector<GuardSpec>& guards, Clock& clock,
                   const MetricSourceFactory& factory, std::shared_ptr<StopSource> reads_stop)
      : clock_(clock), reads_stop_(std::move(reads_stop)) {
    for (const GuardSpec& spec : guards) {
      auto g = std::make_unique<Guard>();
      g->spec = spec;
      Result<std::unique_ptr<MetricSource>> source = factory(spec);
      if (source.ok()) {
        g->source = std::move(*source);
      } else {
        g->start_status = source.status();
      }
      guards_.push_back(std::move(g));
    }
  }

  ~GuardMonitorImpl() override { Stop(); }

  Status CheckSources() override {
    std::vector<std::future<std::string>> checks;
    for (auto& g : guards_) {
      checks.push_back(std::async(std::launch::async, [this, &g]() -> std::string {
        if (Status s = StartSource(*g); !s.ok()) return s.message();
        SourceReading r = g->source->Read();
        return r.kind == SourceReading::Kind::kError ? r.detail : "";
      }));
    }
    std::string problems;
    for (size_t i = 0; i < checks.size(); ++i) {
      const std::string problem = checks[i].get();
      if (problem.empty()) continue;
      problems += (problems.empty() ? "" : "; ") + GuardLabel(*guards_[i]) + ": " + problem;
    }
    if (problems.empty()) return Status::Ok();
    return Status::Unavailable(problems);
  }

  Status CaptureBaseline() override {
    std::vector<std::future<Status>> captures;
    for (auto& g : guards_) {
      captures.push_back(std::async(std::launch::async, [this, &g]() -> Status {
        if (Status s = StartSource(*g); !s.ok()) return s;
        if (!NeedsBaseline(g->spec)) return Status::Ok();
        return MeasureBaseline(*g);
      }));
    }
    Status first;
    for (size_t i = 0; i < captures.size(); ++i) {
      Status s = captures[i].get();
      if (!s.ok() && first.ok()) {
        first = Status::Error(s.code(), GuardLabel(*guards_[i]) + ": " + s.message());
      }
    }
    return first;
  }

  void Start(std::function<void(const GuardBreach&)> on_breach,
             std::function<void(const std::string& guard, const GuardSample&)> on_sample) override {
    std::lock_guard<std::mutex> lock(control_mu_);
    if (started_ || stop_.stop_requested()) return;
    started_ = true;
    on_breach_ = std::move(on_breach);
    on_sample_ = std::move(on_sample);
    for (auto& g : guards_) {
      if (Status s = StartSource(*g); !s.ok()) {
        std::lock_guard<std::mutex> state_lock(g->mu);
        g->start_status = s;
      }
    }
    for (auto& g : guards_) {
      Guard* guard = g.get();
      g->thread = std::thread([this, guard] { SampleLoop(*guard); });
    }
  }

  void Stop() override {
    std::lock_guard<std::mutex> lock(control_mu_);
    stop_.RequestStop("guard monitor stopped");
    if (reads_stop_) reads_stop_->RequestStop("guard monitor stopped");
    // A callback that stops the monitor from a sampling thread cannot join that thread; the
    // next Stop() (at the latest the destructor's) does.
    bool all_joined = true;
    for (auto& g : guards_) {
      if (!g->thread.joinable()) continue;
      if (g->thread.get_id() == std::this_thread::get_id()) {
        all_joined = false;
        continue;
      }
      g->thread.join();
    }
    if (!all_joined) return;
    for (auto& g : guards_) {
      if (g->source) g->source->Stop();
    }
  }

  nlohmann::json ToJson() const override {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& g : guards_) {
      std::lock_guard<std::mutex> lock(g->mu);
      const GuardSpec& s = g->spec;
      nlohmann::json condition = nlohmann::json::object();
      if (s.min) condition["min"] = *s.min;
      if (s.max) condition["max"] = *s.max;
      if (s.min_vs_baseline) condition["min_vs_baseline"] = *s.min_vs_baseline;
      if (s.max_vs_baseline) condition["max_vs_baseline"] = *s.max_vs_baseline;
      nlohmann::json samples = nlohmann::json::array();
      for (const auto& sample : g->recent) samples.push_back(sample.ToJson());
      nlohmann::json baseline_samples = nlohmann::json::array();
      for (const auto& sample : g->baseline_samples) baseline_samples.push_back(sample.ToJson());
      out.push_back({{"name", s.name},
                     {"source", s.source},
                     {"condition", condition},
                     {"threshold", s.ThresholdText(g->baseline)},
                     {"interval", FormatDuration(s.interval)},
                     {"for", s.for_samples},
                     {"min_samples", s.min_samples},
                     {"on_no_data", s.abort_on_no_data ? "abort" : "ignore"},
                     {"on_error", s.abort_on_error ? "abort" : "ignore"},
                     {"baseline", Optional(g->baseline)},
                     {"baseline_samples", baseline_samples},
                     {"samples", samples},
                     {"samples_total", g->total},
                     {"samples_dropped", g->total - g->recent.size()},
                     {"summary", Summary(*g)},
                     {"breach", g->breach ? g->breach->ToJson() : nlohmann::json(nullptr)}});
    }
    return out;
  }

 private:
  struct Guard {
    GuardSpec spec;
    std::unique_ptr<MetricSource> source;  // null when it could not be built (start_status)
    std::thread thread;
    std::once_flag started;
    mutable std::mutex mu;  // everything below
    Status start_status;
    std::optional<double> baseline;
    std::vector<GuardSample> baseline_samples;
    // The last kGuardSampleWindow samples; every sample went to on_sample (the journal's event
    // log), so memory stays flat however long the run.
    std::deque<GuardSample> recent;
    uint64_t total = 0;
    uint64_t verdicts[5] = {0, 0, 0, 0, 0};  // by GuardSample::Verdict
    std::optional<double> min, max;
    std::optional<WallTime> first_at, last_at;
    std::optional<GuardBreach> breach;
    // Only the sampling thread touches these.
    int taken = 0;
    int streak = 0;  // consecutive samples that count against the guard
  };

  static std::string GuardLabel(const Guard& g) { return "guard \"" + g.spec.name + "\""; }

  // Counts by verdict, the value range and the time span of every sample taken (g.mu held).
  static nlohmann::json Summary(const Guard& g) {
    static const char* const kVerdicts[] = {"ok", "breach", "no_data", "error", "warming_up"};
    nlohmann::json verdicts = nlohmann::json::object();
    for (int i = 0; i < 5; ++i) verdicts[kVerdicts[i]] = g.verdicts[i];
    auto time = [](const std::optional<WallTime>& t) {
      return t ? nlohmann::json(FormatRfc3339(*t)) : nlohmann::json(nullptr);
    };
    return {{"verdicts", verdicts},
            {"min", Optional(g.min)},
            {"max", Optional(g.max)},
            {"first_at", time(g.first_at)},
            {"last_at", time(g.last_at)}};
  }

  // Starts the guard's source once; later calls return the first outcome.
  Status StartSource(Guard& g) {
    std::call_once(g.started, [&g] {
      Status s = g.source ? g.source->Start() : Status::Ok();
      std::lock_guard<std::mutex> lock(g.mu);
      if (g.start_status.ok()) g.start_status = s;
    });
    std::lock_guard<std::mutex> lock(g.mu);
    return g.start_status;
  }

  // The median of kBaselineReadings readings one interval apart (at most twice as many
  // attempts). Runs before anything is injected.
  Status MeasureBaseline(Guard& g) {
    std::vector<double> values;
    std::string last_problem = "no reading";
    auto next = clock_.Monotonic();
    for (int attempt = 0; attempt < 2 * kBaselineReadings; ++attempt) {
      next += g.spec.interval;
      if (!clock_.SleepUntil(next, stop_)) return Status::Runtime("stopped while measuring");
      GuardSample sample;
      sample.at = clock_.Now();
      SourceReading r = g.source->Read();
      if (r.kind == SourceReading::Kind::kValue && std::isnan(r.value)) {
        r = SourceReading::NoData("the value is NaN");
      }
      if (r.kind == SourceReading::Kind::kValue) {
        sample.value = r.value;
        values.push_back(r.value);
      } else {
        sample.verdict = r.kind == SourceReading::Kind::kNoData ? GuardSample::Verdict::kNoData
                                                                : GuardSample::Verdict::kError;
        sample.detail = r.detail;
        last_problem =
            (r.kind == SourceReading::Kind::kNoData ? "no data: " : "error: ") + r.detail;
      }
      {
        std::lock_guard<std::mutex> lock(g.mu);
        g.baseline_samples.push_back(sample);
      }
      if (values.size() == static_cast<size_t>(kBaselineReadings)) break;
    }
    if (values.size() < static_cast<size_t>(kBaselineReadings)) {
      return Status::Unavailable("cannot measure a baseline (" + std::to_string(values.size()) +
                                 " of " + std::to_string(kBaselineReadings) +
                                 " readings): " + last_problem);
    }
    std::sort(values.begin(), values.end());
    const double median = values[values.size() / 2];
    if (median == 0) {
      return Status::InvalidInput(
          "the baseline is 0; a condition relative to the baseline needs one other than 0");
    }
    std::lock_guard<std::mutex> lock(g.mu);
    g.baseline = median;
    return Status::Ok();
  }

  // The first sample one interval after Start; a sample slower than the interval is followed by
  // the next at once (one reading in flight per guard).
  void SampleLoop(Guard& g) {
    auto next = clock_.Monotonic() + g.spec.interval;
    while (clock_.SleepUntil(next, stop_)) {
      TakeSample(g);
      next += g.spec.interval;
      const auto now = clock_.Monotonic();
      if (next < now) next = now;
    }
  }

  void TakeSample(Guard& g) {
    GuardSample sample;
    sample.at = clock_.Now();
    Status start_status;
    std::optional<double> baseline;
    {
      std::lock_guard<std::mutex> lock(g.mu);
      start_status = g.start_status;
      baseline = g.baseline;
    }
    SourceReading r = start_status.ok() && g.source ? g.source->Read()
                                                    : SourceReading::Error(start_status.message());
    if (r.kind == SourceReading::Kind::kValue && std::isnan(r.value)) {
      r = SourceReading::NoData("the value is NaN");
    }
    if (stop_.stop_requested()) return;  // cut short by Stop(): not a sample
    if (r.kind == SourceReading::Kind::kValue && NeedsBaseline(g.spec) && !baseline) {
      r = SourceReading::Error("no baseline was measured");
    }
    ++g.taken;
    std::string reason;  // set when this sample counts against the guard
    if (r.kind == SourceReading::Kind::kValue) sample.value = r.value;
    if (g.taken < g.spec.min_samples) {
      sample.verdict = GuardSample::Verdict::kWarmingUp;
      sample.detail = r.detail;
    } else if (r.kind == SourceReading::Kind::kValue) {
      reason = ConditionBroken(g.spec, r.value, baseline);
      sample.verdict = reason.empty() ? GuardSample::Verdict::kOk : GuardSample::Verdict::kBreach;
      sample.detail = reason;
      if (reason.empty()) g.streak = 0;
    } else {
      const bool no_data = r.kind == SourceReading::Kind::kNoData;
      sample.verdict = no_data ? GuardSample::Verdict::kNoData : GuardSample::Verdict::kError;
      sample.detail = r.detail;
      if (no_data ? g.spec.abort_on_no_data : g.spec.abort_on_error) {
        reason = (no_data ? "no data: " : "error: ") + r.detail;
      }
      // An ignored sample neither extends nor ends a run of breaches.
    }
    std::optional<GuardBreach> breach;
    if (!reason.empty()) {
      ++g.streak;
      if (g.streak >= g.spec.for_samples && !breached_.exchange(true)) {
        breach.emplace();
        breach->guard = g.spec.name;
        breach->reason = reason;
        if (g.spec.for_samples > 1) {
          breach->reason += " (" + std::to_string(g.streak) + " samples in a row)";
        }
        breach->value = sample.value;
        breach->threshold = g.spec.ThresholdText(baseline);
        breach->sampled_at = sample.at;
        breach->detected_at = clock_.Now();
      }
    }
    {
      std::lock_guard<std::mutex> lock(g.mu);
      g.recent.push_back(sample);
      if (g.recent.size() > kGuardSampleWindow) g.recent.pop_front();
      ++g.total;
      ++g.verdicts[static_cast<int>(sample.verdict)];
      if (sample.value) {
        g.min = g.min ? std::min(*g.min, *sample.value) : *sample.value;
        g.max = g.max ? std::max(*g.max, *sample.value) : *sample.value;
      }
      if (!g.first_at) g.first_at = sample.at;
      g.last_at = sample.at;
      if (breach) g.breach = breach;
    }
    if (breach && on_breach_) on_breach_(*breach);
    if (on_sample_) on_sample_(g.spec.name, sample);
  }

  Clock& clock_;
  std::shared_ptr<StopSource> reads_stop_;  // ends readings in flight at Stop(); may be null
  std::vector<std::unique_ptr<Guard>> guards_;
  StopSource stop_;
  std::atomic<bool> breached_{false};
  std::mutex control_mu_;  // Start / Stop
  bool started_ = false;
  std::function<void(const GuardBreach&)> on_breach_;
  std::function<void(const std::string&, const GuardSample&)> on_sample_;
};

}  // namespace

std::unique_ptr<GuardMonitor> MakeGuardMonitorWithSources(const std::vector<GuardSpec>& guards,
                                                          Clock& clock, MetricSourceFactory factory,
                                                          std::shared_ptr<StopSource> reads_stop) {
  return std::make_unique<GuardMonitorImpl>(guards, clock, factory, std::move(reads_stop));
}

std::unique_ptr<GuardMonitor> MakeGuardMonitor(const std::vector<GuardSpec>& guards, GuardEnv env) {
  auto reads_stop = std::make_shared<StopSource>();
  SourceEnv source_env{env.system, env.probes, env.experiment, reads_stop.get()};
  return MakeGuardMonitorWithSources(
      guards, env.system.clock(),
      [source_env](const GuardSpec& guard) { return MakeMetricSource(guard, source_env); },
      reads_stop);
}

}  // namespace ringfence
