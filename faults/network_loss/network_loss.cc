#include "faults/network_loss/network_loss.h"

#include <cmath>

#include "faults/common/nft_fault.h"

namespace ringfence {

namespace {

constexpr char kType[] = "network_loss";
constexpr char kPercentParam[] = "percent";

// numgen draws from 0..9999, so percent has a resolution of 0.01.
const FaultDecl& NetworkLossDecl();

Result<NftFaultRules> LossRules(const nlohmann::json& params) {
  const ParamReader read(NetworkLossDecl(), params);
  auto match = TrafficMatchFromParams(read);
  if (!match.ok()) return match.status();
  double percent = 0;
  try {
    percent = read.Get<double>(kPercentParam);
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidInput(std::string("percent: ") + e.what());
  }
  const long long threshold = std::llround(percent * 100);
  if (threshold < 1 || threshold > 10000) {
    return Status::InvalidInput("percent " + nlohmann::json(percent).dump() +
                                ": a number from 0.01 to 100");
  }
  NftFaultRules rules;
  rules.fault_type = kType;
  rules.match = *match;
  rules.netns = read.Optional<std::string>(kNetnsParam).value_or("");  // none: the runner's
  rules.counters = {"matched", "dropped"};
  // numgen's values stop at 9999, so nft refuses "< 10000": 100 % drops without a draw.
  const std::string draw =
      threshold == 10000 ? "" : "numgen random mod 10000 < " + std::to_string(threshold) + " ";
  rules.verdict_rules = {"counter name \"matched\"", draw + "counter name \"dropped\" drop"};
  rules.observed = {{"percent", percent}};
  return rules;
}

const FaultDecl& NetworkLossDecl() {
  static const FaultDecl decl = [] {
    FaultDecl d;
    d.name = kType;
    d.summary = "Drop a share of packets at random (nftables numgen) in a table of its own";
    d.target_kind = TargetKind::kHost;
    ParamDecl percent;
    percent.name = kPercentParam;
    percent.type = ParamType::kNumber;
    percent.required = true;
    percent.min = 0.01;
    percent.max = 100;
    percent.doc = "share of the matching packets dropped, at random (steps of 0.01)";
    d.params.push_back(percent);
    for (auto& p : TrafficParamDecls()) d.params.push_back(std::move(p));
    return d;
  }();
  return decl;
}

}  // namespace

const FaultDecl& NetworkLossFactory::Declaration() const { return NetworkLossDecl(); }

void NetworkLossFactory::ValidateConfig(const nlohmann::json& params, const std::string& pointer,
                                        ValidationErrors& errors) const {
  ValidateTrafficParams(params, pointer, errors);
}

std::unique_ptr<Fault> NetworkLossFactory::Create(const FaultStep& step,
                                                  const TargetSpec& target) const {
  (void)target;
  return std::make_unique<NftTableFault>(step.name, LossRules(step.params));
}

RINGFENCE_REGISTER_FAULT(NetworkLossFactory);

}  // namespace ringfence
