#include "faults/process_pause/process_pause.h"

#include <signal.h>

#include "faults/common/process_ref.h"
#include "faults/common/process_targets.h"

namespace ringfence {
namespace {

constexpr char kType[] = "process_pause";

class ProcessPause : public Fault {
 public:
  explicit ProcessPause(std::string step_name) : step_name_(std::move(step_name)) {}

  Status Prepare(FaultEnv& env, const std::vector<Target>& targets) override {
    return CheckTargetsSignallable(env.processes, targets);
  }

  Result<UndoRecord> PlanUndo(FaultEnv& env, const Target& target) override {
    (void)env;
    UndoRecord undo;
    undo.fault_type = kType;
    undo.fault_name = step_name_;
    undo.host = target.host;
    undo.target = target.label;
    undo.manual_undo = "kill -CONT " + std::to_string(target.process.pid);
    undo.data = ProcessRef::Of(target.process).ToJson();
    undo.data["signal"] = "SIGCONT";
    return undo;
  }

  Status Inject(FaultEnv& env, const Target& target, const UndoRecord& undo) override {
    (void)undo;
    Status s = env.processes.Signal(target.process.pid, target.process.start_ticks, SIGSTOP);
    if (s.ok()) paused_.push_back(ProcessRef::Of(target.process));
    return s;
  }

  // {"paused": pids SIGSTOP was delivered to, "stopped_now": those of them still stopped now}.
  nlohmann::json Observe(FaultEnv& env) override {
    nlohmann::json paused = nlohmann::json::array();
    nlohmann::json stopped_now = nlohmann::json::array();
    for (const auto& ref : paused_) {
      paused.push_back(ref.pid);
      auto now = env.processes.Get(ref.pid);
      if (now.ok() && now->start_ticks == ref.start_ticks && now->state == 'T') {
        stopped_now.push_back(ref.pid);
      }
    }
    return {{"paused", paused}, {"stopped_now", stopped_now}};
  }

 private:
  std::string step_name_;
  std::vector<ProcessRef> paused_;
};

}  // namespace

const FaultDecl& ProcessPauseFactory::Declaration() const {
  static const FaultDecl decl{
      kType,
      "Stop processes with SIGSTOP for the fault's duration, then resume them with SIGCONT",
      TargetKind::kProcess,
      {}};
  return decl;
}

std::unique_ptr<Fault> ProcessPauseFactory::Create(const FaultStep& step,
                                                   const TargetSpec& target) const {
  (void)target;
  return std::make_unique<ProcessPause>(step.name);
}

Status ProcessPauseFactory::Revert(FaultEnv& env, const UndoRecord& undo) const {
  auto ref = ProcessRef::FromJson(undo.data);
  if (!ref.ok()) return ref.status();
  Status s = env.processes.Signal(ref->pid, ref->start_ticks, SIGCONT);
  // Gone, or the pid belongs to another process now: there is nothing left to resume.
  if (s.code() == StatusCode::kNotFound) return Status::Ok();
  return s;
}

Verification ProcessPauseFactory::Verify(FaultEnv& env, const UndoRecord& undo) const {
  auto ref = ProcessRef::FromJson(undo.data);
  if (!ref.ok()) return Verification::Unknown(ref.status().message());
  const std::string who = "pid " + std::to_string(ref->pid);
  auto now = env.processes.Get(ref->pid);
  if (!now.ok()) {
    if (now.status().code() == StatusCode::kNotFound) {
      return Verification::Reverted(who + " is gone");
    }
    return Verification::Unknown("cannot read " + who + ": " + now.status().message());
  }
  if (now->start_ticks != ref->start_ticks) {
    return Verification::Reverted(who + " is gone (the pid belongs to another process now)");
  }
  const std::string state(1, now->state);
  if (now->state == 'T') return Verification::NotReverted(who + " is still stopped (state T)");
  return Verification::Reverted(who + " is in state " + state);
}

RINGFENCE_REGISTER_FAULT(ProcessPauseFactory);

}  // namespace ringfence
