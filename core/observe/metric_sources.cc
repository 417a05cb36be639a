#include "core/observe/metric_sources.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <future>
#include <thread>

#include "core/observe/metric_text.h"
#include "core/targets/target_resolver.h"

namespace ringfence {

namespace {

using std::chrono::milliseconds;

// The timeout of an HTTP source: its own, or the guard's interval within [250ms, 2s].
milliseconds HttpTimeout(const GuardSpec& guard) {
  if (auto it = guard.source.find("timeout"); it != guard.source.end() && it->is_string()) {
    if (auto d = ParseDuration(it->get<std::string>()); d.ok()) return *d;
  }
  return std::clamp<milliseconds>(guard.interval, milliseconds(250), milliseconds(2000));
}

Duration DurationField(const nlohmann::json& source, const char* key, Duration fallback) {
  if (auto it = source.find(key); it != source.end() && it->is_string()) {
    if (auto d = ParseDuration(it->get<std::string>()); d.ok()) return *d;
  }
  return fallback;
}

std::string StringField(const nlohmann::json& source, const char* key) {
  if (auto it = source.find(key); it != source.end() && it->is_string()) return *it;
  return "";
}

std::string WithoutTrailingSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

// A GET that ends at once when `stop` (if any) is requested.
Result<HttpResponse> Fetch(Env& system, const std::string& url, milliseconds timeout,
                           const StopSource* stop) {
  HttpRequest request;
  request.url = url;
  request.timeout = timeout;
  request.stop = stop;
  return system.Fetch(request);
}

// A probe that ends at once when the env's stop (if any) is requested.
ProbeOutcome RunProbe(const SourceEnv& env, const ProbeSpec& probe) {
  return env.stop != nullptr ? env.probes.Run(probe, env.experiment, *env.stop)
                             : env.probes.Run(probe, env.experiment);
}

// The message of a failed fetch, as a guard's sample detail.
std::string FetchError(const std::string& url, const Status& status) {
  return "GET " + url + ": " + status.message();
}

// ---- promql -----------------------------------------------------------------------------------

class PromqlSource : public MetricSource {
 public:
  PromqlSource(Env& system, std::string url, const std::string& query, milliseconds timeout,
               const StopSource* stop)
      : system_(system),
        query_url_(WithoutTrailingSlash(std::move(url)) +
                   "/api/v1/query?query=" + UrlQueryEscape(query)),
        timeout_(timeout),
        stop_(stop) {}

  SourceReading Read() override {
    Result<HttpResponse> response = Fetch(system_, query_url_, timeout_, stop_);
    if (!response.ok()) return SourceReading::Error(FetchError(query_url_, response.status()));
    return ReadPromqlResponse(response->status, response->body);
  }

 private:
  Env& system_;
  std::string query_url_;
  milliseconds timeout_;
  const StopSource* stop_;
};

// ---- scrape -----------------------------------------------------------------------------------

class ScrapeSource : public MetricSource {
 public:
  ScrapeSource(Env& system, std::string url, ScrapeQuery query, milliseconds timeout,
               const StopSource* stop)
      : system_(system),
        url_(std::move(url)),
        window_(std::move(query)),
        timeout_(timeout),
        stop_(stop) {}

  // The first scrape, so that the first reading of a rate or a quantile has a base. A failure
  // here is not fatal: the reading that follows reports the source's state itself.
  Status Start() override {
    if (!started_) {
      started_ = true;
      SourceReading ignored = Scrape();
      (void)ignored;
    }
    return Status::Ok();
  }

  SourceReading Read() override { return Scrape(); }

 private:
  SourceReading Scrape() {
    Result<HttpResponse> response = Fetch(system_, url_, timeout_, stop_);
    const auto at = system_.clock().Monotonic();
    if (!response.ok()) return SourceReading::Error(FetchError(url_, response.status()));
    if (response->status != 200) {
      return SourceReading::Error("GET " + url_ + ": HTTP " + std::to_string(response->status));
    }
    Result<MetricExposition> exposition = ParseMetricText(response->body);
    if (!exposition.ok()) {
      return SourceReading::Error("malformed metrics from " + url_ + ": " +
                                  exposition.status().message());
    }
    window_.Add(at, *exposition);
    return window_.Current();
  }

