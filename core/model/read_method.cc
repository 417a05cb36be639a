// The experiment reader: /method, its steps and faults (core/model/experiment_reader.h).

#include "core/model/experiment_reader.h"

#include "core/model/experiment.h"
#include "core/model/fault_catalog.h"
#include "core/model/params.h"

namespace ringfence::internal {

std::string ExperimentReader::StepTypesAllowed() const {
  std::string names;
  for (const FaultSchema* f : catalog_.Schemas()) {
    names += (names.empty() ? "" : ", ") + f->Declaration().name;
  }
  return "a fault type (" + (names.empty() ? std::string("none registered") : names) +
         "), \"wait\", \"probe\" or \"action\"";
}

std::optional<MethodStep> ExperimentReader::ReadStep(const ojson& v, const std::string& p,
                                                     size_t index) {
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
  if (type != "wait" && type != "probe" && type != "action" && factory == nullptr) {
    Error(Child(p, "type"), *type_it, StepTypesAllowed());
    return std::nullopt;
  }
  auto ignore = [](const ojson&, const std::string&) {};
  MethodStep step;
  step.pointer = p;
  const size_t before = errors_.size();
  if (type == "wait") {
    step.kind = MethodStep::Kind::kWait;
    step.name = "wait-" + std::to_string(index);
    ReadObject(
        v, p,
        {{"type", true, "", ignore},
         {"name", false, "",
          [&](const ojson& x, const std::string& xp) {
            if (auto s = String(x, xp, true, kNonEmptyString)) step.name = *s;
          }},
         {"duration", true, DurationAllowed(false), [&](const ojson& x, const std::string& xp) {
            if (auto d = DurationValue(x, xp, false)) step.wait.duration = *d;
          }}});
  } else if (type == "probe") {
    step.kind = MethodStep::Kind::kProbe;
    ReadObject(v, p,
               {{"type", true, "", ignore},
                {"probe", true, kProbeObject, [&](const ojson& x, const std::string& xp) {
                   if (auto probe = ReadProbe(x, xp, index)) step.probe = *probe;
                 }}});
  } else if (type == "action") {
    step.kind = MethodStep::Kind::kAction;
    ReadObject(v, p,
               {{"type", true, "", ignore},
                {"action", true, kProbeObject,
                 [&](const ojson& x, const std::string& xp) {
                   if (auto probe = ReadProbe(x, xp, index)) step.probe = *probe;
                 }},
                {"background", false, "", [&](const ojson& x, const std::string& xp) {
                   if (auto b = Bool(x, xp)) step.background = *b;
                 }}});
  } else {
    step.kind = MethodStep::Kind::kFault;
    ReadFault(v, p, index, *factory, step.fault);
    step.name = step.fault.name;
  }
  if (step.kind == MethodStep::Kind::kProbe) step.name = step.probe.name;
  if (errors_.size() != before) return std::nullopt;
  return step;
}

void ExperimentReader::ReadFault(const ojson& v, const std::string& p, size_t index,
                                 const FaultSchema& factory, FaultStep& fault) {
  const FaultDecl& decl = factory.Declaration();
  fault.type = decl.name;
  fault.name = decl.name + "-" + std::to_string(index);
  std::string name_pointer = p;
  nlohmann::json params = nlohmann::json::object();
  ReadObject(v, p,
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

}  // namespace ringfence::internal
