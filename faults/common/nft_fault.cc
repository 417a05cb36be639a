#include "faults/common/nft_fault.h"

#include <unistd.h>

namespace ringfence {

namespace {

std::string RenderRules(const NftFaultRules& rules, const std::string& table_name) {
  return RenderNftTable(table_name, rules.counters, rules.verdict_rules,
                        rules.match.NftExpressions(), rules.match.ingress(), rules.match.egress());
}

}  // namespace

std::vector<ParamDecl> TrafficParamDecls() {
  std::vector<ParamDecl> decls(5);
  decls[0].name = kDirectionParam;
  decls[0].type = ParamType::kEnum;
  decls[0].default_value = "both";
  decls[0].choices = {"ingress", "egress", "both"};
  decls[0].doc = "ingress: packets arriving (input hook); egress: packets sent (output hook)";
  decls[1].name = kProtocolParam;
  decls[1].type = ParamType::kEnum;
  decls[1].default_value = "all";
  decls[1].choices = {"all", "tcp", "udp"};
  decls[1].doc = "only packets of this protocol (all: every protocol; with port: tcp and udp)";
  decls[2].name = kPortParam;
  decls[2].type = ParamType::kInteger;
  decls[2].min = 1;
  decls[2].max = 65535;
  decls[2].doc = "only packets with this source or destination port";
  decls[3].name = kAddressParam;
  decls[3].type = ParamType::kString;
  decls[3].doc = "only packets from or to this IPv4/IPv6 address or CIDR (10.0.0.0/24, fd00::/64)";
  decls[4].name = kNetnsParam;
  decls[4].type = ParamType::kString;
  decls[4].doc = "apply inside this network namespace (ip netns) instead of the runner's own";
  return decls;
}

NftTableFault::NftTableFault(std::string step_name, Result<NftFaultRules> rules)
    : step_name_(std::move(step_name)), rules_(std::move(rules)) {}

Status NftTableFault::Prepare(FaultEnv& env, const std::vector<Target>& targets) {
  if (!rules_.ok()) return rules_.status();
  for (const auto& target : targets) {
    if (target.host != "local") {
      return Status::Unavailable(rules_->fault_type +
                                 " runs on the local host only (remote hosts arrive later): " +
                                 "target host \"" + target.host + "\"");
    }
  }
  Status s = CheckProtectedEndpoints(rules_->match, RunnerControlEndpoints());
  if (!s.ok()) return s;
  s = CheckNetnsExists(rules_->netns);
  if (!s.ok()) return s;
  s = CheckNftUsable(env.system, rules_->netns);
  if (!s.ok()) return s;
  // The exact rules Inject will apply, under a name that is never created.
  const std::string check_name =
      std::string(kNftTablePrefix) + "check_" + std::to_string(::getpid());
  return CheckNftRuleset(env.system, RenderRules(*rules_, check_name), rules_->netns);
}

Result<UndoRecord> NftTableFault::PlanUndo(FaultEnv& env, const Target& target) {
  if (!rules_.ok()) return rules_.status();
  auto name = ChooseNftTableName(env.system, env.run_id, rules_->netns);
  if (!name.ok()) return name.status();
  const NftTable table{*name, rules_->netns};
  UndoRecord undo;
  undo.fault_type = rules_->fault_type;
  undo.fault_name = step_name_;
  undo.host = target.host;
  undo.target = target.label;
  undo.manual_undo = table.ManualUndo();
  undo.data = table.ToJson();
  undo.data["match"] = rules_->match.Describe();
  return undo;
}

Status NftTableFault::Inject(FaultEnv& env, const Target& target, const UndoRecord& undo) {
  (void)target;
  if (!rules_.ok()) return rules_.status();
  // The name comes from the registered record, so what is created is what the record undoes.
  auto table = NftTable::FromJson(undo.data);
  if (!table.ok()) return table.status();
  Status s = ApplyNftRuleset(env.system, RenderRules(*rules_, table->name), table->netns);
  if (s.ok()) injected_.push_back({*table, true, {}});
  return s;
}

nlohmann::json NftTableFault::Observe(FaultEnv& env) {
  nlohmann::json observed = nlohmann::json::object();
  if (!rules_.ok()) return observed;
  observed["match"] = rules_->match.Describe();
  if (rules_->observed.is_object()) {
    for (const auto& [key, value] : rules_->observed.items()) observed[key] = value;
  }
  nlohmann::json tables = nlohmann::json::array();
  for (auto& injected : injected_) {
    if (injected.active) {
      auto packets = ReadNftCounters(env.system, injected.table);
      if (packets.ok()) {
        injected.packets = *packets;
      } else if (packets.status().code() == StatusCode::kNotFound) {
        injected.active = false;  // reverted (or deleted by hand): keep the last reading
      }
    }
    nlohmann::json entry = injected.table.ToJson();
    entry.erase("family");
    entry["active"] = injected.active;
    for (const auto& counter : rules_->counters) {
      auto it = injected.packets.find(counter);
      entry["packets_" + counter] = it == injected.packets.end() ? 0 : it->second;
    }
    tables.push_back(std::move(entry));
  }
  observed["tables"] = std::move(tables);
  return observed;
}

Status RevertNftTableFault(Env& system, const UndoRecord& undo) {
  auto table = NftTable::FromJson(undo.data);
  if (!table.ok()) return table.status();
  return DeleteNftTable(system, *table);
}

Verification VerifyNftTableFault(Env& system, const UndoRecord& undo) {
  auto table = NftTable::FromJson(undo.data);
  if (!table.ok()) return Verification::Unknown(table.status().message());
  return VerifyNftTableGone(system, *table);
}

Status NftTableFaultFactory::Revert(FaultEnv& env, const UndoRecord& undo) const {
  return RevertNftTableFault(env.system, undo);
}

Verification NftTableFaultFactory::Verify(FaultEnv& env, const UndoRecord& undo) const {
  return VerifyNftTableFault(env.system, undo);
}

}  // namespace ringfence
