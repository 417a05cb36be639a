#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/status.h"
#include "core/fault/fault.h"
#include "faults/common/netns_command.h"

namespace ringfence {

// A table of ringfence's own in the `inet` family, in the runner's network namespace or in a
// named one (`ip netns exec <netns> nft …`). Deleting the table removes every rule ringfence
// made in it and nothing else, so undo never touches anyone else's rules.
//
// Every function runs `nft` through RunInNetns (on the `system` Env given) with a 10 s timeout.
// They are thread-safe as far as nft itself is (the kernel serialises transactions). This is
// ringfence's one nft driver: network_loss, network_partition and latency's redirect all go through
// it.
struct NftTable {
  std::string name;   // "ringfence_<run>_<n>"; always starts with kNftTablePrefix
  std::string netns;  // "" for the runner's own network namespace

  // What a person pastes to undo by hand: "nft delete table inet ringfence_x_1" or
  // "ip netns exec blue nft delete table inet ringfence_x_1".
  std::string ManualUndo() const;
  // {"family": "inet", "table": name} plus "netns" when set.
  nlohmann::json ToJson() const;
  // kInvalidInput when `data` does not name a ringfence table (a corrupt or foreign record):
  // a revert must never delete a table that is not ours.
  static Result<NftTable> FromJson(const nlohmann::json& data);
};

inline constexpr char kNftTablePrefix[] = "ringfence_";

// `run_id` reduced to what an nft identifier may hold: [A-Za-z0-9_], others become '_', cut to
// 64 characters; "" becomes "run".
std::string SanitizeForNft(const std::string& run_id);

// "ringfence_<sanitized run id>_<n>" with n from a counter shared by every fault in this process,
// skipping names of tables that already exist in `netns`. Reads only (no side effect).
Result<std::string> ChooseNftTableName(Env& system, const std::string& run_id,
                                       const std::string& netns);

// Checks that nft can be used in `netns`: the program exists (kUnavailable "nft not found:
// install the nftables package"), and the kernel accepts a uniquely named scratch table with a
// base chain (created and deleted again; kUnavailable "the kernel refused an nftables table:
// <nft's error>", kPermission when nft says "Operation not permitted").
Status CheckNftUsable(Env& system, const std::string& netns);

// Asks nft to check `ruleset` without applying it (`nft --check`). kUnavailable with nft's
// error when it is refused.
Status CheckNftRuleset(Env& system, const std::string& ruleset, const std::string& netns);

// Applies `ruleset` in one nft transaction: all of it or nothing. A ruleset that makes a table
// starts with "create table inet <name>" (see RenderNftTable), which fails when it exists.
Status ApplyNftRuleset(Env& system, const std::string& ruleset, const std::string& netns);

// ApplyNftRuleset for a `ruleset` that changes the existing `table`: Ok when the table or its
// namespace is already gone (nothing is left to change).
Status ApplyNftRulesetIfTableExists(Env& system, const std::string& ruleset, const NftTable& table);

// `nft delete table inet <name>`. Idempotent: a missing table, or a missing namespace (its
// tables went with it), is Ok.
Status DeleteNftTable(Env& system, const NftTable& table);

// The names of the inet tables in `netns`.
Result<std::vector<std::string>> ListInetTables(Env& system, const std::string& netns);

// Looks from outside (`nft list tables inet`) whether `table` is gone: Reverted when it is not
// listed (or its namespace is gone), NotReverted when it still exists, Unknown when nft could
// not answer.
Verification VerifyNftTableGone(Env& system, const NftTable& table);

// The packets counted by each named counter of the table; kNotFound when the table is gone.
Result<std::map<std::string, uint64_t>> ReadNftCounters(Env& system, const NftTable& table);

// The ruleset that creates table `inet <name>` atomically (`create` fails when it exists):
// named `counters`, a regular chain "verdict" holding `verdict_rules`, and base chains
// "ingress" (hook input) and/or "egress" (hook output) at priority kNftPriority, policy accept,
// whose lines are `<expression> goto verdict`, one per entry of `match_expressions` ("" matches
// every packet). `goto` sends a packet to the verdict chain at most once per hook.
std::string RenderNftTable(const std::string& name, const std::vector<std::string>& counters,
                           const std::vector<std::string>& verdict_rules,
                           const std::vector<std::string>& match_expressions, bool ingress,
                           bool egress);

// Before the usual filter tables (priority 0) so that the counters see packets before other
// software's rules drop them. A drop is final in any base chain, whatever its priority.
inline constexpr int kNftPriority = -10;

}  // namespace ringfence
