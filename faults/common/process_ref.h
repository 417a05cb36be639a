#pragma once

#include <sys/types.h>

#include <string>

#include <nlohmann/json.hpp>

#include "core/base/process_table.h"
#include "core/base/status.h"

namespace ringfence {

// The identity of one process in an undo record: pid plus start time, so that a revert never
// signals a later process that reuses the pid.
struct ProcessRef {
  pid_t pid = 0;
  unsigned long long start_ticks = 0;
  std::string name;

  static ProcessRef Of(const ProcessInfo& p) { return {p.pid, p.start_ticks, p.name}; }
  nlohmann::json ToJson() const;
  // kInvalidInput when `data` lacks pid or start_ticks (a corrupt or foreign record).
  static Result<ProcessRef> FromJson(const nlohmann::json& data);
};

}  // namespace ringfence
