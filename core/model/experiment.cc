#include "core/model/experiment.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <set>
#include <sstream>

#include "core/base/input_file.h"
#include "core/base/placeholders.h"
#include "core/model/fault_catalog.h"
#include "core/model/inventory.h"
#include "core/model/params.h"

namespace ringfence {

namespace {

using ojson = nlohmann::ordered_json;

// ---- Allowed texts (documented in docs/experiment-format.md) ----------------------------------

constexpr char kNonEmptyString[] = "a non-empty string";
constexpr char kAString[] = "a string";
constexpr char kBoolean[] = "true or false";
constexpr char kRegex[] = "an RE2 regular expression";
constexpr char kProbeObject[] = "a probe object";
constexpr char kProbeTypes[] = "one of http, tcp, command, process_alive";
constexpr char kToleranceAllowed[] =
    "a number, a string, [low, high], {\"min\": x, \"max\": y} or {\"regex\": \"…\"}";
constexpr char kProcessAllowed[] = "an object with one of pid, pidfile, name, cmdline";
constexpr char kSelectAllowed[] = "\"all\", {\"count\": N} or {\"percent\": P}";
constexpr char kMethodAllowed[] = "an array of at least one step";
constexpr char kArgvAllowed[] = "a non-empty array of strings";
constexpr char kGuardsAllowed[] = "an array of guards (docs/guards.md), or []";
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
constexpr char kNumberRangeAllowed[] =
    "a number from -1.7976931348623157e308 to 1.7976931348623157e308";
constexpr char kSizeAllowed[] = "a file of at most 1048576 bytes (1 MiB)";

std::string DurationAllowed(bool positive) {
  return std::string(kDurationAllowed) + (positive ? " (greater than 0)" : " (0 or more)");
}

std::string Child(const std::string& pointer, const std::string& key) {
  return pointer + "/" + JsonPointerToken(key);
}

std::string Child(const std::string& pointer, size_t index) {
  return pointer + "/" + std::to_string(index);
}

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

// An integral number (5 or 5.0) within [lo, hi].
std::optional<int64_t> IntegralIn(const ojson& v, int64_t lo, int64_t hi) {
  std::optional<int64_t> i;
  if (v.is_number_unsigned()) {
    if (v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      i = static_cast<int64_t>(v.get<uint64_t>());
    }
  } else if (v.is_number_integer()) {
    i = v.get<int64_t>();
  } else if (v.is_number_float()) {
    const double d = v.get<double>();
    if (d > -9.0e15 && d < 9.0e15 && d == static_cast<double>(static_cast<int64_t>(d))) {
      i = static_cast<int64_t>(d);
    }
  }
  if (i && *i >= lo && *i <= hi) return i;
  return std::nullopt;
}

// One known key of an object: how to read it, and what to say when a required one is missing.
struct Field {
  std::string key;
  bool required = false;
  std::string missing_allowed;
  std::function<void(const ojson& value, const std::string& pointer)> read;
};

// Reads the document into an Experiment, adding every problem to `errors`.
class ExperimentReader {
 public:
  ExperimentReader(const FaultCatalog& catalog, ValidationErrors& errors)
      : catalog_(catalog), errors_(errors) {}

  void Read(const ojson& doc, Experiment& out) {
    if (const auto it = doc.find("targets"); it != doc.end() && it->is_object()) {
      for (const auto& [name, value] : it->items()) target_names_.push_back(name);
    }
    std::vector<Field> fields = {
        {"version", true, "1", [&](const ojson& v, const std::string& p) {
           if (!IntegralIn(v, 1, 1)) Error(p, v, "1");
         }},
        {"title", true, kNonEmptyString, [&](const ojson& v, const std::string& p) {
           if (auto s = String(v, p, true, kNonEmptyString)) out.title = *s;
         }},
        {"description", false, "", [&](const ojson& v, const std::string& p) {
           if (auto s = String(v, p, false, kAString)) out.description = *s;
         }},
        {"tags", false, "", [&](const ojson& v, const std::string& p) {
           if (auto tags = Strings(v, p, "an array of strings", false)) out.tags = *tags;
         }},
        {"targets", false, "", [&](const ojson& v, const std::string& p) {
           ReadTargets(v, p, out);
         }},
        {"steady_state", false, "", [&](const ojson& v, const std::string& p) {
           if (!v.is_array()) return Error(p, v, "an array of probes");
           for (size_t i = 0; i < v.size(); ++i) {
             if (auto probe = ReadProbe(v[i], Child(p, i), i)) out.steady_state.push_back(*probe);
           }
         }},
        {"method", true, kMethodAllowed, [&](const ojson& v, const std::string& p) {
           if (!v.is_array() || v.empty()) return Error(p, v, kMethodAllowed);
           for (size_t i = 0; i < v.size(); ++i) {
             if (auto step = ReadStep(v[i], Child(p, i), i)) out.method.push_back(*step);
           }
         }},
        {"guards", true, kGuardsAllowed, [&](const ojson& v, const std::string& p) {
           if (!v.is_array()) return Error(p, v, kGuardsAllowed);
           for (size_t i = 0; i < v.size(); ++i) {
             if (auto guard = ReadGuard(v[i], Child(p, i), i)) out.guards.push_back(*guard);
           }
         }},
        {"rollbacks", false, "", [&](const ojson& v, const std::string& p) {
           if (!v.is_array()) return Error(p, v, "an array of rollbacks");
           for (size_t i = 0; i < v.size(); ++i) {
             if (auto r = ReadRollback(v[i], Child(p, i), i)) out.rollbacks.push_back(*r);
           }
         }},
        {"settings", false, "", [&](const ojson& v, const std::string& p) {
           ReadSettings(v, p, out.settings);
         }},
        {"inventory", false, "", [&](const ojson& v, const std::string& p) {
           if (v.is_string() && !v.get_ref<const std::string&>().empty()) {
             out.inventory = v.get<std::string>();
           } else if (v.is_object()) {
             ParseInventory(nlohmann::json(v), "", p, errors_, false);
             out.inventory = nlohmann::json(v);
           } else {
             Error(p, v, "a path to an inventory file or an inventory object");
           }
         }},
    };
    ReadObject(doc, "", fields);
    CheckTargetKinds(out);
    for (auto& target : out.targets) target.max_targets = out.settings.max_targets;

    // Probes without a timeout of their own take settings.probe_timeout, which may come later.
    auto default_timeout = [&](ProbeSpec& probe) {
      if (probes_with_timeout_.count(probe.pointer) == 0) {
        probe.timeout = out.settings.probe_timeout;
      }
    };
    for (auto& probe : out.steady_state) default_timeout(probe);
    for (auto& step : out.method) {
      if (step.kind == MethodStep::Kind::kProbe) default_timeout(step.probe);
    }
    // No wait may outlast settings.max_fault_lifetime either (a signal must never wait on it).
    for (const auto& [at, d] : timeouts_) {
      if (d > out.settings.max_fault_lifetime) {
        errors_.Add(at, FoundValue(doc.at(ojson::json_pointer(at))),
                    "at most settings.max_fault_lifetime (" +
                        FormatDuration(out.settings.max_fault_lifetime) + ")");
      }
    }
    // No fault may be asked to outlive settings.max_fault_lifetime (which may come later).
    for (const auto& step : out.method) {
      if (step.kind == MethodStep::Kind::kFault &&
          step.fault.duration > out.settings.max_fault_lifetime) {
        const std::string at = Child(step.pointer, "duration");
        errors_.Add(at, FoundValue(doc.at(ojson::json_pointer(at))),
                    "at most settings.max_fault_lifetime (" +
                        FormatDuration(out.settings.max_fault_lifetime) + ")");
      }
    }
  }

