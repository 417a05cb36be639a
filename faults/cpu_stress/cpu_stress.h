#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include "core/fault/fault.h"
#include "faults/common/worker_group_fault.h"

namespace ringfence {

// cpu_stress: `workers` child processes each busy for `load` percent of every 100 ms period (of
// their own CPU time), optionally pinned to `cpus` and placed in a cgroup v1 cpu cgroup made for
// the run. Workers are recorded (pid + start time) in a workers file named in the undo record
// before any starts; revert kills them and removes the file and the cgroup. Host fault,
// registered as "cpu_stress". See docs/faults/cpu_stress.md.
class CpuStressFactory : public WorkerGroupFactory {
 public:
  const FaultDecl& Declaration() const override;
  // `cpus` must parse as a CPU list.
  void ValidateConfig(const nlohmann::json& params, const std::string& pointer,
                      ValidationErrors& errors) const override;
  std::unique_ptr<Fault> Create(const FaultStep& step, const TargetSpec& target) const override;
  // Revert (inherited) kills the recorded workers, removes the workers file and the cgroup, Ok
  // when already done; Verify (inherited) checks that workers, file and cgroup are gone.
};

// cpu_stress's params, typed: built once from params that validated (defaults from the
// declaration).
struct CpuStressConfig {
  std::optional<int> workers;  // none: one per CPU of `cpus`, or per CPU the runner may use
  int load = 0;                // percent of one CPU per worker
  std::vector<int> cpus;       // empty: not pinned
  bool cgroup = false;

  static CpuStressConfig FromParams(const nlohmann::json& params);
};

// "0", "0-3", "0,2-3" → the CPUs in order, without duplicates. kInvalidInput when malformed or
// a CPU number is above 1023.
Result<std::vector<int>> ParseCpuList(const std::string& text);
// The CPUs this process may run on (sched_getaffinity), in order.
std::vector<int> AllowedCpus();
// {0, 1, 2, 5} → "0-2,5".
std::string FormatCpuList(const std::vector<int>& cpus);

}  // namespace ringfence