  Env& system_;
  std::string url_;
  ScrapeWindow window_;
  milliseconds timeout_;
  const StopSource* stop_;
  bool started_ = false;
};

// ---- probe_stats ------------------------------------------------------------------------------

class ProbeStatsSource : public MetricSource {
 public:
  ProbeStatsSource(SourceEnv env, ProbeSpec probe, double rate, Duration window,
                   ProbeStatsWindow::Stat stat)
      : env_(env),
        probe_(std::move(probe)),
        period_(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            std::chrono::duration<double>(1.0 / rate))),
        window_(window, stat) {}
  ~ProbeStatsSource() override { Stop(); }

  Status Start() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!loop_.joinable() && !stop_.stop_requested()) {
      loop_ = std::thread([this] { Loop(); });
    }
    return Status::Ok();
  }

  SourceReading Read() override { return window_.Current(env_.system.clock().Monotonic()); }

  void Stop() override {
    stop_.RequestStop("guard monitor stopped");
    std::lock_guard<std::mutex> lock(mu_);
    if (loop_.joinable()) loop_.join();
  }

 private:
  // One probe in flight at a time; a probe slower than the period delays the next one.
  void Loop() {
    auto next = env_.system.clock().Monotonic();
    while (!stop_.stop_requested()) {
      const auto start = env_.system.clock().Monotonic();
      const ProbeOutcome outcome = env_.probes.Run(probe_, env_.experiment, stop_);
      if (stop_.stop_requested()) break;
      const auto end = env_.system.clock().Monotonic();
      window_.Add(end, outcome.met, std::chrono::duration<double, std::milli>(end - start).count());
      next += period_;
      if (next < end) next = end;
      if (!env_.system.clock().SleepUntil(next, stop_)) break;
    }
  }

  SourceEnv env_;
  ProbeSpec probe_;
  std::chrono::steady_clock::duration period_;
  ProbeStatsWindow window_;
  StopSource stop_;
  std::mutex mu_;  // loop_
  std::thread loop_;
};

// ---- probe ------------------------------------------------------------------------------------

class ProbeSource : public MetricSource {
 public:
  ProbeSource(SourceEnv env, ProbeSpec probe) : env_(env), probe_(std::move(probe)) {}
  SourceReading Read() override { return SourceReading::Value(RunProbe(env_, probe_).met ? 1 : 0); }

 private:
  SourceEnv env_;
  ProbeSpec probe_;
};

// ---- affected_fraction ------------------------------------------------------------------------

class AffectedTargetsSource : public MetricSource {
 public:
  AffectedTargetsSource(SourceEnv env, const TargetSpec& target) : env_(env), target_(target) {}

  // The baseline count: how many processes the selector matches before anything is injected.
  Status Start() override {
    if (baseline_ > 0) return Status::Ok();
    Result<std::vector<ProcessInfo>> matches =
        MatchProcesses(env_.system.processes(), target_.process);
    if (!matches.ok()) {
      return Status::Error(matches.status().code(),
                           target_.pointer + ": " + matches.status().message());
    }
    if (matches->empty()) {
      return Status::NotFound("target " + target_.name + " (" + DescribeSelector(target_.process) +
                              ") matches no process; an affected fraction needs at least one");
    }
    baseline_ = matches->size();
    return Status::Ok();
  }

  SourceReading Read() override {
    if (baseline_ == 0) return SourceReading::Error("no baseline count of target " + target_.name);
    Result<std::vector<ProcessInfo>> matches =
        MatchProcesses(env_.system.processes(), target_.process);
    if (!matches.ok()) return SourceReading::Error(matches.status().message());
    const double lost = static_cast<double>(baseline_) - static_cast<double>(matches->size());
    return SourceReading::Value(std::clamp(lost / static_cast<double>(baseline_), 0.0, 1.0));
  }

 private:
  SourceEnv env_;
  TargetSpec target_;
  size_t baseline_ = 0;
};

class AffectedProbesSource : public MetricSource {
 public:
  AffectedProbesSource(SourceEnv env, std::vector<ProbeSpec> probes)
      : env_(env), probes_(std::move(probes)) {}

  // The probes run in parallel, so the reading takes as long as the slowest probe.
  SourceReading Read() override {
    std::vector<std::future<bool>> met;
    for (const ProbeSpec& probe : probes_) {
      met.push_back(
          std::async(std::launch::async, [this, &probe] { return RunProbe(env_, probe).met; }));
    }
    size_t unmet = 0;
    for (auto& f : met) unmet += f.get() ? 0 : 1;
    return SourceReading::Value(static_cast<double>(unmet) / static_cast<double>(probes_.size()));
  }