  // One probe object outside a document (a guard's source), against `experiment`'s targets and
  // settings.
  std::optional<ProbeSpec> ReadOneProbe(const ojson& v, const std::string& p,
                                        const Experiment& experiment) {
    for (const auto& t : experiment.targets) target_names_.push_back(t.name);
    std::optional<ProbeSpec> probe = ReadProbe(v, p, 0);
    if (probe && probes_with_timeout_.count(p) == 0) {
      probe->timeout = experiment.settings.probe_timeout;
    }
    return probe;
  }

 private:
  void Error(const std::string& pointer, const ojson& found, const std::string& allowed) {
    errors_.Add(pointer, FoundValue(found), allowed);
  }

  // Reads `object`'s members in document order: each known key through its field, each unknown
  // key as an error listing the known ones; then a `missing` error for each absent required key.
  void ReadObject(const ojson& object, const std::string& pointer,
                  const std::vector<Field>& fields) {
    std::vector<std::string> keys;
    for (const auto& f : fields) keys.push_back(f.key);
    for (const auto& [key, value] : object.items()) {
      const Field* field = nullptr;
      for (const auto& f : fields) {
        if (f.key == key) field = &f;
      }
      if (field == nullptr) {
        errors_.Add(Child(pointer, key), kFoundUnknownKey, OneOf(keys));
      } else {
        field->read(value, Child(pointer, key));
      }
    }
    for (const auto& f : fields) {
      if (f.required && !object.contains(f.key)) {
        errors_.Add(Child(pointer, f.key), kFoundMissing, f.missing_allowed);
      }
    }
  }

  std::optional<std::string> String(const ojson& v, const std::string& p, bool non_empty,
                                    const std::string& allowed) {
    if (!v.is_string() || (non_empty && v.get_ref<const std::string&>().empty())) {
      Error(p, v, allowed);
      return std::nullopt;
    }
    return v.get<std::string>();
  }

  // A string compiled as a Regex, once; RE2's reason for refusing it goes into `allowed`.
  std::optional<Regex> RegexValue(const ojson& v, const std::string& p, bool non_empty,
                                  const std::string& allowed) {
    auto s = String(v, p, non_empty, allowed);
    if (!s) return std::nullopt;
    Regex regex(std::move(*s));
    if (!regex.ok()) {
      Error(p, v, allowed + " (" + regex.error() + ")");
      return std::nullopt;
    }
    return regex;
  }

  std::optional<bool> Bool(const ojson& v, const std::string& p) {
    if (!v.is_boolean()) {
      Error(p, v, kBoolean);
      return std::nullopt;
    }
    return v.get<bool>();
  }

  std::optional<Duration> DurationValue(const ojson& v, const std::string& p, bool positive) {
    if (v.is_string()) {
      auto d = ParseDuration(v.get<std::string>());
      if (d.ok() && (!positive || d->count() > 0)) return *d;
    }
    Error(p, v, DurationAllowed(positive));
    return std::nullopt;
  }

  std::optional<int64_t> Integer(const ojson& v, const std::string& p, int64_t lo, int64_t hi,
                                 const std::string& allowed) {
    auto i = IntegralIn(v, lo, hi);
    if (!i) Error(p, v, allowed);
    return i;
  }

