#include "core/model/dependency_map.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <map>
#include <set>
#include <tuple>

#include "core/base/input_file.h"
#include "core/base/json_fields.h"
#include "core/model/experiment.h"
#include "core/model/object_fields.h"

namespace ringfence {

std::string MapEndpoint::Format() const {
  return (ipv6 ? "[" + address + "]" : address) + ":" + std::to_string(port);
}

std::string DependencyKindName(DependencyKind kind) {
  switch (kind) {
    case DependencyKind::kHard:
      return "hard";
    case DependencyKind::kSoft:
      return "soft";
    case DependencyKind::kNone:
      return "none";
  }
  return "none";
}

std::string MapFaultKindName(MapFaultKind kind) {
  switch (kind) {
    case MapFaultKind::kLatency:
      return "latency";
    case MapFaultKind::kPartition:
      return "partition";
    case MapFaultKind::kKill:
      return "kill";
  }
  return "latency";
}

namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

// Allowed texts (docs/dependency-map.md).
constexpr char kMapAllowed[] = "a dependency map (docs/dependency-map.md)";
constexpr const char* kNameAllowed = kPlainNameAllowed;
constexpr char kEndpointAllowed[] =
    "an address and a port such as \"127.0.0.1:5432\" or \"[::1]:5432\" (names are not resolved)";
constexpr char kSlosAllowed[] = "an array of 1 to 20 guards (the service's SLOs, docs/guards.md)";
constexpr char kDependenciesAllowed[] = "an array of 1 to 100 dependencies";
constexpr char kFaultsAllowed[] = "an array of 1 to 3 faults";
constexpr char kTargetAllowed[] = "an \"endpoint\", a \"process\" or both";
constexpr char kWindowAllowed[] = "a duration such as \"250ms\", \"30s\", \"2m\" (100ms to 10m)";

std::optional<MapEndpoint> ParseEndpoint(const std::string& text) {
  MapEndpoint e;
  std::string port;
  if (!text.empty() && text[0] == '[') {
    const size_t close = text.find("]:");
    if (close == std::string::npos) return std::nullopt;
    e.address = text.substr(1, close - 1);
    port = text.substr(close + 2);
    e.ipv6 = true;
    in6_addr a{};
    if (inet_pton(AF_INET6, e.address.c_str(), &a) != 1) return std::nullopt;
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string::npos) return std::nullopt;
    e.address = text.substr(0, colon);
    port = text.substr(colon + 1);
    in_addr a{};
    if (inet_pton(AF_INET, e.address.c_str(), &a) != 1) return std::nullopt;
  }
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  e.port = std::stoi(port);
  if (e.port < 1 || e.port > 65535) return std::nullopt;
  return e;
}

// The parameters each map fault kind passes through to its fault (docs/dependency-map.md), with
// the defaults the map gives.
struct KindDeclaration {
  MapFaultKind kind;
  std::string fault_type;  // the registered fault
  std::vector<std::string> passed;
  json defaults;
};

const std::vector<KindDeclaration>& Kinds() {
  static const std::vector<KindDeclaration> kinds = {
      {MapFaultKind::kLatency, "latency", {"delay", "jitter", "direction"}, {{"delay", "200ms"}}},
      {MapFaultKind::kPartition, "network_partition", {"action"}, {{"action", "reject"}}},
      {MapFaultKind::kKill,
       "process_kill",
       {"signal", "grace", "restart_command", "expect_restart_within"},
       {{"signal", "SIGKILL"}}},
  };
  return kinds;
}

class MapReader {
 public:
  MapReader(const MapLoadOptions& options, ValidationErrors& errors)
      : options_(options), errors_(errors) {}

