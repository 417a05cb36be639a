#pragma once

#include "core/fault/fault.h"

namespace ringfence {

// network_partition: blocks the matching packets (by port, address or CIDR), dropping them or
// rejecting them (TCP reset, ICMP port unreachable), in an nftables table of its own per
// injection; revert deletes the table. A host fault (one target per host). Registered as
// "network_partition".
class NetworkPartitionFactory : public FaultFactory {
 public:
  const FaultDecl& Declaration() const override;
  // Malformed address or netns; neither port nor address (a partition of all traffic).
  void ValidateConfig(const nlohmann::json& params, const std::string& pointer,
                      ValidationErrors& errors) const override;
  std::unique_ptr<Fault> Create(const FaultStep& step, const TargetSpec& target) const override;
  // Deletes the table named in the record; a table or namespace already gone is Ok.
  Status Revert(FaultEnv& env, const UndoRecord& undo) const override;
  // The table is gone (`nft list tables inet`).
  Verification Verify(FaultEnv& env, const UndoRecord& undo) const override;
};

}  // namespace ringfence
