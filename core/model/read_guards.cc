// The experiment reader: /guards, their conditions and sources (core/model/experiment_reader.h).

#include "core/model/experiment_reader.h"

#include "core/model/experiment.h"

namespace ringfence::internal {

namespace {

// Allowed texts (documented in docs/experiment-format.md).
constexpr char kGuardObject[] = "a guard object";
constexpr char kSourceObject[] = "a source object";
constexpr char kSourceTypes[] = "one of promql, scrape, probe_stats, probe, affected_fraction";
constexpr char kConditionAllowed[] =
    "{\"max\": x}, {\"min\": x}, {\"min\": x, \"max\": y}, {\"max_vs_baseline\": r} or "
    "{\"min_vs_baseline\": r}";
constexpr char kIntervalAllowed[] =
    "a duration such as \"250ms\", \"30s\", \"2m\" (from 50ms to 1h)";
constexpr char kPolicyAllowed[] = "one of abort, ignore";
constexpr char kUrlAllowed[] = "a URL starting with http:// or https://";
constexpr char kMetricNameAllowed[] = "a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)";

// [a-zA-Z_:][a-zA-Z0-9_:]*, the Prometheus metric name.
bool IsMetricName(const std::string& name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == ':';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::optional<double> ExperimentReader::Number(const ojson& v, const std::string& p,
                                               const std::string& allowed,
                                               const std::function<bool(double)>& ok) {
  if (!v.is_number() || !ok(v.get<double>())) {
    Error(p, v, allowed);
    return std::nullopt;
  }
  return v.get<double>();
}

std::optional<std::string> ExperimentReader::OneOfNames(const ojson& v, const std::string& p,
                                                        const std::vector<std::string>& names) {
  if (v.is_string()) {
    for (const auto& n : names) {
      if (n == v.get_ref<const std::string&>()) return n;
    }
  }
  Error(p, v, OneOf(names));
  return std::nullopt;
}

std::optional<std::string> ExperimentReader::Url(const ojson& v, const std::string& p) {
  const bool ok = v.is_string() && (v.get<std::string>().rfind("http://", 0) == 0 ||
                                    v.get<std::string>().rfind("https://", 0) == 0);
  if (!ok) {
    Error(p, v, kUrlAllowed);
    return std::nullopt;
  }
  return v.get<std::string>();
}

std::optional<GuardSpec> ExperimentReader::ReadGuard(const ojson& v, const std::string& p,
                                                     size_t index) {
  if (!v.is_object()) {
    Error(p, v, kGuardObject);
    return std::nullopt;
  }
  GuardSpec guard;
  guard.pointer = p;
  guard.name = "guard-" + std::to_string(index);
  std::string name_pointer = p;
  const size_t before = errors_.size();
  auto policy = [&](bool* abort) {
    return [this, abort](const ojson& x, const std::string& xp) {
      if (auto s = OneOfNames(x, xp, {"abort", "ignore"})) *abort = *s == "abort";
    };
  };
  ReadObject(v, p,
             {{"name", false, "",
               [&](const ojson& x, const std::string& xp) {
                 if (auto s = String(x, xp, true, kNonEmptyString)) {
                   guard.name = *s;
                   name_pointer = xp;
                 }
               }},
              {"source", true, kSourceObject,
               [&](const ojson& x, const std::string& xp) {
                 if (auto source = ReadSource(x, xp)) guard.source = nlohmann::json(*source);
               }},
              {"condition", true, kConditionAllowed,
               [&](const ojson& x, const std::string& xp) { ReadCondition(x, xp, guard); }},
              {"interval", false, "",
               [&](const ojson& x, const std::string& xp) {
                 std::optional<Duration> d;
                 if (x.is_string()) {
                   if (auto parsed = ParseDuration(x.get<std::string>()); parsed.ok()) d = *parsed;
                 }
                 if (!d || *d < std::chrono::milliseconds(50) || *d > std::chrono::hours(1)) {
                   return Error(xp, x, kIntervalAllowed);
                 }
                 guard.interval = *d;
               }},
              {"for", false, "",
               [&](const ojson& x, const std::string& xp) {
                 if (auto n = Integer(x, xp, 1, 1000, "an integer from 1 to 1000")) {
                   guard.for_samples = static_cast<int>(*n);
                 }
               }},
              {"min_samples", false, "",
               [&](const ojson& x, const std::string& xp) {
                 if (auto n = Integer(x, xp, 1, 1000, "an integer from 1 to 1000")) {
                   guard.min_samples = static_cast<int>(*n);
                 }
               }},
              {"on_no_data", false, "", policy(&guard.abort_on_no_data)},
              {"on_error", false, "", policy(&guard.abort_on_error)}});
  const auto [it, inserted] = guard_names_.emplace(guard.name, p);
  if (!inserted) {
    Error(name_pointer, guard.name,
          "a name not used by another guard (" + it->second + " uses it)");
  }
  if (errors_.size() != before) return std::nullopt;
  return guard;
}

void ExperimentReader::ReadCondition(const ojson& v, const std::string& p, GuardSpec& guard) {
  if (!v.is_object() || v.empty()) return Error(p, v, kConditionAllowed);
  const size_t before = errors_.size();
  auto number = [this](std::optional<double>* into) {
    return [this, into](const ojson& x, const std::string& xp) {
      *into = Number(x, xp, "a number", [](double) { return true; });
    };
  };
  auto ratio = [this](std::optional<double>* into) {
    return [this, into](const ojson& x, const std::string& xp) {
      *into = Number(x, xp, "a number greater than 0 (a factor of the baseline)",
                     [](double d) { return d > 0; });
    };
  };
  ReadObject(v, p,
             {{"min", false, "", number(&guard.min)},
              {"max", false, "", number(&guard.max)},
              {"min_vs_baseline", false, "", ratio(&guard.min_vs_baseline)},
              {"max_vs_baseline", false, "", ratio(&guard.max_vs_baseline)}});
  if (errors_.size() != before) return;
  if (guard.min && guard.max && *guard.min > *guard.max) {
    Error(p, v, "{\"min\": x, \"max\": y} with min at most max");
  }
  if (guard.min_vs_baseline && guard.max_vs_baseline &&
      *guard.min_vs_baseline > *guard.max_vs_baseline) {
    Error(p, v, "{\"min_vs_baseline\": a, \"max_vs_baseline\": b} with a at most b");
  }
}

// A source object, validated, with the defaults of its type filled in.
std::optional<ojson> ExperimentReader::ReadSource(const ojson& v, const std::string& p) {
  if (!v.is_object()) {
    Error(p, v, kSourceObject);
    return std::nullopt;
  }
  const auto type_it = v.find("type");
  if (type_it == v.end()) {
    errors_.Add(Child(p, "type"), kFoundMissing, kSourceTypes);
    return std::nullopt;
  }
  static const std::set<std::string> kTypes = {"promql", "scrape", "probe_stats", "probe",
                                               "affected_fraction"};
  const std::string type = type_it->is_string() ? type_it->get<std::string>() : "";
  if (kTypes.count(type) == 0) {
    Error(Child(p, "type"), *type_it, kSourceTypes);
    return std::nullopt;
  }
  ojson out = v;
  auto ignore = [](const ojson&, const std::string&) {};
  auto url = [&](const ojson& x, const std::string& xp) { Url(x, xp); };
  auto positive_duration = [&](const ojson& x, const std::string& xp) {
    DurationValue(x, xp, true);
  };
  auto probe = [&](const ojson& x, const std::string& xp) { ReadProbe(x, xp, 0); };
  auto timeout = [&](const ojson& x, const std::string& xp) {
    if (auto d = DurationValue(x, xp, true)) timeouts_.emplace_back(xp, *d);
  };
  const size_t before = errors_.size();
  if (type == "promql") {
    ReadObject(
        v, p,
        {{"type", true, "", ignore},
         {"url", true, kUrlAllowed, url},
         {"query", true, kNonEmptyString,
          [&](const ojson& x, const std::string& xp) { String(x, xp, true, kNonEmptyString); }},
         {"timeout", false, "", timeout}});
  } else if (type == "scrape") {
    std::string stat = "value";
    ReadObject(v, p,
               {{"type", true, "", ignore},
                {"url", true, kUrlAllowed, url},
                {"metric", true, kMetricNameAllowed,
                 [&](const ojson& x, const std::string& xp) {
                   if (!x.is_string() || !IsMetricName(x.get<std::string>())) {
                     Error(xp, x, kMetricNameAllowed);
                   }
                 }},
                {"labels", false, "",
                 [&](const ojson& x, const std::string& xp) {
                   if (!x.is_object()) return Error(xp, x, "an object of label names to strings");
                   for (const auto& [name, value] : x.items()) {
                     if (!value.is_string()) Error(Child(xp, name), value, kAString);
                   }
                 }},
                {"stat", false, "",
                 [&](const ojson& x, const std::string& xp) {
                   if (auto s = OneOfNames(x, xp, {"value", "rate", "quantile"})) stat = *s;
                 }},
                {"quantile", false, "",
                 [&](const ojson& x, const std::string& xp) {
                   Number(x, xp, "a number from 0 to 1", [](double d) { return d >= 0 && d <= 1; });
                 }},
                {"window", false, "", positive_duration},
                {"timeout", false, "", timeout}});
    if (stat == "quantile" && !v.contains("quantile")) {
      errors_.Add(Child(p, "quantile"), kFoundMissing, "a number from 0 to 1 (stat quantile)");
    }
    if (stat != "quantile" && v.contains("quantile")) {
      Error(Child(p, "quantile"), v["quantile"], "only with stat quantile");
    }
    if (stat == "value" && v.contains("window")) {
      Error(Child(p, "window"), v["window"], "only with stat rate or quantile");
    }
    out["stat"] = stat;
    if (!v.contains("labels")) out["labels"] = ojson::object();
    if (stat != "value" && !v.contains("window")) out["window"] = "10s";
  } else if (type == "probe_stats") {
    ReadObject(v, p,
               {{"type", true, "", ignore},
                {"probe", true, kProbeObject, probe},
                {"rate", false, "",
                 [&](const ojson& x, const std::string& xp) {
                   Number(x, xp, "a number greater than 0 and at most 100 (probes per second)",
                          [](double d) { return d > 0 && d <= 100; });
                 }},
                {"window", false, "", positive_duration},
                {"stat", true, "one of success_ratio, p50, p99, mean",
                 [&](const ojson& x, const std::string& xp) {
                   OneOfNames(x, xp, {"success_ratio", "p50", "p99", "mean"});
                 }}});
    if (!v.contains("rate")) out["rate"] = 10;
    if (!v.contains("window")) out["window"] = "5s";
  } else if (type == "probe") {
    ReadObject(v, p, {{"type", true, "", ignore}, {"probe", true, kProbeObject, probe}});
  } else {  // affected_fraction
    ReadObject(
        v, p,
        {{"type", true, "", ignore},
         {"target", false, "", [&](const ojson& x, const std::string& xp) { TargetRef(x, xp); }},
         {"probes", false, "", [&](const ojson& x, const std::string& xp) {
            if (!x.is_array() || x.empty()) {
              return Error(xp, x, "a non-empty array of probe objects");
            }
            for (size_t i = 0; i < x.size(); ++i) ReadProbe(x[i], Child(xp, i), i);
          }}});
    if (v.contains("target") == v.contains("probes")) {
      Error(p, v, "exactly one of target, probes");
    }
  }
  if (errors_.size() != before) return std::nullopt;
  return out;
}

}  // namespace ringfence::internal
