// The experiment reader: the document and the members of any object
// (core/model/experiment_reader.h).

#include "core/model/experiment_reader.h"

#include "core/model/experiment.h"
#include "core/model/inventory.h"

namespace ringfence::internal {

namespace {

// Allowed texts (documented in docs/experiment-format.md).
constexpr char kMethodAllowed[] = "an array of at least one step";
constexpr char kGuardsAllowed[] = "an array of guards (docs/guards.md), or []";

}  // namespace

void ExperimentReader::Read(const ojson& doc, Experiment& out) {
  if (const auto it = doc.find("targets"); it != doc.end() && it->is_object()) {
    for (const auto& [name, value] : it->items()) target_names_.push_back(name);
  }
  std::vector<Field> fields = {
      {"version", true, "1",
       [&](const ojson& v, const std::string& p) {
         if (!IntegralIn(v, 1, 1)) Error(p, v, "1");
       }},
      {"title", true, kNonEmptyString,
       [&](const ojson& v, const std::string& p) {
         if (auto s = String(v, p, true, kNonEmptyString)) out.title = *s;
       }},
      {"description", false, "",
       [&](const ojson& v, const std::string& p) {
         if (auto s = String(v, p, false, kAString)) out.description = *s;
       }},
      {"tags", false, "",
       [&](const ojson& v, const std::string& p) {
         if (auto tags = Strings(v, p, "an array of strings", false)) out.tags = *tags;
       }},
      {"targets", false, "", [&](const ojson& v, const std::string& p) { ReadTargets(v, p, out); }},
      {"steady_state", false, "",
       [&](const ojson& v, const std::string& p) {
         if (!v.is_array()) return Error(p, v, "an array of probes");
         for (size_t i = 0; i < v.size(); ++i) {
           if (auto probe = ReadProbe(v[i], Child(p, i), i)) out.steady_state.push_back(*probe);
         }
       }},
      {"method", true, kMethodAllowed,
       [&](const ojson& v, const std::string& p) {
         if (!v.is_array() || v.empty()) return Error(p, v, kMethodAllowed);
         for (size_t i = 0; i < v.size(); ++i) {
           if (auto step = ReadStep(v[i], Child(p, i), i)) out.method.push_back(*step);
         }
       }},
      {"guards", true, kGuardsAllowed,
       [&](const ojson& v, const std::string& p) {
         if (!v.is_array()) return Error(p, v, kGuardsAllowed);
         for (size_t i = 0; i < v.size(); ++i) {
           if (auto guard = ReadGuard(v[i], Child(p, i), i)) out.guards.push_back(*guard);
         }
       }},
      {"rollbacks", false, "",
       [&](const ojson& v, const std::string& p) {
         if (!v.is_array()) return Error(p, v, "an array of rollbacks");
         for (size_t i = 0; i < v.size(); ++i) {
           if (auto r = ReadRollback(v[i], Child(p, i), i)) out.rollbacks.push_back(*r);
         }
       }},
      {"settings", false, "",
       [&](const ojson& v, const std::string& p) { ReadSettings(v, p, out.settings); }},
      {"inventory", false, "",
       [&](const ojson& v, const std::string& p) {
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
    if (step.kind == MethodStep::Kind::kProbe || step.kind == MethodStep::Kind::kAction) {
      default_timeout(step.probe);
    }
  }
  for (auto& rollback : out.rollbacks) {
    if (rollback.action) default_timeout(*rollback.action);
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

// Reads `object`'s members in document order (core/model/object_fields.h).
void ExperimentReader::ReadObject(const ojson& object, const std::string& pointer,
                                  const std::vector<Field>& fields) {
  ReadObjectFields(object, pointer, fields, errors_);
}

}  // namespace ringfence::internal
