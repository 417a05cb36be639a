#include "faults/network_partition/network_partition.h"

#include "faults/common/nft_fault.h"

namespace ringfence {

namespace {

constexpr char kType[] = "network_partition";
constexpr char kActionParam[] = "action";

const FaultDecl& NetworkPartitionDecl();

Result<NftFaultRules> PartitionRules(const nlohmann::json& params) {
  const ParamReader read(NetworkPartitionDecl(), params);
  auto match = TrafficMatchFromParams(read);
  if (!match.ok()) return match.status();
  if (!match->port && !match->address) {
    return Status::InvalidInput("network_partition needs a port, an address or both");
  }
  const std::string action = read.Get<std::string>(kActionParam);
  NftFaultRules rules;
  rules.fault_type = kType;
  rules.match = *match;
  rules.netns = read.Optional<std::string>(kNetnsParam).value_or("");  // none: the runner's
  rules.counters = {"blocked"};
  if (action == "drop") {
    rules.verdict_rules = {"counter name \"blocked\" drop"};
  } else if (action == "reject") {
    // A TCP reset refuses a connection at once; other packets get ICMP port unreachable. The
    // resets and unreachables themselves pass: with both directions (or a rule on the
    // sender's side) they cross this table's other hook, and rejecting them would silently
    // turn the reject into a drop.
    rules.verdict_rules = {"tcp flags & rst == rst accept",
                           "icmp type destination-unreachable accept",
                           "icmpv6 type destination-unreachable accept",
                           "counter name \"blocked\"",
                           "meta l4proto tcp reject with tcp reset",
                           "reject with icmpx type port-unreachable"};
  } else {
    return Status::InvalidInput("action \"" + action + "\": one of drop, reject");
  }
  rules.observed = {{"action", action}};
  return rules;
}

const FaultDecl& NetworkPartitionDecl() {
  static const FaultDecl decl = [] {
    FaultDecl d;
    d.name = kType;
    d.summary =
        "Block traffic by port, address or CIDR (drop or reject) in an nftables table of its own";
    d.target_kind = TargetKind::kHost;
    ParamDecl action;
    action.name = kActionParam;
    action.type = ParamType::kEnum;
    action.default_value = "drop";
    action.choices = {"drop", "reject"};
    action.doc = "drop: packets vanish (connects time out); reject: TCP reset / ICMP unreachable";
    d.params.push_back(action);
    for (auto& p : TrafficParamDecls()) d.params.push_back(std::move(p));
    return d;
  }();
  return decl;
}

}  // namespace

const FaultDecl& NetworkPartitionFactory::Declaration() const { return NetworkPartitionDecl(); }

void NetworkPartitionFactory::ValidateConfig(const nlohmann::json& params,
                                             const std::string& pointer,
                                             ValidationErrors& errors) const {
  ValidateTrafficParams(params, pointer, errors);
  if (!params.contains(kPortParam) && !params.contains(kAddressParam)) {
    errors.Add(pointer, "no port or address",
               "a port, an address or both (a partition of all traffic is refused)");
  }
}

std::unique_ptr<Fault> NetworkPartitionFactory::Create(const FaultStep& step,
                                                       const TargetSpec& target) const {
  (void)target;
  return std::make_unique<NftTableFault>(step.name, PartitionRules(step.params));
}

RINGFENCE_REGISTER_FAULT(NetworkPartitionFactory);

}  // namespace ringfence
