#pragma once

#include "core/fault/fault.h"
#include "faults/common/nft_fault.h"

namespace ringfence {

// network_loss: drops `percent` of the matching packets at random (nftables
// `numgen random mod 10000 < percent·100`), in a table of its own per injection; revert deletes
// the table. A host fault (one target per host). Registered as "network_loss".
class NetworkLossFactory : public NftTableFaultFactory {
 public:
  const FaultDecl& Declaration() const override;
  // Malformed address or netns (see ValidateTrafficParams).
  void ValidateConfig(const nlohmann::json& params, const std::string& pointer,
                      ValidationErrors& errors) const override;
  std::unique_ptr<Fault> Create(const FaultStep& step, const TargetSpec& target) const override;
  // Revert and Verify (inherited): the table named in the record is deleted / gone.
};

}  // namespace ringfence
