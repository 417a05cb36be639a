#pragma once

#include "core/fault/fault.h"
#include "faults/bad_update/gates.h"

namespace ringfence {

// bad_update: pushes a bad artifact (a user's file, or the good one with a named mutation) to a
// fleet in growing waves, judges each wave's bake with gates, halts and rolls back when a gate
// fails, and reports how far the damage got (docs/faults/bad_update.md). A host fault: its hosts
// come from `hosts_file`. Registered as "bad_update".
class BadUpdateFactory : public FaultFactory {
 public:
  const FaultDecl& Declaration() const override;
  // Cross-field rules, and the ones that need the hosts file and the artifact (read, never
  // written): waves that grow and fit the fleet, a rollback command, a deploy command (rehearse,
  // aa) or pipeline_command (pipeline), a mutation the artifact can take, alpha in (0, 1).
  void ValidateConfig(const nlohmann::json& params, const std::string& pointer,
                      ValidationErrors& errors) const override;
  std::unique_ptr<Fault> Create(const FaultStep& step, const TargetSpec& target) const override;
  // Restores every host of the record whose artifact is no longer the one recorded before the
  // rollout, by running the rollback template, and checks its checksum; then removes the
  // backups and the work directory. A host never exposed or already restored is Ok.
  Status Revert(FaultEnv& env, const UndoRecord& undo) const override;
  // Every host's artifact has the checksum recorded before the rollout (the backup's).
  Verification Verify(FaultEnv& env, const UndoRecord& undo) const override;
};

// The gates as bad_update's declaration defaults them (every gate parameter at its default).
GateConfig DeclaredGateConfig();

// FNV-1a 64 of a file's bytes (read through `files`) as 16 hex digits; kNotFound when it cannot
// be read.
Result<std::string> FileChecksum(FileSystem& files, const std::string& path);

}  // namespace ringfence
