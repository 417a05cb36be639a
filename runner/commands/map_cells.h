#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/model/dependency_map.h"
#include "core/observe/dependency_discovery.h"

namespace ringfence {

// What one dependency × fault cell did to the service (docs/dependency-map.md, "Reading the
// result").
enum class CellOutcome { kNoImpact, kDegraded, kBroken, kNotRecovered, kNotRun };
std::string CellOutcomeName(CellOutcome outcome);  // "no impact", "degraded", ...

// An SLO that moved during the fault: its worst value against its reference (the baseline the
// guard measured, else the median of its baseline samples, else of its samples before the
// fault).
struct SloMove {
  std::string slo;
  double reference = 0;
  double worst = 0;
  double change = 0;  // (worst - reference) / |reference|; worst - reference when reference is 0
};

// A relative change of at least this much (20 %) during the fault counts as moved.
inline constexpr double kMovedChange = 0.2;

struct CellResult {
  std::string dependency;
  std::string fault;  // "latency", "partition", "kill"
  CellOutcome outcome = CellOutcome::kNotRun;
  std::string run_status;  // the cell run's status (passed, aborted, not_steady, ...)
  int exit_code = 0;
  std::string detail;  // one line: which SLO breached or moved, or why it did not run
  std::vector<SloMove> moves;
  std::optional<std::string> breached_slo;
  std::optional<long long> time_to_breach_ms;  // from the injection to the breaching sample
  std::string journal;                         // the cell run's journal
  nlohmann::json ToJson() const;
};

// Classifies a finished cell from its run's journal (read back: every field is checked, a
// missing one is treated as absent) and whether the service recovered within the settle time:
// not recovered when it did not; broken when a guard aborted the run; degraded when an SLO
// moved by kMovedChange or more against its reference while the fault was active, still within
// its limits; no impact otherwise. A run that did not get to inject (not_steady, error, invalid)
// is not run.
CellResult ClassifyCell(const nlohmann::json& journal, bool recovered);

// hard when a cell broke the service or left it not recovered, soft when one degraded it, none
// when no cell moved anything (cells not run are ignored; all not run: nullopt).
std::optional<DependencyKind> DependencyVerdict(const std::vector<CellResult>& cells);

// The declared dependencies' endpoints against what discovery found: endpoints in use that no
// dependency declares, and declared endpoints never seen. An endpoint served by one of the
// service's own processes (`service_pids`), or its /service/endpoint, is the service itself.
struct DiscoveryFindings {
  std::vector<DiscoveredDependency> undeclared;
  std::vector<std::string> declared_not_seen;  // dependency names
};
DiscoveryFindings CompareWithDiscovery(const DependencyMap& map, const DiscoveryResult& found,
                                       const std::vector<pid_t>& service_pids);

}  // namespace ringfence
