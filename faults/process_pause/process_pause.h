#pragma once

#include "core/fault/fault.h"

namespace ringfence {

// process_pause: stops each target with SIGSTOP for the fault's duration; revert sends SIGCONT
// to exactly the recorded process (pid + start time). Registered as "process_pause".
class ProcessPauseFactory : public FaultFactory {
 public:
  const FaultDecl& Declaration() const override;
  std::unique_ptr<Fault> Create(const FaultStep& step, const TargetSpec& target) const override;
  // Gone or pid reused → Ok (nothing left to resume); EPERM → kPermission.
  Status Revert(FaultEnv& env, const UndoRecord& undo) const override;
  // The process is gone, or its /proc state is not T (stopped).
  Verification Verify(FaultEnv& env, const UndoRecord& undo) const override;
};

}  // namespace ringfence