  // An array of strings; element errors name the element. With `argv`, the array must not be
  // empty and its first element (the program) must not be empty either.
  std::optional<std::vector<std::string>> Strings(const ojson& v, const std::string& p,
                                                  const std::string& allowed, bool argv) {
    if (!v.is_array() || (argv && v.empty())) {
      Error(p, v, allowed);
      return std::nullopt;
    }
    std::vector<std::string> out;
    bool ok = true;
    for (size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_string()) {
        Error(Child(p, i), v[i], kAString);
        ok = false;
      } else if (argv && i == 0 && v[i].get_ref<const std::string&>().empty()) {
        Error(Child(p, i), v[i], "a program name or path");
        ok = false;
      } else {
        out.push_back(v[i].get<std::string>());
      }
    }
    if (!ok) return std::nullopt;
    return out;
  }

  std::string TargetAllowed() const {
    if (target_names_.empty()) return "the name of a target in /targets (there are none)";
    std::string names;
    for (const auto& n : target_names_) names += (names.empty() ? "" : ", ") + n;
    return "the name of a target in /targets (" + names + ")";
  }

  std::optional<std::string> TargetRef(const ojson& v, const std::string& p) {
    if (v.is_string()) {
      for (const auto& n : target_names_) {
        if (n == v.get_ref<const std::string&>()) return n;
      }
    }
    Error(p, v, TargetAllowed());
    return std::nullopt;
  }

  // ---- Targets -------------------------------------------------------------------------------

  void ReadTargets(const ojson& v, const std::string& p, Experiment& out) {
    if (!v.is_object()) return Error(p, v, "an object of targets by name");
    for (const auto& [name, spec] : v.items()) {
      const std::string at = Child(p, name);
      if (name.empty()) {
        Error(at, name, "a non-empty target name");
        continue;
      }
      if (!spec.is_object()) {
        Error(at, spec, "a target object");
        continue;
      }
      TargetSpec target;
      target.name = name;
      target.pointer = at;
      const size_t before = errors_.size();
      // On inventory hosts a target may name the hosts alone (for host faults).
      const bool on_hosts = spec.contains("hosts");
      target.has_process = spec.contains("process") || !on_hosts;
      ReadObject(spec, at,
                 {{"process", !on_hosts, kProcessAllowed,
                   [&](const ojson& pv, const std::string& pp) {
                     ReadProcess(pv, pp, target.process);
                   }},
                  {"hosts", false, "",
                   [&](const ojson& hv, const std::string& hp) {
                     target.hosts.emplace();
                     ReadHosts(hv, hp, *target.hosts);
                   }},
                  {"select", false, "",
                   [&](const ojson& sv, const std::string& sp) {
                     ReadSelect(sv, sp, target.select);
                   }},
                  {"allow_empty", false, "", [&](const ojson& bv, const std::string& bp) {
                     if (auto b = Bool(bv, bp)) target.allow_empty = *b;
                   }}});
      if (errors_.size() == before) out.targets.push_back(std::move(target));
    }
  }

  void ReadHosts(const ojson& v, const std::string& p, HostSelection& hosts) {
    constexpr char kHostsAllowed[] = "an object with tags or names";
    if (!v.is_object()) return Error(p, v, kHostsAllowed);
    ReadObject(v, p,
               {{"tags", false, "",
                 [&](const ojson& x, const std::string& xp) {
                   if (!x.is_object()) return Error(xp, x, "an object of tag names to values");
                   for (const auto& [key, value] : x.items()) {
                     if (!value.is_string()) {
                       Error(Child(xp, key), value, kAString);
                       continue;
                     }
                     hosts.tags[key] = value.get<std::string>();
                   }
                 }},
                {"names", false, "",
                 [&](const ojson& x, const std::string& xp) {
                   if (auto n = Strings(x, xp, "an array of host names", false)) {
                     if (n->empty()) return Error(xp, x, "an array of at least one host name");
                     hosts.names = *n;
                   }
                 }},
                {"select", false, "",
                 [&](const ojson& x, const std::string& xp) { ReadSelect(x, xp, hosts.select); }},
                {"allow_full_blast", false, "", [&](const ojson& x, const std::string& xp) {
                   if (auto b = Bool(x, xp)) hosts.allow_full_blast = *b;
                 }}});
    if (v.contains("tags") && v.contains("names")) {
      Error(p, v, "tags or names, not both");
    }
  }

  // A process fault needs a target with a process selector; a host fault takes no target, or
  // a target that names inventory hosts only.
  void CheckTargetKinds(const Experiment& out) {
    for (const auto& step : out.method) {
      if (step.kind != MethodStep::Kind::kFault || step.fault.target.empty()) continue;
      const TargetSpec* spec = out.FindTarget(step.fault.target);
      const FaultSchema* factory = catalog_.FindSchema(step.fault.type);
      if (spec == nullptr || factory == nullptr) continue;
      const bool host_fault = factory->Declaration().target_kind == TargetKind::kHost;
      const std::string at = Child(step.pointer, "target");
      if (host_fault && spec->has_process) {
        errors_.Add(at, FoundValue(nlohmann::json(step.fault.target)),
                    "a target with hosts and no process: " + step.fault.type +
                        " acts on the hosts themselves");
      } else if (!host_fault && !spec->has_process) {
        errors_.Add(at, FoundValue(nlohmann::json(step.fault.target)),
                    "a target with a process selector: " + step.fault.type + " acts on processes");
      }
    }
  }

