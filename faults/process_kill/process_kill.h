#pragma once

#include "core/fault/fault.h"

namespace ringfence {

// process_kill: sends a signal (SIGTERM by default) to each target, optionally escalating to
// SIGKILL after a grace period, and optionally checks that a supervisor brings a replacement
// back in time. Registered as "process_kill".
class ProcessKillFactory : public FaultFactory {
 public:
  const FaultDecl& Declaration() const override;
  // Cross-field rules: restart_command not empty, no grace with SIGKILL, no stop/continue signal.
  void ValidateConfig(const nlohmann::json& params, const std::string& pointer,
                      ValidationErrors& errors) const override;
  std::unique_ptr<Fault> Create(const FaultStep& step, const TargetSpec& target) const override;
  // A killed process cannot be revived. With a restart_command in the record, runs it when the
  // recorded process is gone and no process matching the recorded selector has started since
  // the kill; otherwise Ok.
  Status Revert(FaultEnv& env, const UndoRecord& undo) const override;
  // With a restart_command: the original still runs, or a process matching the selector started
  // since the kill does.
  // Without one nothing was to be restored, so nothing is to be checked (verified).
  Verification Verify(FaultEnv& env, const UndoRecord& undo) const override;
};

}  // namespace ringfence