  void Read(const json& doc, DependencyMap& out) {
    if (!doc.is_object()) return Error("", doc, kMapAllowed);
    ReadObjectFields(
        doc, "",
        {{"version", true, "1",
          [&](const json& v, const std::string& p) {
            if (!(v.is_number_integer() && v.get<int64_t>() == 1)) Error(p, v, "1");
          }},
         {"title", true, "a non-empty string",
          [&](const json& v, const std::string& p) {
            if (auto s = String(v, p)) out.title = *s;
          }},
         {"service", true, "the service object",
          [&](const json& v, const std::string& p) { ReadService(v, p, out); }},
         {"discover", false, "",
          [&](const json& v, const std::string& p) {
            if (!v.is_boolean()) return Error(p, v, "true or false");
            out.discover = v.get<bool>();
          }},
         {"discover_window", false, "",
          [&](const json& v, const std::string& p) {
            auto d = v.is_string() ? ParseDuration(v.get<std::string>())
                                   : Result<Duration>(Status::InvalidInput(""));
            if (!d.ok() || *d < std::chrono::milliseconds(100) || *d > std::chrono::minutes(10)) {
              return Error(p, v, kWindowAllowed);
            }
            out.discover_window = *d;
          }},
         {"dependencies", true, kDependenciesAllowed,
          [&](const json& v, const std::string& p) {
            dependencies_ = {v, p};
          }}},
        errors_);
    // Dependencies after the service, whatever the key order: they are compared with it.
    if (dependencies_.second.empty()) return;
    const json& v = dependencies_.first;
    const std::string& p = dependencies_.second;
    if (!v.is_array() || v.empty() || v.size() > kMaxMapDependencies) {
      return Error(p, v, kDependenciesAllowed);
    }
    std::map<std::string, std::string> names;
    for (size_t i = 0; i < v.size(); ++i) {
      MapDependency dependency;
      dependency.pointer = ChildPointer(p, i);
      if (!ReadDependency(v[i], dependency, out)) continue;
      const auto [it, fresh] = names.emplace(dependency.name, dependency.pointer);
      if (!fresh) {
        errors_.Add(dependency.pointer + "/name", FoundValue(json(dependency.name)),
                    "a name no other dependency has (" + it->second + " has it)");
        continue;
      }
      out.dependencies.push_back(std::move(dependency));
    }
    if (!errors_.empty()) return;
    for (size_t d = 0; d < out.dependencies.size(); ++d) {
      for (size_t f = 0; f < out.dependencies[d].faults.size(); ++f) {
        BuildCell(out, d, f);
      }
    }
  }

 private:
  void Error(const std::string& pointer, const json& found, const std::string& allowed) {
    errors_.Add(pointer, FoundValue(found), allowed);
  }

  std::optional<std::string> String(const json& v, const std::string& p) {
    if (!v.is_string() || v.get_ref<const std::string&>().empty()) {
      Error(p, v, "a non-empty string");
      return std::nullopt;
    }
    return v.get<std::string>();
  }

  std::optional<std::string> Name(const json& v, const std::string& p) {
    if (!v.is_string() || !IsPlainName(v.get<std::string>())) {
      Error(p, v, kNameAllowed);
      return std::nullopt;
    }
    return v.get<std::string>();
  }

  std::optional<MapEndpoint> Endpoint(const json& v, const std::string& p) {
    std::optional<MapEndpoint> e;
    if (v.is_string()) e = ParseEndpoint(v.get<std::string>());
    if (!e) Error(p, v, kEndpointAllowed);
    return e;
  }

  std::optional<Duration> PositiveDuration(const json& v, const std::string& p,
                                           const std::string& why) {
    auto d = v.is_string() ? ParseDuration(v.get<std::string>())
                           : Result<Duration>(Status::InvalidInput(""));
    if (!d.ok() || d->count() <= 0) {
      Error(p, v, std::string(kDurationAllowed) + " (greater than 0: " + why + ")");
      return std::nullopt;
    }
    return *d;
  }