 private:
  SourceEnv env_;
  std::vector<ProbeSpec> probes_;
};

Result<ProbeSpec> SourceProbe(const nlohmann::json& probe, const std::string& pointer,
                              const GuardSpec& guard, const Experiment& experiment) {
  ValidationErrors errors;
  std::optional<ProbeSpec> spec = ReadProbeObject(probe, pointer, experiment, errors);
  if (!spec) {
    std::vector<std::string> lines = errors.Format("experiment");
    return Status::InvalidInput(lines.empty() ? pointer + ": invalid probe" : lines.front());
  }
  if (!probe.contains("name")) spec->name = guard.name;
  return *spec;
}

}  // namespace

Result<std::unique_ptr<MetricSource>> MakeMetricSource(const GuardSpec& guard, SourceEnv env) {
  const nlohmann::json& source = guard.source;
  const std::string type = StringField(source, "type");
  const std::string at = guard.pointer + "/source";
  try {
    if (type == "promql") {
      return std::unique_ptr<MetricSource>(std::make_unique<PromqlSource>(
          env.system, StringField(source, "url"), StringField(source, "query"), HttpTimeout(guard),
          env.stop));
    }
    if (type == "scrape") {
      ScrapeQuery query;
      query.metric = StringField(source, "metric");
      if (auto labels = source.find("labels"); labels != source.end() && labels->is_object()) {
        for (auto it = labels->begin(); it != labels->end(); ++it) {
          if (it->is_string()) query.labels[it.key()] = it->get<std::string>();
        }
      }
      const std::string stat = source.value("stat", "value");
      query.stat = stat == "rate"       ? ScrapeQuery::Stat::kRate
                   : stat == "quantile" ? ScrapeQuery::Stat::kQuantile
                                        : ScrapeQuery::Stat::kValue;
      query.quantile = source.value("quantile", 0.99);
      query.window = DurationField(source, "window", std::chrono::seconds(10));
      return std::unique_ptr<MetricSource>(std::make_unique<ScrapeSource>(
          env.system, StringField(source, "url"), std::move(query), HttpTimeout(guard), env.stop));
    }
    if (type == "probe_stats") {
      Result<ProbeSpec> probe =
          SourceProbe(source.at("probe"), at + "/probe", guard, env.experiment);
      if (!probe.ok()) return probe.status();
      const std::string stat = StringField(source, "stat");
      const auto kind = stat == "p50"    ? ProbeStatsWindow::Stat::kP50
                        : stat == "p99"  ? ProbeStatsWindow::Stat::kP99
                        : stat == "mean" ? ProbeStatsWindow::Stat::kMean
                                         : ProbeStatsWindow::Stat::kSuccessRatio;
      return std::unique_ptr<MetricSource>(std::make_unique<ProbeStatsSource>(
          env, std::move(*probe), source.value("rate", 10.0),
          DurationField(source, "window", std::chrono::seconds(5)), kind));
    }
    if (type == "probe") {
      Result<ProbeSpec> probe =
          SourceProbe(source.at("probe"), at + "/probe", guard, env.experiment);
      if (!probe.ok()) return probe.status();
      return std::unique_ptr<MetricSource>(std::make_unique<ProbeSource>(env, std::move(*probe)));
    }
    if (type == "affected_fraction") {
      if (source.contains("target")) {
        const TargetSpec* target = env.experiment.FindTarget(StringField(source, "target"));
        if (target == nullptr) {
          return Status::InvalidInput(at + "/target: no target named \"" +
                                      StringField(source, "target") + "\"");
        }
        return std::unique_ptr<MetricSource>(std::make_unique<AffectedTargetsSource>(env, *target));
      }
      std::vector<ProbeSpec> probes;
      const nlohmann::json& list = source.at("probes");
      for (size_t i = 0; i < list.size(); ++i) {
        Result<ProbeSpec> probe =
            SourceProbe(list[i], at + "/probes/" + std::to_string(i), guard, env.experiment);
        if (!probe.ok()) return probe.status();
        if (!list[i].contains("name")) probe->name = guard.name + "-" + std::to_string(i);
        probes.push_back(std::move(*probe));
      }
      if (probes.empty()) return Status::InvalidInput(at + "/probes: no probes");
      return std::unique_ptr<MetricSource>(
          std::make_unique<AffectedProbesSource>(env, std::move(probes)));
    }
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidInput(at + ": " + e.what());
  }
  return Status::InvalidInput(at + "/type: unknown source type \"" + type + "\"");
}