  void ReadProcess(const ojson& v, const std::string& p, ProcessSelector& sel) {
    if (!v.is_object()) return Error(p, v, kProcessAllowed);
    ReadObject(
        v, p,
        {{"pid", false, "",
          [&](const ojson& x, const std::string& xp) {
            if (auto pid = Integer(x, xp, 2, 4194304, "an integer from 2 to 4194304")) {
              sel.pid = static_cast<int>(*pid);
            }
          }},
         {"pidfile", false, "",
          [&](const ojson& x, const std::string& xp) {
            sel.pidfile = String(x, xp, true, "a non-empty path");
          }},
         {"name", false, "",
          [&](const ojson& x, const std::string& xp) {
            if (!x.is_string() || x.get_ref<const std::string&>().empty() ||
                x.get_ref<const std::string&>().size() > 15) {
              return Error(xp, x, "a process name of 1 to 15 characters");
            }
            // /proc/PID/comm never holds a NUL: such a name would match nothing, silently.
            if (x.get_ref<const std::string&>().find('\0') != std::string::npos) {
              return Error(xp, x, "a process name without NUL characters");
            }
            sel.name = x.get<std::string>();
          }},
         {"cmdline", false, "",
          [&](const ojson& x, const std::string& xp) {
            sel.cmdline = RegexValue(x, xp, true, "a non-empty RE2 regular expression");
          }},
         {"user", false, "", [&](const ojson& x, const std::string& xp) {
            sel.user = String(x, xp, true, "a non-empty string (a user name or numeric uid)");
          }}});
    int selectors = 0;
    for (const char* key : {"pid", "pidfile", "name", "cmdline"}) selectors += v.contains(key);
    if (selectors != 1) Error(p, v, "exactly one of pid, pidfile, name, cmdline");
  }

  void ReadSelect(const ojson& v, const std::string& p, Selection& sel) {
    if (v.is_string() && v.get_ref<const std::string&>() == "all") {
      sel.mode = SelectionMode::kAll;
      return;
    }
    if (!v.is_object() || v.size() != 1) return Error(p, v, kSelectAllowed);
    ReadObject(v, p,
               {{"count", false, "",
                 [&](const ojson& x, const std::string& xp) {
                   if (auto n = Integer(x, xp, 1, std::numeric_limits<int>::max(),
                                        "an integer of at least 1")) {
                     sel.mode = SelectionMode::kCount;
                     sel.count = static_cast<int>(*n);
                   }
                 }},
                {"percent", false, "", [&](const ojson& x, const std::string& xp) {
                   if (!x.is_number() || !(x.get<double>() > 0) || x.get<double>() > 100) {
                     return Error(xp, x, "a number greater than 0 and at most 100");
                   }
                   sel.mode = SelectionMode::kPercent;
                   sel.percent = x.get<double>();
                 }}});
  }

  // ---- Probes --------------------------------------------------------------------------------

  std::optional<Tolerance> ReadTolerance(const ojson& v, const std::string& p) {
    Tolerance t;
    if (v.is_number() || v.is_string()) {
      t.kind = Tolerance::Kind::kExact;
      t.exact = nlohmann::json(v);
      return t;
    }
    if (v.is_array()) {
      if (v.size() != 2 || !v[0].is_number() || !v[1].is_number()) {
        Error(p, v, kToleranceAllowed);
        return std::nullopt;
      }
      if (v[0].get<double>() > v[1].get<double>()) {
        Error(p, v, "a range [low, high] with low at most high");
        return std::nullopt;
      }
      t.kind = Tolerance::Kind::kRange;
      t.min = v[0].get<double>();
      t.max = v[1].get<double>();
      return t;
    }
    if (!v.is_object() || v.empty() || (v.contains("regex") && v.size() > 1)) {
      Error(p, v, kToleranceAllowed);
      return std::nullopt;
    }
    const size_t before = errors_.size();
    auto number = [this](std::optional<double>* into) {
      return [this, into](const ojson& x, const std::string& xp) {
        if (!x.is_number()) return Error(xp, x, "a number");
        *into = x.get<double>();
      };
    };
    ReadObject(v, p,
               {{"min", false, "", number(&t.min)},
                {"max", false, "", number(&t.max)},
                {"regex", false, "", [&](const ojson& x, const std::string& xp) {
                   if (auto re = RegexValue(x, xp, false, kRegex)) {
                     t.kind = Tolerance::Kind::kRegex;
                     t.regex = *re;
                   }
                 }}});
    if (errors_.size() != before) return std::nullopt;
    if (t.kind != Tolerance::Kind::kRegex) {
      t.kind = Tolerance::Kind::kRange;
      if (t.min && t.max && *t.min > *t.max) {
        Error(p, v, "{\"min\": x, \"max\": y} with min at most max");
        return std::nullopt;
      }
    }
    return t;
  }

