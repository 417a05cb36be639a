#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/fault/fault.h"

namespace ringfence {

// memory_stress: one worker child process maps and touches `size` bytes (or `percent` of
// MemAvailable), optionally growing at `rate` bytes per second and locking them (`mlock`). The
// worker has oom_score_adj 1000 so that the OOM killer takes it first; sizes above physical
// memory or above MemAvailable less a safety margin are refused. Recorded (pid + start time) in
// a workers file named in the undo record before it starts; revert kills it. Host fault,
// registered as "memory_stress". See docs/faults/memory_stress.md.
class MemoryStressFactory : public FaultFactory {
 public:
  const FaultDecl& Declaration() const override;
  // Exactly one of size, percent.
  void ValidateConfig(const nlohmann::json& params, const std::string& pointer,
                      ValidationErrors& errors) const override;
  std::unique_ptr<Fault> Create(const FaultStep& step, const TargetSpec& target) const override;
  // Kills the recorded worker and removes the workers file; Ok when already done.
  Status Revert(FaultEnv& env, const UndoRecord& undo) const override;
  // Workers dead, workers file and cgroup gone (VerifyWorkerGroupGone).
  Verification Verify(FaultEnv& env, const UndoRecord& undo) const override;
};

// The lines of /proc/meminfo memory_stress looks at, in bytes.
struct MemInfo {
  uint64_t total_bytes = 0;      // MemTotal
  uint64_t available_bytes = 0;  // MemAvailable
};
Result<MemInfo> ReadMemInfo();

// Memory memory_stress always leaves: the larger of 128 MiB and 5 % of MemTotal.
uint64_t MemoryStressMarginBytes(const MemInfo& info);

// The bytes a step asks for (size, or percent of MemAvailable rounded down to whole pages), or
// kInvalidInput when it is above physical memory or above MemAvailable less the margin.
Result<uint64_t> CheckMemoryRequest(const nlohmann::json& params, const MemInfo& info);

}  // namespace ringfence
