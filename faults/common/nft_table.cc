#include "faults/common/nft_table.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <sstream>

#include "core/base/process_table.h"
#include "core/sys/run_command.h"
#include "faults/common/netns_command.h"
#include "faults/common/nft_match.h"

namespace ringfence {

namespace {

constexpr std::chrono::seconds kNftTimeout{10};
constexpr char kNoSuchFile[] = "No such file or directory";

std::atomic<unsigned> g_table_counter{1};

// The first line of nft's complaint, without its "Error: " prefix.
std::string NftErrorLine(const CommandResult& r) {
  const std::string& text = r.err.empty() ? r.out : r.err;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    if (line.rfind("Error: ", 0) == 0) line = line.substr(7);
    return line;
  }
  return "exit code " + std::to_string(r.exit_code);
}

Status NftFailure(StatusCode code, const std::string& what, const CommandResult& r) {
  if (r.timed_out) {
    return Status::Timeout(what + ": nft did not finish within " +
                           std::to_string(kNftTimeout.count()) + "s");
  }
  const std::string error = NftErrorLine(r);
  if (error.find("Operation not permitted") != std::string::npos) {
    return Status::Error(StatusCode::kPermission, what + ": " + error + " (needs CAP_NET_ADMIN)");
  }
  return Status::Error(code, what + ": " + error);
}

// Runs nft with `args`, inside `netns` when it is not "".
Result<CommandResult> RunNft(Env& system, const std::string& netns,
                             const std::vector<std::string>& args) {
  auto nft = FindSystemTool("nft", "nftables");
  if (!nft.ok()) return nft.status();
  std::vector<std::string> argv = {*nft};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunInNetns(system, CommandNetns{netns, false}, argv, kNftTimeout);
}

// The namespace of `table` vanished while nft was being started in it.
bool GoneWithItsNamespace(const NftTable& table) {
  return !table.netns.empty() && !NetnsExists(table.netns);
}

bool IsNftIdentifier(const std::string& s) {
  if (s.empty() || s.size() > 255) return false;
  for (char c : s) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string NftTable::ManualUndo() const {
  return CommandInNetns(netns, "nft delete table inet " + name);
}

nlohmann::json NftTable::ToJson() const {
  nlohmann::json j = {{"family", "inet"}, {"table", name}};
  if (!netns.empty()) j["netns"] = netns;
  return j;
}

Result<NftTable> NftTable::FromJson(const nlohmann::json& data) {
  if (!data.is_object() || !data.contains("table") || !data["table"].is_string()) {
    return Status::InvalidInput("undo record without a table name: " + data.dump());
  }
  NftTable table;
  table.name = data["table"].get<std::string>();
  if (table.name.rfind(kNftTablePrefix, 0) != 0 || !IsNftIdentifier(table.name)) {
    return Status::InvalidInput("undo record names \"" + table.name +
                                "\", which is not a ringfence table (ringfence_[A-Za-z0-9_]*)");
  }
  if (data.value("family", "inet") != "inet") {
    return Status::InvalidInput("undo record names a table of family \"" +
                                data.value("family", "") + "\"; ringfence tables are inet");
  }
  if (data.contains("netns")) {
    if (!data["netns"].is_string()) {
      return Status::InvalidInput("undo record with a netns that is not a string");
    }
    table.netns = data["netns"].get<std::string>();
    if (!IsValidNetnsName(table.netns)) {
      return Status::InvalidInput("undo record names network namespace \"" + table.netns +
                                  "\", which is not a valid name");
    }
  }
  return table;
}

std::string SanitizeForNft(const std::string& run_id) {
  std::string out;
  for (char c : run_id) {
    if (out.size() == 64) break;
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    out += ok ? c : '_';
  }
  return out.empty() ? "run" : out;
}

Result<std::string> ChooseNftTableName(Env& system, const std::string& run_id,
                                       const std::string& netns) {
  auto existing = ListInetTables(system, netns);
  if (!existing.ok()) return existing.status();
  const std::set<std::string> taken(existing->begin(), existing->end());
  const std::string stem = std::string(kNftTablePrefix) + SanitizeForNft(run_id) + "_";
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const std::string name = stem + std::to_string(g_table_counter.fetch_add(1));
    if (taken.count(name) == 0) return name;
  }
  return Status::Runtime("no free nft table name of the form " + stem + "<n>");
}

Status CheckNftUsable(Env& system, const std::string& netns) {
  // `nft --check` takes the table to the kernel and back without committing it: creating and
  // deleting a real scratch table would leave it behind if the runner died in between, and no
  // ledger names it.
  const std::string name = std::string(kNftTablePrefix) + "scratch_" + std::to_string(::getpid()) +
                           "_" + std::to_string(g_table_counter.fetch_add(1));
  auto checked = RunNft(system, netns, {"--check", RenderNftTable(name, {}, {}, {}, true, false)});
  if (!checked.ok()) return checked.status();
  if (checked->exit_code != 0) {
    return NftFailure(StatusCode::kUnavailable, "the kernel refused an nftables table", *checked);
  }
  return Status::Ok();
}

Status CheckNftRuleset(Env& system, const std::string& ruleset, const std::string& netns) {
  auto checked = RunNft(system, netns, {"--check", ruleset});
  if (!checked.ok()) return checked.status();
  if (checked->exit_code != 0) {
    return NftFailure(StatusCode::kUnavailable, "nft refused the rules", *checked);
  }
  return Status::Ok();
}

Status ApplyNftRuleset(Env& system, const std::string& ruleset, const std::string& netns) {
  auto applied = RunNft(system, netns, {ruleset});
  if (!applied.ok()) return applied.status();
  if (applied->exit_code != 0) {
    return NftFailure(StatusCode::kRuntime, "nft could not apply the rules", *applied);
  }
  return Status::Ok();
}

Status ApplyNftRulesetIfTableExists(Env& system, const std::string& ruleset,
                                    const NftTable& table) {
  if (!table.netns.empty() && !NetnsExists(table.netns)) return Status::Ok();
  auto applied = RunNft(system, table.netns, {ruleset});
  if (!applied.ok()) return GoneWithItsNamespace(table) ? Status::Ok() : applied.status();
  if (applied->exit_code == 0) return Status::Ok();
  if (NftErrorLine(*applied).find(kNoSuchFile) != std::string::npos) return Status::Ok();
  return NftFailure(StatusCode::kRuntime, "nft could not apply the rules", *applied);
}

Status DeleteNftTable(Env& system, const NftTable& table) {
  // The table lived inside the namespace; when the namespace is gone, so is the table.
  if (!table.netns.empty() && !NetnsExists(table.netns)) return Status::Ok();
  auto deleted = RunNft(system, table.netns, {"delete", "table", "inet", table.name});
  if (!deleted.ok()) return GoneWithItsNamespace(table) ? Status::Ok() : deleted.status();
  if (deleted->exit_code == 0) return Status::Ok();
  // Also what `ip netns exec` says when the namespace vanished since the check above.
  if (NftErrorLine(*deleted).find(kNoSuchFile) != std::string::npos) return Status::Ok();
  return NftFailure(StatusCode::kRuntime, "nft delete table inet " + table.name, *deleted);
}

Result<std::vector<std::string>> ListInetTables(Env& system, const std::string& netns) {
  auto listed = RunNft(system, netns, {"list", "tables", "inet"});
  if (!listed.ok()) return listed.status();
  if (listed->exit_code != 0) {
    return NftFailure(StatusCode::kRuntime, "nft list tables inet", *listed);
  }
  std::vector<std::string> names;
  std::istringstream lines(listed->out);
  std::string word_table, word_family, name;
  while (lines >> word_table >> word_family >> name) {
    if (word_table == "table" && word_family == "inet") names.push_back(name);
  }
  return names;
}

Verification VerifyNftTableGone(Env& system, const NftTable& table) {
  const std::string where = table.netns.empty() ? "" : " in network namespace " + table.netns;
  if (!table.netns.empty() && !NetnsExists(table.netns)) {
    return Verification::Reverted("network namespace " + table.netns + " is gone, and its tables");
  }
  auto tables = ListInetTables(system, table.netns);
  if (!tables.ok()) {
    return Verification::Unknown("cannot list nft tables: " + tables.status().message());
  }
  if (std::find(tables->begin(), tables->end(), table.name) != tables->end()) {
    return Verification::NotReverted("nft table inet " + table.name + where + " still exists");
  }
  return Verification::Reverted("nft table inet " + table.name + where + " is gone");
}

Result<std::map<std::string, uint64_t>> ReadNftCounters(Env& system, const NftTable& table) {
  if (!table.netns.empty() && !NetnsExists(table.netns)) {
    return Status::NotFound("network namespace \"" + table.netns + "\" is gone");
  }
  auto listed = RunNft(system, table.netns, {"--json", "list", "table", "inet", table.name});
  if (!listed.ok()) return listed.status();
  if (listed->exit_code != 0) {
    return NftFailure(NftErrorLine(*listed).find(kNoSuchFile) != std::string::npos
                          ? StatusCode::kNotFound
                          : StatusCode::kRuntime,
                      "nft list table inet " + table.name, *listed);
  }
  std::map<std::string, uint64_t> counters;
  try {
    const auto doc = nlohmann::json::parse(listed->out);
    for (const auto& item : doc.at("nftables")) {
      if (!item.contains("counter")) continue;
      const auto& counter = item["counter"];
      if (counter.is_object() && counter.contains("name") && counter.contains("packets")) {
        counters[counter["name"].get<std::string>()] = counter["packets"].get<uint64_t>();
      }
    }
  } catch (const nlohmann::json::exception& e) {
    return Status::Runtime("nft --json list table inet " + table.name +
                           ": unexpected output: " + e.what());
  }
  return counters;
}

std::string RenderNftTable(const std::string& name, const std::vector<std::string>& counters,
                           const std::vector<std::string>& verdict_rules,
                           const std::vector<std::string>& match_expressions, bool ingress,
                           bool egress) {
  // One statement per line: nft needs a newline or ';' after every closing brace.
  std::string text = "create table inet " + name + "\n";
  text += "table inet " + name + " {\n";
  for (const auto& counter : counters) text += "  counter " + counter + " {\n  }\n";
  text += "  chain verdict {\n";
  for (const auto& rule : verdict_rules) text += "    " + rule + "\n";
  text += "  }\n";
  const auto base_chain = [&](const std::string& chain, const std::string& hook) {
    text += "  chain " + chain + " {\n";
    text += "    type filter hook " + hook + " priority " + std::to_string(kNftPriority) +
            "; policy accept;\n";
    for (const auto& expression : match_expressions) {
      text += "    " + (expression.empty() ? "" : expression + " ") + "goto verdict\n";
    }
    text += "  }\n";
  };
  if (ingress) base_chain("ingress", "input");
  if (egress) base_chain("egress", "output");
  text += "}\n";
  return text;
}

}  // namespace ringfence
