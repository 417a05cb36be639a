#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "core/fault/fault.h"
#include "faults/common/worker_group.h"

namespace ringfence {

// What every fault made of worker processes shares (cpu_stress, memory_stress): the undo record
// names a WorkerGroupPlan, Inject creates the group from it, and the factory reverts and verifies
// from the record alone. A fault adds its own Prepare, the workers it starts and its Observe.
class WorkerGroupFault : public Fault {
 protected:
  // `type` is the registry key, e.g. "cpu_stress"; it also names the workers file.
  WorkerGroupFault(std::string type, std::string step_name)
      : type_(std::move(type)), step_name_(std::move(step_name)) {}

  // The undo record of a group planned with PlanWorkerGroup (a cgroup under `cgroup_parent`
  // when it is not ""). No side effect.
  UndoRecord PlanGroupUndo(FaultEnv& env, const Target& target, const std::string& cgroup_parent);
  // Creates the group that `undo` plans (its workers file and cgroup); then Start() workers on
  // group(). Errors as WorkerGroupPlan::FromJson and WorkerGroup::Create give them.
  Status CreateGroup(FaultEnv& env, const UndoRecord& undo);
  // Starts one worker; an error is prefixed with the fault type ("cpu_stress: …").
  Result<ProcessRef> StartWorker(WorkerSetup setup, WorkerBody body, const void* arg);

  // Set once CreateGroup succeeded.
  const std::optional<WorkerGroup>& group() const { return group_; }

 private:
  std::string type_;
  std::string step_name_;
  std::optional<WorkerGroup> group_;
};

// The factory half: Revert stops the recorded group (StopWorkerGroup) and Verify looks that it is
// gone (VerifyWorkerGroupGone); a record without a plan is kInvalidInput / Unknown, prefixed with
// the fault type.
class WorkerGroupFactory : public FaultFactory {
 public:
  Status Revert(FaultEnv& env, const UndoRecord& undo) const override;
  Verification Verify(FaultEnv& env, const UndoRecord& undo) const override;
};

}  // namespace ringfence
