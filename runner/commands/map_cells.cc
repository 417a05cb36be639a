#include "runner/commands/map_cells.h"

#include <algorithm>
#include <cmath>

#include "core/base/clock.h"

namespace ringfence {

namespace {

using json = nlohmann::json;

std::string StringOr(const json& object, const char* key, const std::string& fallback = "") {
  if (!object.is_object()) return fallback;
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : fallback;
}

std::optional<WallTime> TimeOf(const json& object, const char* key) {
  const std::string text = StringOr(object, key);
  if (text.empty()) return std::nullopt;
  return ParseRfc3339(text);
}

// The median of the samples' values: one slow sample (a loaded host) does not move it.
std::optional<double> Median(const json& samples) {
  if (!samples.is_array()) return std::nullopt;
  std::vector<double> values;
  for (const auto& s : samples) {
    if (s.is_object() && s.contains("value") && s["value"].is_number()) {
      values.push_back(s["value"].get<double>());
    }
  }
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// Three significant digits, without an exponent for what people read ("1940", not "1.94e+03").
std::string Number(double v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, std::fabs(v) >= 100 ? "%.0f" : "%.3g", v);
  return buf;
}

}  // namespace

std::string CellOutcomeName(CellOutcome outcome) {
  switch (outcome) {
    case CellOutcome::kNoImpact:
      return "no impact";
    case CellOutcome::kDegraded:
      return "degraded";
    case CellOutcome::kBroken:
      return "broken";
    case CellOutcome::kNotRecovered:
      return "not recovered";
    case CellOutcome::kNotRun:
      return "not run";
  }
  return "not run";
}

json CellResult::ToJson() const {
  json moved = json::array();
  for (const auto& m : moves) {
    moved.push_back(
        {{"slo", m.slo}, {"reference", m.reference}, {"worst", m.worst}, {"change", m.change}});
  }
  return {{"dependency", dependency},
          {"fault", fault},
          {"outcome", CellOutcomeName(outcome)},
          {"run_status", run_status},
          {"exit_code", exit_code},
          {"detail", detail},
          {"moved", moved},
          {"breached_slo", breached_slo ? json(*breached_slo) : json(nullptr)},
          {"time_to_breach_ms", time_to_breach_ms ? json(*time_to_breach_ms) : json(nullptr)},
          {"journal", journal}};
}

CellResult ClassifyCell(const json& journal, bool recovered) {
  CellResult cell;
  cell.run_status = StringOr(journal, "status", "error");
  const json empty = json::array();
  const json& faults =
      journal.is_object() && journal.contains("faults") && journal["faults"].is_array()
          ? journal["faults"]
          : empty;
  const json fault = faults.empty() ? json::object() : faults[0];
  const auto injected = TimeOf(fault, "injected_at");
  if (!injected) {
    cell.outcome = CellOutcome::kNotRun;
    cell.detail = "not injected: " + StringOr(journal, "reason", cell.run_status);
    return cell;
  }
  const auto reverted = TimeOf(fault, "reverted_at");

  const json abort = journal.value("abort", json(nullptr));
  if (abort.is_object() && StringOr(abort, "by") != "operator") {
    cell.outcome = CellOutcome::kBroken;
    cell.breached_slo = StringOr(abort, "guard");
    if (auto sampled = TimeOf(abort, "sampled_at")) {
      cell.time_to_breach_ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(*sampled - *injected).count();
    }
    cell.detail = *cell.breached_slo + " breached: " + StringOr(abort, "reason");
  }

  const json& guards =
      journal.is_object() && journal.contains("guards") && journal["guards"].is_array()
          ? journal["guards"]
          : empty;
  for (const auto& g : guards) {
    if (!g.is_object()) continue;
    std::optional<double> reference;
    if (g.contains("baseline") && g["baseline"].is_number()) {
      reference = g["baseline"].get<double>();
    } else {
      reference = Median(g.value("baseline_samples", json::array()));
    }
    // The values before the fault (the reference when the guard measured no baseline) and
    // while it was active.
    json before = json::array();
    std::vector<double> during;
    const json samples = g.value("samples", json::array());
    for (const auto& s : samples.is_array() ? samples : empty) {
      if (!s.is_object() || !s.contains("value") || !s["value"].is_number()) continue;
      const auto at = TimeOf(s, "at");
      if (!at) continue;
      if (*at < *injected) {
        before.push_back(s);
      } else if (!reverted || *at <= *reverted) {
        during.push_back(s["value"].get<double>());
      }
    }
    if (!reference) reference = Median(before);
    std::optional<double> worst;
    for (double v : during) {
      if (!worst || (reference && std::fabs(v - *reference) > std::fabs(*worst - *reference))) {
        worst = v;
      }
    }
    if (!reference || !worst) continue;
    const double change =
        *reference == 0 ? *worst - *reference : (*worst - *reference) / std::fabs(*reference);
    if (std::fabs(change) < kMovedChange) continue;
    cell.moves.push_back({StringOr(g, "name"), *reference, *worst, change});
  }

  if (!recovered) {
    cell.outcome = CellOutcome::kNotRecovered;
    cell.detail = "the steady state did not hold again within the settle time";
  } else if (cell.outcome != CellOutcome::kBroken) {
    cell.outcome = cell.moves.empty() ? CellOutcome::kNoImpact : CellOutcome::kDegraded;
    for (const auto& m : cell.moves) {
      cell.detail += std::string(cell.detail.empty() ? "" : "; ") + m.slo + " " + Number(m.worst) +
                     " against " + Number(m.reference) + " (" + (m.change >= 0 ? "+" : "") +
                     Number(m.change * 100) + "%)";
    }
  }
  return cell;
}

std::optional<DependencyKind> DependencyVerdict(const std::vector<CellResult>& cells) {
  std::optional<DependencyKind> verdict;
  for (const auto& c : cells) {
    DependencyKind kind;
    switch (c.outcome) {
      case CellOutcome::kBroken:
      case CellOutcome::kNotRecovered:
        kind = DependencyKind::kHard;
        break;
      case CellOutcome::kDegraded:
        kind = DependencyKind::kSoft;
        break;
      case CellOutcome::kNoImpact:
        kind = DependencyKind::kNone;
        break;
      default:
        continue;
    }
    // hard < soft < none in the enum: the most severe wins.
    if (!verdict || static_cast<int>(kind) < static_cast<int>(*verdict)) verdict = kind;
  }
  return verdict;
}

DiscoveryFindings CompareWithDiscovery(const DependencyMap& map, const DiscoveryResult& found,
                                       const std::vector<pid_t>& service_pids) {
  DiscoveryFindings findings;
  auto declared = [&](const TcpEndpoint& e) {
    for (const auto& d : map.dependencies) {
      if (d.endpoint && d.endpoint->address == e.address && d.endpoint->port == e.port) {
        return true;
      }
    }
    return false;
  };
  auto itself = [&](const DiscoveredDependency& d) {
    if (map.service_endpoint && map.service_endpoint->address == d.remote.address &&
        map.service_endpoint->port == d.remote.port) {
      return true;
    }
    return d.listener && std::find(service_pids.begin(), service_pids.end(), d.listener->pid) !=
                             service_pids.end();
  };
  for (const auto& d : found.dependencies) {
    if (!declared(d.remote) && !itself(d)) findings.undeclared.push_back(d);
  }
  for (const auto& d : map.dependencies) {
    if (!d.endpoint) continue;
    bool seen = false;
    for (const auto& f : found.dependencies) {
      seen = seen || (f.remote.address == d.endpoint->address && f.remote.port == d.endpoint->port);
    }
    if (!seen) findings.declared_not_seen.push_back(d.name);
  }
  return findings;
}

}  // namespace ringfence
