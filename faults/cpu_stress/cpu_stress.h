#pragma once

#include <string>
#include <vector>

#include "core/fault/fault.h"

namespace ringfence {

// cpu_stress: `workers` child processes each busy for `load` percent of every 100 ms period (of
// their own CPU time), optionally pinned to `cpus` and placed in a cgroup v1 cpu cgroup made for
// the run. Workers are recorded (pid + start time) in a workers file named in the undo record
// before any starts; revert kills them and removes the file and the cgroup. Host fault,
// registered as "cpu_stress". See docs/faults/cpu_stress.md.
class CpuStressFactory : public FaultFactory {
 public:
  const FaultDecl& Declaration() const override;
  // `cpus` must parse as a CPU list.
  void ValidateConfig(const nlohmann::json& params, const std::string& pointer,
                      ValidationErrors& errors) const override;
  std::unique_ptr<Fault> Create(const FaultStep& step, const TargetSpec& target) const override;
  // Kills the recorded workers, removes the workers file and the cgroup; Ok when already done.
  Status Revert(FaultEnv& env, const UndoRecord& undo) const override;
  // Workers dead, workers file and cgroup gone (VerifyWorkerGroupGone).
  Verification Verify(FaultEnv& env, const UndoRecord& undo) const override;
};

// "0", "0-3", "0,2-3" → the CPUs in order, without duplicates. kInvalidInput when malformed or
// a CPU number is above 1023.
Result<std::vector<int>> ParseCpuList(const std::string& text);
// The CPUs this process may run on (sched_getaffinity), in order.
std::vector<int> AllowedCpus();
// {0, 1, 2, 5} → "0-2,5".
std::string FormatCpuList(const std::vector<int>& cpus);

}  // namespace ringfence
