#pragma once

#include "core/fault/fault.h"
#include "faults/common/nft_fault.h"

namespace ringfence {

// network_partition: blocks the matching packets (by port, address or CIDR), dropping them or
// rejecting them (TCP reset, ICMP port unreachable), in an nftables table of its own per
// injection; revert deletes the table. A host fault (one target per host). Registered as
// "network_partition".
class NetworkPartitionFactory : public NftTableFaultFactory {
 public:
  const FaultDecl& Declaration() const override;
  // Malformed address or netns; neither port nor address (a partition of all traffic).
  void ValidateConfig(const nlohmann::json& params, const std::string& pointer,
                      ValidationErrors& errors) const override;
  std::unique_ptr<Fault> Create(const FaultStep& step, const TargetSpec& target) const override;
  // Revert and Verify (inherited): the table named in the record is deleted / gone.
};

}  // namespace ringfence
