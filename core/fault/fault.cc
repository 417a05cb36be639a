#include "core/fault/fault.h"

#include <cstdio>
#include <cstdlib>

#include "core/base/checked_json.h"

namespace ringfence {

nlohmann::json Target::ToJson() const {
  nlohmann::json j = {{"host", host}, {"label", label}};
  if (process.pid != 0) {
    j["pid"] = process.pid;
    j["name"] = process.name;
  }
  return j;
}

nlohmann::json UndoRecord::ToJson() const {
  return {{"fault_type", fault_type},
          {"fault_name", fault_name},
          {"host", host},
          {"target", target},
          {"manual_undo", manual_undo},
          {"deadline_ms", deadline_ms},
          {"data", data}};
}

UndoRecord UndoRecord::FromJson(const nlohmann::json& j) {
  UndoRecord r;
  r.fault_type = j.value("fault_type", "");
  r.fault_name = j.value("fault_name", "");
  r.host = j.value("host", "local");
  r.target = j.value("target", "");
  r.manual_undo = j.value("manual_undo", "");
  r.deadline_ms = j.value("deadline_ms", int64_t{0});
  r.data = j.value("data", nlohmann::json::object());
  return r;
}

Result<UndoRecord> UndoRecord::Parse(const nlohmann::json& j, const std::string& pointer) {
  if (!j.is_object()) return WrongType(pointer.empty() ? "/" : pointer, j, "an object");
  UndoRecord r;
  for (auto [key, field] :
       {std::pair{"fault_type", &r.fault_type}, std::pair{"fault_name", &r.fault_name},
        std::pair{"target", &r.target}, std::pair{"manual_undo", &r.manual_undo}}) {
    auto v = CheckedString(j, key, pointer, "");
    if (!v.ok()) return v.status();
    *field = std::move(*v);
  }
  auto host = CheckedString(j, "host", pointer, "local");
  if (!host.ok()) return host.status();
  r.host = std::move(*host);
  auto deadline = CheckedInteger(j, "deadline_ms", pointer, 0);
  if (!deadline.ok()) return deadline.status();
  r.deadline_ms = *deadline;
  if (auto it = j.find("data"); it != j.end() && it->is_null()) return r;  // no data at all
  auto data = CheckedObject(j, "data", pointer, true);
  if (!data.ok()) return data.status();
  r.data = std::move(*data);
  return r;
}

FaultRegistry& FaultRegistry::Global() {
  static FaultRegistry registry;
  return registry;
}

void FaultRegistry::Register(std::unique_ptr<FaultFactory> factory) {
  const std::string name = factory->Declaration().name;
  if (factories_.count(name) != 0) {
    std::fprintf(stderr, "ringfence: fault type '%s' registered twice\n", name.c_str());
    std::abort();
  }
  factories_[name] = std::move(factory);
}

const FaultFactory* FaultRegistry::Find(const std::string& name) const {
  auto it = factories_.find(name);
  return it == factories_.end() ? nullptr : it->second.get();
}

std::vector<const FaultSchema*> FaultRegistry::Schemas() const {
  std::vector<const FaultSchema*> out;
  for (const FaultFactory* f : All()) out.push_back(f);
  return out;
}

std::vector<const FaultFactory*> FaultRegistry::All() const {
  std::vector<const FaultFactory*> out;
  for (const auto& [name, f] : factories_) out.push_back(f.get());
  return out;
}

}  // namespace ringfence