  void ReadService(const json& v, const std::string& p, DependencyMap& out) {
    ReadObjectFields(
        v, p,
        {{"name", true, kNameAllowed,
          [&](const json& x, const std::string& xp) {
            if (auto s = Name(x, xp)) out.service_name = *s;
          }},
         {"process", true, "a process selector (docs/experiment-format.md, targets)",
          [&](const json& x, const std::string&) { out.service_process = x; }},
         {"endpoint", false, "",
          [&](const json& x, const std::string& xp) { out.service_endpoint = Endpoint(x, xp); }},
         {"steady_state", false, "",
          [&](const json& x, const std::string& xp) {
            if (!x.is_array()) return Error(xp, x, "an array of probes");
            steady_state_ = x;
          }},
         {"slos", true, kSlosAllowed,
          [&](const json& x, const std::string& xp) {
            if (!x.is_array() || x.empty() || x.size() > 20) return Error(xp, x, kSlosAllowed);
            slos_ = x;
          }}},
        errors_);
  }

  bool ReadDependency(const json& v, MapDependency& dependency, const DependencyMap& out) {
    const std::string& p = dependency.pointer;
    const size_t before = errors_.size();
    json faults;
    ReadObjectFields(
        v, p,
        {{"name", true, kNameAllowed,
          [&](const json& x, const std::string& xp) {
            if (auto s = Name(x, xp)) dependency.name = *s;
          }},
         {"endpoint", false, "",
          [&](const json& x, const std::string& xp) { dependency.endpoint = Endpoint(x, xp); }},
         {"process", false, "",
          [&](const json& x, const std::string& xp) {
            if (!x.is_object()) return Error(xp, x, "a process selector");
            dependency.process = x;
          }},
         {"expect", false, "",
          [&](const json& x, const std::string& xp) {
            if (x == "hard") {
              dependency.expect = DependencyKind::kHard;
            } else if (x == "soft") {
              dependency.expect = DependencyKind::kSoft;
            } else {
              Error(xp, x, OneOf({"hard", "soft"}));
            }
          }},
         {"faults", true, kFaultsAllowed,
          [&](const json& x, const std::string& xp) {
            if (!x.is_array() || x.empty() || x.size() > 3) return Error(xp, x, kFaultsAllowed);
            faults = x;
          }}},
        errors_);
    if (errors_.size() != before || !v.is_object()) return false;
    if (!v.contains("endpoint") && !v.contains("process")) {
      errors_.Add(p, "no endpoint or process", kTargetAllowed);
      return false;
    }
    // The service itself is no dependency of its own.
    const json name(dependency.name);
    if (dependency.name == out.service_name) {
      Error(p, name, "a dependency other than the service itself (its name is /service/name)");
      return false;
    }
    if (dependency.endpoint && out.service_endpoint &&
        dependency.endpoint->Format() == out.service_endpoint->Format()) {
      Error(p, name,
            "a dependency other than the service itself (its endpoint is /service/endpoint, " +
                out.service_endpoint->Format() + ")");
      return false;
    }
    if (!dependency.process.is_null() && dependency.process == out.service_process) {
      Error(p, name,
            "a dependency other than the service itself (its process is /service/process)");
      return false;
    }
    std::set<MapFaultKind> seen;
    for (size_t i = 0; i < faults.size(); ++i) {
      ReadFault(faults[i], ChildPointer(p + "/faults", i), dependency, seen);
    }
    return errors_.size() == before;
  }

