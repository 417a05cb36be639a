#include "faults/common/process_ref.h"

namespace ringfence {

nlohmann::json ProcessRef::ToJson() const {
  return {{"pid", pid}, {"start_ticks", start_ticks}, {"name", name}};
}

Result<ProcessRef> ProcessRef::FromJson(const nlohmann::json& data) {
  if (!data.is_object() || !data.contains("pid") || !data["pid"].is_number_integer() ||
      !data.contains("start_ticks") || !data["start_ticks"].is_number_unsigned()) {
    return Status::InvalidInput("undo record has no process identity (pid, start_ticks): " +
                                data.dump());
  }
  ProcessRef ref;
  ref.pid = data["pid"].get<pid_t>();
  ref.start_ticks = data["start_ticks"].get<unsigned long long>();
  ref.name = data.value("name", "");
  return ref;
}

}  // namespace ringfence