  std::optional<ProbeSpec> ReadProbe(const ojson& v, const std::string& p, size_t index) {
    if (!v.is_object()) {
      Error(p, v, kProbeObject);
      return std::nullopt;
    }
    const auto type_it = v.find("type");
    if (type_it == v.end()) {
      errors_.Add(Child(p, "type"), kFoundMissing, kProbeTypes);
      return std::nullopt;
    }
    static const std::map<std::string, ProbeType> kTypes = {
        {"http", ProbeType::kHttp},
        {"tcp", ProbeType::kTcp},
        {"command", ProbeType::kCommand},
        {"process_alive", ProbeType::kProcessAlive}};
    const auto type = type_it->is_string() ? kTypes.find(type_it->get<std::string>())
                                           : kTypes.end();
    if (type == kTypes.end()) {
      Error(Child(p, "type"), *type_it, kProbeTypes);
      return std::nullopt;
    }
    ProbeSpec probe;
    probe.type = type->second;
    probe.pointer = p;
    probe.name = type->first + "-" + std::to_string(index);
    switch (probe.type) {
      case ProbeType::kHttp:
        probe.tolerance.exact = 200;
        break;
      case ProbeType::kCommand:
        probe.tolerance.exact = 0;
        break;
      case ProbeType::kProcessAlive:
        probe.tolerance.kind = Tolerance::Kind::kRange;
        probe.tolerance.min = 1;
        break;
      case ProbeType::kTcp:
        probe.tolerance.exact = true;
        break;
    }
    auto tolerance = [&](const ojson& x, const std::string& xp) {
      if (auto t = ReadTolerance(x, xp)) probe.tolerance = *t;
    };
    std::vector<Field> fields = {
        {"type", true, "", [](const ojson&, const std::string&) {}},
        {"name", false, "",
         [&](const ojson& x, const std::string& xp) {
           if (auto s = String(x, xp, true, kNonEmptyString)) probe.name = *s;
         }},
    };
    switch (probe.type) {
      case ProbeType::kHttp:
        fields.push_back({"url", true, "a URL starting with http:// or https://",
                          [&](const ojson& x, const std::string& xp) {
                            const bool ok = x.is_string() &&
                                            (x.get<std::string>().rfind("http://", 0) == 0 ||
                                             x.get<std::string>().rfind("https://", 0) == 0);
                            if (!ok) return Error(xp, x, "a URL starting with http:// or https://");
                            probe.url = x.get<std::string>();
                          }});
        fields.push_back({"method", false, "", [&](const ojson& x, const std::string& xp) {
                            if (x != "GET" && x != "HEAD" && x != "POST") {
                              return Error(xp, x, "one of GET, HEAD, POST");
                            }
                            probe.method = x.get<std::string>();
                          }});
        fields.push_back({"status", false, "", tolerance});
        fields.push_back({"body_regex", false, "", [&](const ojson& x, const std::string& xp) {
                            probe.body_regex = RegexValue(x, xp, false, kRegex);
                          }});
        break;
      case ProbeType::kTcp:
        fields.push_back({"address", false, "", [&](const ojson& x, const std::string& xp) {
                            if (auto s = String(x, xp, true, "a host name or IP address")) {
                              probe.address = *s;
                            }
                          }});
        fields.push_back({"port", true, "an integer from 1 to 65535",
                          [&](const ojson& x, const std::string& xp) {
                            if (auto n = Integer(x, xp, 1, 65535, "an integer from 1 to 65535")) {
                              probe.port = static_cast<int>(*n);
                            }
                          }});
        break;
      case ProbeType::kCommand:
        fields.push_back({"argv", true, kArgvAllowed, [&](const ojson& x, const std::string& xp) {
                            if (auto a = Strings(x, xp, kArgvAllowed, true)) probe.argv = *a;
                          }});
        fields.push_back({"exit_code", false, "", tolerance});
        fields.push_back({"stdout_regex", false, "", [&](const ojson& x, const std::string& xp) {
                            probe.stdout_regex = RegexValue(x, xp, false, kRegex);
                          }});
        break;
      case ProbeType::kProcessAlive:
        fields.push_back({"target", true, TargetAllowed(),
                          [&](const ojson& x, const std::string& xp) {
                            if (auto t = TargetRef(x, xp)) probe.target = *t;
                          }});
        fields.push_back({"count", false, "", tolerance});
        break;
    }
    fields.push_back({"timeout", false, "", [&](const ojson& x, const std::string& xp) {
                        if (auto d = DurationValue(x, xp, true)) {
                          probe.timeout = *d;
                          probes_with_timeout_.insert(p);
                          timeouts_.emplace_back(xp, *d);
                        }
                      }});
    const size_t before = errors_.size();
    ReadObject(v, p, fields);
    if (errors_.size() != before) return std::nullopt;
    return probe;
  }

  // ---- Method --------------------------------------------------------------------------------

  std::string StepTypesAllowed() const {
    std::string names;
    for (const FaultSchema* f : catalog_.Schemas()) {
      names += (names.empty() ? "" : ", ") + f->Declaration().name;
    }
    return "a fault type (" + (names.empty() ? std::string("none registered") : names) +
           "), \"wait\" or \"probe\"";
  }

  std::optional<MethodStep> ReadStep(const ojson& v, const std::string& p, size_t index) {
    if (!v.is_object()) {
      Error(p, v, "a step object");
      return std::nullopt;
    }
    const auto type_it = v.find("type");
    if (type_it == v.end()) {
      errors_.Add(Child(p, "type"), kFoundMissing, StepTypesAllowed());
      return std::nullopt;
    }
    const std::string type = type_it->is_string() ? type_it->get<std::string>() : "";
    const FaultSchema* factory = type.empty() ? nullptr : catalog_.FindSchema(type);
    if (type != "wait" && type != "probe" && factory == nullptr) {
      Error(Child(p, "type"), *type_it, StepTypesAllowed());
      return std::nullopt;
    }
    auto ignore = [](const ojson&, const std::string&) {};
    MethodStep step;
    step.pointer = p;
    const size_t before = errors_.size();
    if (type == "wait") {
      step.kind = MethodStep::Kind::kWait;
      ReadObject(v, p,
                 {{"type", true, "", ignore},
                  {"duration", true, DurationAllowed(false),
                   [&](const ojson& x, const std::string& xp) {
                     if (auto d = DurationValue(x, xp, false)) step.wait.duration = *d;
                   }}});
    } else if (type == "probe") {
      step.kind = MethodStep::Kind::kProbe;
      ReadObject(v, p,
                 {{"type", true, "", ignore},
                  {"probe", true, kProbeObject, [&](const ojson& x, const std::string& xp) {
                     if (auto probe = ReadProbe(x, xp, index)) step.probe = *probe;
                   }}});
    } else {
      step.kind = MethodStep::Kind::kFault;
      ReadFault(v, p, index, *factory, step.fault);
    }
    if (errors_.size() != before) return std::nullopt;
    return step;
  }