  void ReadFault(const json& v, const std::string& p, MapDependency& dependency,
                 std::set<MapFaultKind>& seen) {
    if (!v.is_object()) return Error(p, v, "a fault object");
    MapFault fault;
    fault.pointer = p;
    const KindDeclaration* decl = nullptr;
    // The kinds this dependency can take: network faults need its endpoint, kill its process.
    std::vector<std::string> possible;
    if (dependency.endpoint) possible.insert(possible.end(), {"latency", "partition"});
    if (!dependency.process.is_null()) possible.push_back("kill");
    auto kind = v.find("kind");
    if (kind == v.end()) {
      errors_.Add(p + "/kind", kFoundMissing, OneOf(possible));
    } else {
      for (const auto& k : Kinds()) {
        if (*kind == MapFaultKindName(k.kind)) decl = &k;
      }
      const bool fits = decl != nullptr &&
                        std::find(possible.begin(), possible.end(), MapFaultKindName(decl->kind)) !=
                            possible.end();
      if (!fits) {
        std::string why;
        if (decl != nullptr && decl->kind == MapFaultKind::kKill) {
          why = " (kill needs the dependency's \"process\")";
        } else if (decl != nullptr) {
          why = " (" + MapFaultKindName(decl->kind) + " needs the dependency's \"endpoint\")";
        }
        Error(p + "/kind", *kind, OneOf(possible) + why);
        return;
      }
      if (!seen.insert(decl->kind).second) {
        Error(p + "/kind", *kind, "a kind no other fault of this dependency has");
        return;
      }
    }
    if (decl == nullptr) return;
    fault.kind = decl->kind;
    json params = decl->defaults;
    std::vector<JsonObjectField> fields = {
        {"kind", true, "", [](const json&, const std::string&) {}},
        {"duration", true, std::string(kDurationAllowed) + " (greater than 0)",
         [&](const json& x, const std::string& xp) {
           if (auto d = PositiveDuration(x, xp, "how long the fault lasts")) fault.duration = *d;
         }},
        {"settle", true, std::string(kDurationAllowed) + " (greater than 0)",
         [&](const json& x, const std::string& xp) {
           if (auto d = PositiveDuration(x, xp, "the time the service has to recover")) {
             fault.settle = *d;
           }
         }}};
    for (const auto& key : decl->passed) {
      // Checked by the fault's own declaration when the cell is validated.
      fields.push_back(
          {key, false, "", [&params, key](const json& x, const std::string&) { params[key] = x; }});
    }
    ReadObjectFields(v, p, fields, errors_);
    params_[p] = params;
    dependency.faults.push_back(std::move(fault));
  }

  // The experiment of one cell: the service's steady state and SLOs (as guards), the fault
  // on the dependency. The loader checks it; its errors point back into the map.
  void BuildCell(DependencyMap& out, size_t d, size_t f) {
    const MapDependency& dependency = out.dependencies[d];
    const MapFault& fault = dependency.faults[f];
    const KindDeclaration* decl = nullptr;
    for (const auto& k : Kinds()) {
      if (k.kind == fault.kind) decl = &k;
    }
    MapCell cell;
    cell.dependency = d;
    cell.fault = f;
    cell.name = dependency.name + " × " + MapFaultKindName(fault.kind);
    ojson doc;
    doc["version"] = 1;
    doc["title"] = out.title + ": " + cell.name;
    doc["description"] = "A cell of the dependency map \"" + out.title +
                         "\": " + MapFaultKindName(fault.kind) + " on " + dependency.name +
                         " while the SLOs of " + out.service_name + " are watched.";
    doc["tags"] = ojson::array({"dependency-map"});
    doc["targets"] = ojson::object();
    doc["targets"]["service"] = {{"process", ojson(out.service_process)}, {"allow_empty", false}};
    ojson step = {{"type", decl->fault_type}, {"name", MapFaultKindName(fault.kind)}};
    ojson params = ojson(params_[fault.pointer]);
    if (fault.kind == MapFaultKind::kKill) {
      doc["targets"]["dependency"] = {{"process", ojson(dependency.process)}};
      step["target"] = "dependency";
    } else {
      const MapEndpoint& e = *dependency.endpoint;
      params["port"] = e.port;
      params["address"] = e.address;
      if (fault.kind == MapFaultKind::kLatency) {
        params["backend"] = "proxy";
      } else {
        params["protocol"] = "tcp";
      }
    }
    step["params"] = params;
    step["duration"] = FormatDuration(fault.duration);
    // The SLOs are watched for a while before the fault: their reference for "degraded".
    step["start_after"] = FormatDuration(kCellLeadIn);
    doc["steady_state"] = ojson(steady_state_.is_null() ? json::array() : steady_state_);
    doc["method"] = ojson::array({step});
    if (fault.kind == MapFaultKind::kKill) {
      // A kill is over at once; the SLOs are watched for the fault's duration after it.
      doc["method"].push_back(
          {{"type", "wait"}, {"duration", FormatDuration(kCellLeadIn + fault.duration)}});
    }
    doc["guards"] = ojson(slos_);
    doc["rollbacks"] = ojson::array();
    cell.experiment = doc;

    ValidationErrors cell_errors;
    LoadOptions load;
    load.catalog = options_.catalog;
    load.env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
    if (!LoadExperimentText(doc.dump(), load, cell_errors)) {
      for (const auto& e : cell_errors.errors()) {
        const std::string where = MapPointer(e.pointer, dependency, fault);
        if (reported_.insert({where, e.found, e.allowed}).second) {
          errors_.Add(where, e.found, e.allowed);
        }
      }
      return;
    }
    out.cells.push_back(std::move(cell));
  }

