#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/fault/fault.h"
#include "faults/common/nft_match.h"
#include "faults/common/nft_table.h"

namespace ringfence {

// The parameters every nftables fault takes: direction, protocol, port, address, netns.
std::vector<ParamDecl> TrafficParamDecls();

// What one nftables fault puts in its own table (see RenderNftTable).
struct NftFaultRules {
  std::string fault_type;             // the registry key, e.g. "network_loss"
  TrafficMatch match;                 // which packets go to the verdict chain
  std::string netns;                  // "" for the runner's own network namespace
  std::vector<std::string> counters;  // named counters; Observe reports "packets_<name>"
  std::vector<std::string> verdict_rules;
  nlohmann::json observed;  // fields Observe always reports (e.g. the percent)
};

// A host fault whose whole effect is one nft table per injection, named
// "ringfence_<run id>_<n>" in PlanUndo before it exists, created in one transaction by Inject
// and deleted by RevertNftTableFault. Called from one thread at a time.
class NftTableFault : public Fault {
 public:
  // `rules` is an error when the params could not be turned into rules; Prepare reports it.
  NftTableFault(std::string step_name, Result<NftFaultRules> rules);

  // Checks, before anything is injected: every target is the local host; the match spares the
  // runner's control connections; the namespace exists; nft works and the kernel accepts a
  // scratch table; nft accepts the exact rules (`nft --check`).
  Status Prepare(FaultEnv& env, const std::vector<Target>& targets) override;
  // Chooses the table name (reads the existing tables; creates nothing).
  Result<UndoRecord> PlanUndo(FaultEnv& env, const Target& target) override;
  // Creates the table named in `undo`, all rules at once; nothing is applied when it fails.
  Status Inject(FaultEnv& env, const Target& target, const UndoRecord& undo) override;
  // {"match": "...", <rules.observed>, "tables": [{"table", "netns"?, "active",
  // "packets_<counter>"...}]}: packets counted while the table existed (the last reading).
  nlohmann::json Observe(FaultEnv& env) override;

 private:
  struct Injected {
    NftTable table;
    bool active = true;
    std::map<std::string, uint64_t> packets;
  };
  std::string step_name_;
  Result<NftFaultRules> rules_;
  std::vector<Injected> injected_;
};

// The undo of every NftTableFault: deletes the table the record names (only a "ringfence_"
// table). Idempotent: a table or namespace already gone is Ok.
Status RevertNftTableFault(Env& system, const UndoRecord& undo);

// The verification of every NftTableFault: the table the record names is gone.
Verification VerifyNftTableFault(Env& system, const UndoRecord& undo);

// The factory half every NftTableFault type shares: Revert is RevertNftTableFault (deletes the
// table the record names; a table or namespace already gone is Ok), Verify is
// VerifyNftTableFault (the table is gone, by `nft list tables inet`).
class NftTableFaultFactory : public FaultFactory {
 public:
  Status Revert(FaultEnv& env, const UndoRecord& undo) const override;
  Verification Verify(FaultEnv& env, const UndoRecord& undo) const override;
};

}  // namespace ringfence