  void ReadFault(const ojson& v, const std::string& p, size_t index, const FaultSchema& factory,
                 FaultStep& fault) {
    const FaultDecl& decl = factory.Declaration();
    fault.type = decl.name;
    fault.name = decl.name + "-" + std::to_string(index);
    std::string name_pointer = p;
    nlohmann::json params = nlohmann::json::object();
    ReadObject(
        v, p,
        {{"type", true, "", [](const ojson&, const std::string&) {}},
         {"name", false, "",
          [&](const ojson& x, const std::string& xp) {
            if (auto s = String(x, xp, true, kNonEmptyString)) {
              fault.name = *s;
              name_pointer = xp;
            }
          }},
         // Host faults act on the host itself: no target, or one that names inventory hosts.
         {"target", decl.target_kind == TargetKind::kProcess, TargetAllowed(),
          [&](const ojson& x, const std::string& xp) {
            // A host fault takes a target only to name inventory hosts (CheckTargetKinds).
            if (auto t = TargetRef(x, xp)) fault.target = *t;
          }},
         {"params", false, "", [&](const ojson& x, const std::string&) { params = x; }},
         {"duration", true, DurationAllowed(true),
          [&](const ojson& x, const std::string& xp) {
            if (auto d = DurationValue(x, xp, true)) fault.duration = *d;
          }},
         {"start_after", false, "", [&](const ojson& x, const std::string& xp) {
            if (auto d = DurationValue(x, xp, false)) fault.start_after = *d;
          }}});

    const std::string params_pointer = Child(p, "params");
    const size_t before = errors_.size();
    ValidateParams(decl, params, params_pointer, errors_);
    if (errors_.size() == before) {
      fault.params = WithDefaults(decl, params);
      factory.ValidateConfig(fault.params, params_pointer, errors_);
    }

    const auto [it, inserted] = fault_names_.emplace(fault.name, p);
    if (!inserted) {
      Error(name_pointer, fault.name,
            "a name not used by another fault step (" + it->second + " uses it)");
    }
  }

  // ---- Guards --------------------------------------------------------------------------------

  std::optional<double> Number(const ojson& v, const std::string& p, const std::string& allowed,
                               const std::function<bool(double)>& ok) {
    if (!v.is_number() || !ok(v.get<double>())) {
      Error(p, v, allowed);
      return std::nullopt;
    }
    return v.get<double>();
  }

  std::optional<std::string> OneOfNames(const ojson& v, const std::string& p,
                                        const std::vector<std::string>& names) {
    if (v.is_string()) {
      for (const auto& n : names) {
        if (n == v.get_ref<const std::string&>()) return n;
      }
    }
    Error(p, v, OneOf(names));
    return std::nullopt;
  }

  std::optional<std::string> Url(const ojson& v, const std::string& p) {
    const bool ok = v.is_string() && (v.get<std::string>().rfind("http://", 0) == 0 ||
                                      v.get<std::string>().rfind("https://", 0) == 0);
    if (!ok) {
      Error(p, v, kUrlAllowed);
      return std::nullopt;
    }
    return v.get<std::string>();
  }