  // Where in the map a part of a cell's experiment came from.
  static std::string MapPointer(const std::string& pointer, const MapDependency& dependency,
                                const MapFault& fault) {
    auto under = [&](const std::string& prefix, std::string& rest) {
      if (pointer.rfind(prefix, 0) != 0) return false;
      rest = pointer.substr(prefix.size());
      return rest.empty() || rest[0] == '/';
    };
    std::string rest;
    if (under("/guards", rest)) return "/service/slos" + rest;
    if (under("/steady_state", rest)) return "/service/steady_state" + rest;
    if (under("/targets/service/process", rest)) return "/service/process" + rest;
    if (under("/targets/dependency/process", rest)) return dependency.pointer + "/process" + rest;
    if (under("/method/0/params/port", rest) || under("/method/0/params/address", rest)) {
      return dependency.pointer + "/endpoint";
    }
    if (under("/method/0/params", rest)) return fault.pointer + rest;
    if (under("/method/0/duration", rest) || under("/method/1/duration", rest)) {
      return fault.pointer + "/duration";
    }
    if (under("/targets/service", rest)) return "/service/process";
    if (under("/targets/dependency", rest)) return dependency.pointer + "/process";
    return fault.pointer;
  }

  const MapLoadOptions& options_;
  ValidationErrors& errors_;
  std::pair<json, std::string> dependencies_;
  json steady_state_;
  json slos_;
  std::map<std::string, json> params_;  // fault pointer → the params the map passes through
  std::set<std::tuple<std::string, std::string, std::string>> reported_;
};

}  // namespace

std::optional<DependencyMap> LoadDependencyMapText(const std::string& text,
                                                   const MapLoadOptions& options,
                                                   ValidationErrors& errors) {
  auto doc = ParseUntrustedJson(text);
  if (!doc.ok()) {
    errors.Add("", doc.status().message(), kMapAllowed);
    return std::nullopt;
  }
  DependencyMap map;
  MapReader(options, errors).Read(*doc, map);
  if (!errors.empty()) return std::nullopt;
  return map;
}

std::optional<DependencyMap> LoadDependencyMapFile(const std::string& path,
                                                   const MapLoadOptions& options,
                                                   ValidationErrors& errors) {
  InputFileRefusal refusal;
  auto text = ReadCommandLineInput(path, kMaxInputFileBytes, "JSON file", &refusal);
  if (!text.ok()) {
    errors.Add("", refusal.found, refusal.allowed);
    return std::nullopt;
  }
  return LoadDependencyMapText(*text, options, errors);
}

}  // namespace ringfence
