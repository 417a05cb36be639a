// The experiment reader: /targets (core/model/experiment_reader.h).

#include "core/model/experiment_reader.h"

#include <limits>

#include "core/model/experiment.h"
#include "core/model/fault_catalog.h"

namespace ringfence::internal {

namespace {

// Allowed texts (documented in docs/experiment-format.md).
constexpr char kProcessAllowed[] = "an object with one of pid, pidfile, name, cmdline";
constexpr char kSelectAllowed[] = "\"all\", {\"count\": N} or {\"percent\": P}";

}  // namespace

void ExperimentReader::ReadTargets(const ojson& v, const std::string& p, Experiment& out) {
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
    ReadObject(
        spec, at,
        {{"process", !on_hosts, kProcessAllowed,
          [&](const ojson& pv, const std::string& pp) { ReadProcess(pv, pp, target.process); }},
         {"hosts", false, "",
          [&](const ojson& hv, const std::string& hp) {
            target.hosts.emplace();
            ReadHosts(hv, hp, *target.hosts);
          }},
         {"select", false, "",
          [&](const ojson& sv, const std::string& sp) { ReadSelect(sv, sp, target.select); }},
         {"allow_empty", false, "", [&](const ojson& bv, const std::string& bp) {
            if (auto b = Bool(bv, bp)) target.allow_empty = *b;
          }}});
    if (errors_.size() == before) out.targets.push_back(std::move(target));
  }
}

void ExperimentReader::ReadHosts(const ojson& v, const std::string& p, HostSelection& hosts) {
  constexpr char kHostsAllowed[] = "an object with groups, tags or names";
  if (!v.is_object()) return Error(p, v, kHostsAllowed);
  ReadObject(v, p,
             {{"groups", false, "",
               [&](const ojson& x, const std::string& xp) {
                 if (auto g = Strings(x, xp, "an array of group names", false)) {
                   if (g->empty()) return Error(xp, x, "an array of at least one group name");
                   hosts.groups = *g;
                 }
               }},
              {"tags", false, "",
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
  if ((v.contains("tags") || v.contains("groups")) && v.contains("names")) {
    Error(p, v, "groups and tags, or names, not both");
  }
}

// A process fault needs a target with a process selector; a host fault takes no target, or
// a target that names inventory hosts only.
void ExperimentReader::CheckTargetKinds(const Experiment& out) {
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

void ExperimentReader::ReadProcess(const ojson& v, const std::string& p, ProcessSelector& sel) {
  if (!v.is_object()) return Error(p, v, kProcessAllowed);
  ReadObject(v, p,
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

void ExperimentReader::ReadSelect(const ojson& v, const std::string& p, Selection& sel) {
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

}  // namespace ringfence::internal