  std::optional<GuardSpec> ReadGuard(const ojson& v, const std::string& p, size_t index) {
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
    ReadObject(
        v, p,
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

  void ReadCondition(const ojson& v, const std::string& p, GuardSpec& guard) {
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
  std::optional<ojson> ReadSource(const ojson& v, const std::string& p) {
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
      ReadObject(v, p,
                 {{"type", true, "", ignore},
                  {"url", true, kUrlAllowed, url},
                  {"query", true, kNonEmptyString,
                   [&](const ojson& x, const std::string& xp) {
                     String(x, xp, true, kNonEmptyString);
                   }},
                  {"timeout", false, "", timeout}});
    } else if (type == "scrape") {
      std::string stat = "value";
      ReadObject(
          v, p,
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
      ReadObject(v, p,
                 {{"type", true, "", ignore},
                  {"target", false, "",
                   [&](const ojson& x, const std::string& xp) { TargetRef(x, xp); }},
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

  // ---- Rollbacks and settings ----------------------------------------------------------------

  std::optional<RollbackSpec> ReadRollback(const ojson& v, const std::string& p, size_t index) {
    if (!v.is_object()) {
      Error(p, v, "a rollback object");
      return std::nullopt;
    }
    RollbackSpec r;
    r.name = "rollback-" + std::to_string(index);
    const size_t before = errors_.size();
    ReadObject(v, p,
               {{"name", false, "",
                 [&](const ojson& x, const std::string& xp) {
                   if (auto s = String(x, xp, true, kNonEmptyString)) r.name = *s;
                 }},
                {"argv", true, kArgvAllowed,
                 [&](const ojson& x, const std::string& xp) {
                   if (auto a = Strings(x, xp, kArgvAllowed, true)) r.argv = *a;
                 }},
                {"timeout", false, "", [&](const ojson& x, const std::string& xp) {
                   if (auto d = DurationValue(x, xp, true)) {
                     r.timeout = *d;
                     timeouts_.emplace_back(xp, *d);
                   }
                 }}});
    if (errors_.size() != before) return std::nullopt;
    return r;
  }

  void ReadSettings(const ojson& v, const std::string& p, Settings& s) {
    if (!v.is_object()) return Error(p, v, "an object");
    ReadObject(v, p,
               {{"seed", false, "",
                 [&](const ojson& x, const std::string& xp) {
                   if (!x.is_number_unsigned()) return Error(xp, x, "an unsigned integer");
                   s.seed = x.get<uint64_t>();
                 }},
                {"probe_timeout", false, "",
                 [&](const ojson& x, const std::string& xp) {
                   if (auto d = DurationValue(x, xp, true)) {
                     s.probe_timeout = *d;
                     timeouts_.emplace_back(xp, *d);
                   }
                 }},
                {"revert_attempts", false, "",
                 [&](const ojson& x, const std::string& xp) {
                   if (auto n = Integer(x, xp, 1, 10, "an integer from 1 to 10")) {
                     s.revert_attempts = static_cast<int>(*n);
                   }
                 }},
                {"max_concurrency", false, "",
                 [&](const ojson& x, const std::string& xp) {
                   if (auto n = Integer(x, xp, 1, 1024, "an integer from 1 to 1024")) {
                     s.max_concurrency = static_cast<int>(*n);
                   }
                 }},
                {"on_unreachable", false, "",
                 [&](const ojson& x, const std::string& xp) {
                   if (x != "abort" && x != "skip") return Error(xp, x, "one of abort, skip");
                   s.skip_unreachable = x == "skip";
                 }},
                {"max_targets", false, "",
                 [&](const ojson& x, const std::string& xp) {
                   if (auto n = Integer(x, xp, 1, 1000000, "an integer from 1 to 1000000")) {
                     s.max_targets = static_cast<int>(*n);
                   }
                 }},
                {"max_fault_lifetime", false, "", [&](const ojson& x, const std::string& xp) {
                   if (auto d = DurationValue(x, xp, true)) {
                     if (*d > std::chrono::hours(24)) {
                       return Error(xp, x, "a duration greater than 0 and at most 24h");
                     }
                     s.max_fault_lifetime = *d;
                   }
                 }}});
  }

  const FaultCatalog& catalog_;
  ValidationErrors& errors_;
  std::vector<std::string> target_names_;        // keys of /targets, in file order
  std::set<std::string> probes_with_timeout_;    // pointers of probes with their own timeout
  // Every timeout read (pointer, value), checked against settings.max_fault_lifetime at the end.
  std::vector<std::pair<std::string, Duration>> timeouts_;
  std::map<std::string, std::string> fault_names_;  // fault step name → pointer of its step
  std::map<std::string, std::string> guard_names_;  // guard name → pointer of its guard
};

bool IsBlank(const std::string& text) {
  return text.find_first_not_of(" \t\r\n") == std::string::npos;
}

// The useful part of a parse_error message ("unexpected '}'; expected string literal").
std::string SyntaxReason(const std::string& what) {
  std::string reason = what;
  if (size_t at = reason.find("syntax error while parsing "); at != std::string::npos) {
    reason = reason.substr(at);
    if (size_t dash = reason.find(" - "); dash != std::string::npos) {
      reason = reason.substr(dash + 3);
    }
  } else if (size_t colon = reason.find(": "); colon != std::string::npos) {
    reason = reason.substr(colon + 2);
  }
  // A long token in "last read: '...'" is cut like any found value.
  if (size_t last = reason.find("last read: '"); last != std::string::npos) {
    size_t start = last + 12;
    size_t end = reason.find('\'', start);
    while (end != std::string::npos && end + 1 < reason.size() && reason[end + 1] != ';') {
      end = reason.find('\'', end + 1);
    }
    if (end == std::string::npos) end = reason.size();
    std::string token = reason.substr(start, end - start);
    if (token.size() > kMaxFoundChars) {
      size_t cut = kMaxFoundChars - 1;
      while (cut > 0 && (static_cast<unsigned char>(token[cut]) & 0xC0) == 0x80) --cut;
      reason.replace(start, end - start, token.substr(0, cut) + "…");
    }
  }
  return reason;
}

// Line and column (both 1-based) of the byte at 1-based offset `byte` in `text`.
std::pair<int, int> LineAndColumn(const std::string& text, size_t byte) {
  const size_t pos = std::min(byte == 0 ? 0 : byte - 1, text.size());
  int line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < pos; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return {line, static_cast<int>(pos - line_start + 1)};
}

// Watches the parser's events: refuses nesting deeper than kMaxExperimentDepth and finds keys
// given twice in one object (the parser would silently keep the last one).
class StructureCheck {
 public:
  using Event = ojson::parse_event_t;

  // The parser callback. `depth` is the number of containers around the event, so a container
  // starting at depth kMaxExperimentDepth would be level kMaxExperimentDepth + 1. Deeper
  // containers are discarded as they are parsed so that an absurd file builds no absurd tree.
  bool operator()(int depth, Event event, ojson& parsed) {
    if (ignored_levels_ > 0) {
      if (event == Event::object_start || event == Event::array_start) ++ignored_levels_;
      if (event == Event::object_end || event == Event::array_end) --ignored_levels_;
      return true;
    }
    switch (event) {
      case Event::object_start:
      case Event::array_start:
        if (depth >= kMaxExperimentDepth) {
          too_deep_ = true;
          ignored_levels_ = 1;
          return false;
        }
        frames_.push_back({event == Event::object_start, NextPointer(), {}, "", 0});
        return true;
      case Event::object_end:
      case Event::array_end:
        if (!frames_.empty()) frames_.pop_back();
        return true;
      case Event::key: {
        Frame& object = frames_.back();
        object.last_key = parsed.get<std::string>();
        if (!object.keys.insert(object.last_key).second) {
          duplicates_.push_back(Child(object.pointer, object.last_key));
        }
        return true;
      }
      case Event::value:
        if (!frames_.empty() && !frames_.back().is_object) ++frames_.back().next_index;
        return true;
    }
    return true;
  }

  bool too_deep() const { return too_deep_; }
  // The pointer of the value the parser is reading now (e.g. a number that overflowed).
  std::string ValuePointer() const {
    if (frames_.empty()) return "";
    const Frame& parent = frames_.back();
    if (parent.is_object) return Child(parent.pointer, parent.last_key);
    return Child(parent.pointer, parent.next_index);
  }
  // Pointers of keys given more than once, in document order.
  const std::vector<std::string>& duplicates() const { return duplicates_; }

 private:
  struct Frame {
    bool is_object;
    std::string pointer;
    std::set<std::string> keys;  // objects
    std::string last_key;        // objects
    size_t next_index;           // arrays
  };

  // The pointer of a container that starts now.
  std::string NextPointer() {
    if (frames_.empty()) return "";
    Frame& parent = frames_.back();
    if (parent.is_object) return Child(parent.pointer, parent.last_key);
    return Child(parent.pointer, parent.next_index++);
  }

  std::vector<Frame> frames_;
  int ignored_levels_ = 0;
  bool too_deep_ = false;
  std::vector<std::string> duplicates_;
};

// Parses `text`, refusing syntax errors, nesting deeper than kMaxExperimentDepth and duplicate
// keys (reported after the parse; the document is still returned then).
std::optional<ojson> Parse(const std::string& text, ValidationErrors& errors) {
  StructureCheck check;
  ojson doc;
  try {
    doc = ojson::parse(text, std::ref(check));
  } catch (const nlohmann::json::parse_error& e) {
    auto [line, column] = LineAndColumn(text, e.byte);
    errors.AddSyntax(line, column, "syntax error", SyntaxReason(e.what()));
    return std::nullopt;
  } catch (const nlohmann::json::out_of_range& e) {
    // 406: a number beyond a double ("1e400", a 400-digit integer): "number overflow parsing
    // '1e400'". Reported at the value's pointer with the number as found.
    std::string token = e.what();
    if (const size_t open = token.find('\''); open != std::string::npos) {
      token = token.substr(open + 1);
      if (!token.empty() && token.back() == '\'') token.pop_back();
    }
    if (token.size() > kMaxFoundChars) token = token.substr(0, kMaxFoundChars - 1) + "…";
    errors.Add(check.ValuePointer(), token, kNumberRangeAllowed);
    return std::nullopt;
  } catch (const nlohmann::json::exception& e) {
    errors.Add(check.ValuePointer(), "unreadable value",
               std::string("valid JSON (") + e.what() + ")");
    return std::nullopt;
  }
  if (check.too_deep()) {
    errors.Add("", "nesting deeper than 64 levels", "at most 64 levels of arrays and objects");
    return std::nullopt;
  }
  for (const auto& pointer : check.duplicates()) {
    errors.Add(pointer, "duplicate key", "each key at most once in an object");
  }
  return doc;
}

// The catalog of a load without one: no fault types.
const FaultCatalog& NoFaults() {
  class Empty : public FaultCatalog {
   public:
    const FaultSchema* FindSchema(const std::string&) const override { return nullptr; }
    std::vector<const FaultSchema*> Schemas() const override { return {}; }
  };
  static const Empty empty;
  return empty;
}

}  // namespace

const TargetSpec* Experiment::FindTarget(const std::string& name) const {
  for (const auto& t : targets) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

std::optional<ProbeSpec> ReadProbeObject(const nlohmann::json& probe, const std::string& pointer,
                                         const Experiment& experiment, ValidationErrors& errors) {
  return ExperimentReader(NoFaults(), errors)
      .ReadOneProbe(ojson(probe), pointer, experiment);
}

std::optional<Experiment> LoadExperimentText(const std::string& text, const LoadOptions& options,
                                             ValidationErrors& errors) {
  if (text.size() > kMaxExperimentBytes) {
    errors.Add("", std::to_string(text.size()) + " bytes", kSizeAllowed);
    return std::nullopt;
  }
  if (IsBlank(text)) {
    errors.Add("", "empty file", "a JSON object");
    return std::nullopt;
  }
  const size_t errors_before = errors.size();
  std::optional<ojson> doc = Parse(text, errors);
  if (!doc) return std::nullopt;
  if (!doc->is_object()) {
    errors.Add("", FoundValue(*doc), "a JSON object");
    return std::nullopt;
  }

  PlaceholderLookup lookup = [&options](const std::string& name) -> std::optional<std::string> {
    if (auto it = options.vars.find(name); it != options.vars.end()) return it->second;
    if (options.env) return options.env(name);
    if (const char* value = std::getenv(name.c_str())) return std::string(value);
    return std::nullopt;
  };
  ValidationErrors placeholder_errors;
  FillPlaceholders(*doc, lookup, "", placeholder_errors);

  const FaultCatalog& catalog = options.catalog != nullptr ? *options.catalog : NoFaults();
  Experiment experiment;
  ValidationErrors semantic_errors;
  ExperimentReader(catalog, semantic_errors).Read(*doc, experiment);

  // A string whose placeholder could not be filled is reported once, for the placeholder.
  std::set<std::string> unfilled;
  for (const auto& e : placeholder_errors.errors()) {
    unfilled.insert(e.pointer);
    errors.Add(e.pointer, e.found, e.allowed);
  }
  for (const auto& e : semantic_errors.errors()) {
    if (unfilled.count(e.pointer) == 0) errors.Add(e.pointer, e.found, e.allowed);
  }
  if (errors.size() != errors_before) return std::nullopt;

  experiment.document = nlohmann::json(*doc);
  return experiment;
}

std::optional<Experiment> LoadExperimentFile(const std::string& path, const LoadOptions& options,
                                             ValidationErrors& errors) {
  InputFileRefusal refusal;
  Result<std::string> text =
      ReadCommandLineInput(path, kMaxExperimentBytes, "JSON file", &refusal);
  if (!text.ok()) {
    errors.Add("", refusal.found, refusal.allowed);
    return std::nullopt;
  }
  return LoadExperimentText(*text, options, errors);
}

}  // namespace ringfence
