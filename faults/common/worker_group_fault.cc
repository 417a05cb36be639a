#include "faults/common/worker_group_fault.h"

namespace ringfence {

UndoRecord WorkerGroupFault::PlanGroupUndo(FaultEnv& env, const Target& target,
                                           const std::string& cgroup_parent) {
  const WorkerGroupPlan plan =
      PlanWorkerGroup(env.system.files(), type_, env.run_id, cgroup_parent);
  UndoRecord undo;
  undo.fault_type = type_;
  undo.fault_name = step_name_;
  undo.host = target.host;
  undo.target = target.label;
  undo.manual_undo = plan.ManualUndo();
  undo.data = plan.ToJson();
  return undo;
}

Status WorkerGroupFault::CreateGroup(FaultEnv& env, const UndoRecord& undo) {
  auto plan = WorkerGroupPlan::FromJson(undo.data);
  if (!plan.ok()) return plan.status();
  group_.emplace(env.system, *plan);
  return group_->Create();
}

Result<ProcessRef> WorkerGroupFault::StartWorker(WorkerSetup setup, WorkerBody body,
                                                 const void* arg) {
  auto worker = group_->Start(std::move(setup), body, arg);
  if (!worker.ok()) {
    return Status::Error(worker.status().code(), type_ + ": " + worker.status().message());
  }
  return worker;
}

Status WorkerGroupFactory::Revert(FaultEnv& env, const UndoRecord& undo) const {
  auto plan = WorkerGroupPlan::FromJson(undo.data);
  if (!plan.ok()) return Status::InvalidInput(Declaration().name + ": " + plan.status().message());
  return StopWorkerGroup(env.system, *plan);
}

Verification WorkerGroupFactory::Verify(FaultEnv& env, const UndoRecord& undo) const {
  auto plan = WorkerGroupPlan::FromJson(undo.data);
  if (!plan.ok()) return Verification::Unknown(Declaration().name + ": " + plan.status().message());
  return VerifyWorkerGroupGone(env.system, *plan);
}

}  // namespace ringfence
