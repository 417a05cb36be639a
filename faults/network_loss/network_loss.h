#pragma once

#include "core/fault/fault.h"

namespace ringfence {

// network_loss: drops `percent` of the matching packets at random (nftables
// `numgen random mod 10000 < percent·100`), in a table of its own per injection; revert deletes
// the table. A host fault (one target per host). Registered as "network_loss".
class NetworkLossFactory : public FaultFactory {
 public:
  const FaultDecl& Declaration() const override;
  // Malformed address or netns (see ValidateTrafficParams).
  void ValidateConfig(const nlohmann::json& params, const std::string& pointer,
                      ValidationErrors& errors) const override;
  std::unique_ptr<Fault> Create(const FaultStep& step, const TargetSpec& target) const override;
  // Deletes the table named in the record; a table or namespace already gone is Ok.
  Status Revert(FaultEnv& env, const UndoRecord& undo) const override;
  // The table is gone (`nft list tables inet`).
  Verification Verify(FaultEnv& env, const UndoRecord& undo) const override;
};

}  // namespace ringfence
