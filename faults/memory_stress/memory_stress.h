#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/fault/fault.h"
#include "faults/common/worker_group_fault.h"

namespace ringfence {

// memory_stress: one worker child process maps and touches `size` bytes (or `percent` of
// MemAvailable), optionally growing at `rate` bytes per second and locking them (`mlock`). The
// worker has oom_score_adj 1000 so that the OOM killer takes it first; sizes above physical
// memory or above MemAvailable less a safety margin are refused. Recorded (pid + start time) in
// a workers file named in the undo record before it starts; revert kills it. Host fault,
// registered as "memory_stress". See docs/faults/memory_stress.md.
class MemoryStressFactory : public WorkerGroupFactory {
 public:
  const FaultDecl& Declaration() const override;
  // Exactly one of size, percent.
  void ValidateConfig(const nlohmann::json& params, const std::string& pointer,
                      ValidationErrors& errors) const override;
  std::unique_ptr<Fault> Create(const FaultStep& step, const TargetSpec& target) const override;
  // Revert (inherited) kills the recorded worker and removes the workers file, Ok when already
  // done; Verify (inherited) checks that the worker and the file are gone.
};

// memory_stress's params, typed: built once from params that validated (defaults from the
// declaration). Exactly one of size, percent is set.
struct MemoryStressConfig {
  std::optional<uint64_t> size;   // bytes
  std::optional<double> percent;  // of MemAvailable at injection
  uint64_t rate = 0;              // bytes per second; 0: all at once
  bool mlock = false;

  static MemoryStressConfig FromParams(const nlohmann::json& params);
};

// The lines of /proc/meminfo memory_stress looks at, in bytes.
struct MemInfo {
  uint64_t total_bytes = 0;      // MemTotal
  uint64_t available_bytes = 0;  // MemAvailable
};
Result<MemInfo> ReadMemInfo(FileSystem& files);

// Memory memory_stress always leaves: the larger of 128 MiB and 5 % of MemTotal.
uint64_t MemoryStressMarginBytes(const MemInfo& info);

// The bytes a step asks for (size, or percent of MemAvailable rounded down to whole pages), or
// kInvalidInput when it is above physical memory or above MemAvailable less the margin.
Result<uint64_t> CheckMemoryRequest(const MemoryStressConfig& config, const MemInfo& info);

}  // namespace ringfence