// ---- Pieces -----------------------------------------------------------------------------------

namespace {

// A sample value of the query API: [time, "value"].
std::optional<double> SampleValue(const nlohmann::json& sample) {
  if (!sample.is_array() || sample.size() != 2 || !sample[1].is_string()) return std::nullopt;
  const std::string& text = sample[1].get_ref<const std::string&>();
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size()) return std::nullopt;
  return v;
}

SourceReading ValueReading(double v) {
  if (std::isnan(v)) return SourceReading::NoData("query returned NaN");
  return SourceReading::Value(v);
}

}  // namespace

SourceReading ReadPromqlResponse(int http_status, const std::string& body) {
  nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    if (http_status != 200) return SourceReading::Error("HTTP " + std::to_string(http_status));
    return SourceReading::Error("malformed response: not a JSON object");
  }
  const nlohmann::json status = doc.value("status", nlohmann::json());
  if (status != "success") {
    const nlohmann::json type = doc.value("errorType", nlohmann::json("unknown"));
    const nlohmann::json error = doc.value("error", nlohmann::json(""));
    if (status == "error" && type.is_string() && error.is_string()) {
      return SourceReading::Error("prometheus: " + type.get<std::string>() + ": " +
                                  error.get<std::string>());
    }
    return SourceReading::Error("malformed response: status is " + FoundValue(status));
  }
  const auto data = doc.find("data");
  if (data == doc.end() || !data->is_object()) {
    return SourceReading::Error("malformed response: no data object");
  }
  const nlohmann::json result_type = data->value("resultType", nlohmann::json());
  const auto result = data->find("result");
  if (!result_type.is_string() || result == data->end()) {
    return SourceReading::Error("malformed response: no resultType or result");
  }
  if (result_type == "scalar") {
    std::optional<double> v = SampleValue(*result);
    if (!v) return SourceReading::Error("malformed response: a scalar without a value");
    return ValueReading(*v);
  }
  if (result_type == "vector") {
    if (!result->is_array()) return SourceReading::Error("malformed response: result not a list");
    if (result->empty()) return SourceReading::NoData("query returned no series");
    if (result->size() > 1) {
      return SourceReading::Error("query returned " + std::to_string(result->size()) +
                                  " series; a guard needs one (aggregate with sum, max, …)");
    }
    const nlohmann::json& series = (*result)[0];
    std::optional<double> v = series.is_object() && series.contains("value")
                                  ? SampleValue(series["value"])
                                  : std::nullopt;
    if (!v) return SourceReading::Error("malformed response: a series without a value");
    return ValueReading(*v);
  }
  return SourceReading::Error("query returned a " + result_type.get<std::string>() +
                              "; a guard needs a scalar or a vector");
}

std::optional<double> SampleQuantile(std::vector<double> values, double q) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  const double pos = std::clamp(q, 0.0, 1.0) * static_cast<double>(values.size() - 1);
  const size_t lower = static_cast<size_t>(std::floor(pos));
  const size_t upper = std::min(lower + 1, values.size() - 1);
  return values[lower] + (values[upper] - values[lower]) * (pos - static_cast<double>(lower));
}

void ProbeStatsWindow::Add(std::chrono::steady_clock::time_point at, bool met, double latency_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  results_.push_back({at, met, latency_ms});
}

SourceReading ProbeStatsWindow::Current(std::chrono::steady_clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto start = now - window_;
  while (!results_.empty() && results_.front().at < start) results_.pop_front();
  if (results_.empty()) {
    return SourceReading::NoData("no probe results in the last " + FormatDuration(window_));
  }
  std::vector<double> latencies;
  size_t met = 0;
  for (const auto& r : results_) {
    latencies.push_back(r.latency_ms);
    met += r.met ? 1 : 0;
  }
  switch (stat_) {
    case Stat::kSuccessRatio:
      return SourceReading::Value(static_cast<double>(met) / static_cast<double>(results_.size()));
    case Stat::kP50:
      return SourceReading::Value(*SampleQuantile(latencies, 0.5));
    case Stat::kP99:
      return SourceReading::Value(*SampleQuantile(latencies, 0.99));
    case Stat::kMean: {
      double sum = 0;
      for (double l : latencies) sum += l;
      return SourceReading::Value(sum / static_cast<double>(latencies.size()));
    }
  }
  return SourceReading::Error("unknown stat");
}

}  // namespace ringfence
