#include "runner/commands/map_command.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>

#include "core/base/input_file.h"
#include "core/base/json_fields.h"
#include "core/fault/fault.h"
#include "core/ledger/file_ledger.h"
#include "core/ledger/recovery.h"
#include "core/model/dependency_map.h"
#include "core/model/experiment.h"
#include "core/observe/dependency_discovery.h"
#include "core/observe/probe.h"
#include "core/sys/system_clock.h"
#include "core/sys/system_env.h"
#include "core/sys/system_process_table.h"
#include "core/targets/target_resolver.h"
#include "report/map_report.h"
#include "report/report_files.h"
#include "runner/commands/map_cells.h"
#include "runner/run/experiment_runner.h"

namespace ringfence {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// The experiment of a cell, loaded (the map loader already validated it).
std::optional<Experiment> CellExperiment(const MapCell& cell) {
  ValidationErrors errors;
  LoadOptions options;
  options.catalog = &FaultRegistry::Global();
  options.env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  return LoadExperimentText(cell.experiment.dump(), options, errors);
}

// "<journal without .json>.<dependency>-<fault>.journal.json", beside the map journal.
std::string CellJournalPath(const std::string& journal, const MapDependency& dependency,
                            const MapFault& fault) {
  std::string stem = journal;
  if (stem.size() > 5 && stem.compare(stem.size() - 5, 5, ".json") == 0) {
    stem.resize(stem.size() - 5);
  }
  return stem + "." + dependency.name + "-" + MapFaultKindName(fault.kind) + ".journal.json";
}

std::string FaultText(const MapCell& cell, const MapFault& fault) {
  const json& step = cell.experiment["method"][0];
  std::string what = MapFaultKindName(fault.kind);
  if (fault.kind == MapFaultKind::kLatency) {
    what += " +" + step["params"].value("delay", std::string("?"));
  } else if (fault.kind == MapFaultKind::kPartition) {
    what += " (" + step["params"].value("action", std::string("?")) + ")";
  } else {
    what += " (" + step["params"].value("signal", std::string("?")) + ")";
  }
  return what + " for " + FormatDuration(fault.duration) + ", settle " +
         FormatDuration(fault.settle);
}

// Polls the steady-state probes until all are met or `settle` passed; true when they held.
bool WaitForSteadyState(ProbeRunner& probes, const Experiment& experiment, Duration settle,
                        Clock& clock) {
  StopSource never;
  const auto deadline = clock.Monotonic() + settle;
  for (;;) {
    bool all = true;
    for (const auto& probe : experiment.steady_state) {
      all = all && probes.Run(probe, experiment).met;
    }
    if (all) return true;
    const auto next = clock.Monotonic() + std::chrono::milliseconds(250);
    if (next > deadline) return false;
    clock.SleepUntil(next, never);
  }
}

json DiscoveredJson(const DiscoveredDependency& d) {
  json listener = nullptr;
  if (d.listener) listener = {{"pid", d.listener->pid}, {"name", d.listener->name}};
  return {{"endpoint", d.remote.Format()},
          {"clients", d.clients},
          {"samples_seen", d.samples_seen},
          {"max_connections", d.max_connections},
          {"listener", listener}};
}

std::string ListenerText(const DiscoveredDependency& d) {
  return d.listener ? "pid " + std::to_string(d.listener->pid) + " (" + d.listener->name + ")"
                    : "-";
}

Status WriteJson(const std::string& path, const json& doc) {
  return WriteTextFileAtomically(path, doc.dump(2) + "\n");
}

}  // namespace

int RunMapCommand(const MapRequest& request) {
  ValidationErrors errors;
  MapLoadOptions options;
  options.catalog = &FaultRegistry::Global();
  auto map = LoadDependencyMapFile(request.file, options, errors);
  if (!map) {
    for (const auto& line : errors.Format(request.file)) std::fprintf(stderr, "%s\n", line.c_str());
    std::fprintf(stderr, "ringfence map: %zu error(s); nothing was run\n", errors.size());
    return 2;
  }
  if (!request.report_html.empty()) {
    if (Status s = CheckReportPath("--report", request.report_html); !s.ok()) {
      std::fprintf(stderr, "ringfence map: %s; nothing was run\n", s.message().c_str());
      return 2;
    }
  }
  auto first = CellExperiment(map->cells.front());
  if (!first) {
    std::fprintf(stderr, "ringfence map: internal error: a cell does not load\n");
    return 3;
  }

  auto processes = MakeSystemProcessTable();
  SystemEnv system(*processes);
  const TargetSpec* service = first->FindTarget("service");
  auto matches = MatchProcesses(*processes, service->process);
  std::vector<pid_t> pids;
  if (matches.ok()) {
    for (const auto& p : *matches) pids.push_back(p.pid);
  }
  std::printf("map \"%s\": service %s, %zu dependencies, %zu cells\n", map->title.c_str(),
              map->service_name.c_str(), map->dependencies.size(), map->cells.size());
  if (pids.empty()) {
    std::fprintf(stderr,
                 "ringfence map: no process of the service: /service/process (%s) matches "
                 "none%s; nothing was run\n",
                 DescribeSelector(service->process).c_str(),
                 matches.ok() ? "" : (" (" + matches.status().message() + ")").c_str());
    return 3;
  }
  std::string pid_list;
  for (pid_t p : pids) pid_list += (pid_list.empty() ? "" : ", ") + std::to_string(p);
  std::printf("service processes: %s\n", pid_list.c_str());

  json result = {{"map_version", 1},
                 {"title", map->title},
                 {"service", {{"name", map->service_name}, {"pids", pids}}},
                 {"started_at", FormatRfc3339(SystemClock().Now())}};
  // Discovery: passive, so --dry-run does it too.
  DiscoveryFindings findings;
  if (map->discover) {
    auto sockets = MakeSystemSocketTable();
    StopSource stop;
    DiscoveryOptions discovery;
    discovery.window = std::chrono::duration_cast<std::chrono::milliseconds>(map->discover_window);
    auto found = DiscoverDependencies(pids, discovery, *sockets, *processes, SystemClock(), stop);
    if (!found.ok()) {
      std::fprintf(stderr, "ringfence map: discovery: %s; nothing was run\n",
                   found.status().message().c_str());
      return 3;
    }
    findings = CompareWithDiscovery(*map, *found, pids);
    std::printf("discovered in %s (%d samples):\n", FormatDuration(map->discover_window).c_str(),
                found->samples);
    json discovered = json::array();
    for (const auto& d : found->dependencies) {
      // Declared (its name), undeclared, or the service's own (a connection to itself).
      std::string declared = "(the service)";
      for (const auto& u : findings.undeclared) {
        if (u.remote == d.remote) declared = "undeclared";
      }
      for (const auto& dep : map->dependencies) {
        if (dep.endpoint && dep.endpoint->address == d.remote.address &&
            dep.endpoint->port == d.remote.port) {
          declared = dep.name;
        }
      }
      std::printf("  %-24s %-14s listener %s, up to %d connection(s)\n", d.remote.Format().c_str(),
                  declared.c_str(), ListenerText(d).c_str(), d.max_connections);
      discovered.push_back(DiscoveredJson(d));
    }
    if (found->dependencies.empty()) std::printf("  (no outbound TCP connection)\n");
    for (const auto& name : findings.declared_not_seen) {
      std::printf("declared, not seen in use: %s\n", name.c_str());
    }
    json undeclared = json::array();
    for (const auto& d : findings.undeclared) undeclared.push_back(DiscoveredJson(d));
    result["discovery"] = {{"window", FormatDuration(map->discover_window)},
                           {"samples", found->samples},
                           {"found", discovered},
                           {"undeclared", undeclared},
                           {"declared_not_seen", findings.declared_not_seen},
                           {"notes", found->notes}};
  }
  std::printf("cells, in order:\n");
  for (size_t i = 0; i < map->cells.size(); ++i) {
    const MapCell& cell = map->cells[i];
    const MapDependency& dep = map->dependencies[cell.dependency];
    std::printf("  %zu. %-28s %s\n", i + 1, cell.name.c_str(),
                FaultText(cell, dep.faults[cell.fault]).c_str());
  }
  if (request.dry_run) {
    std::printf("dry run: nothing was injected\n");
    return 0;
  }

  // The cells, one after another under one lock.
  std::optional<StateDirLock> lock;
  if (!request.run.allow_concurrent) {
    const std::string state_dir =
        request.run.state_dir.empty() ? DefaultStateDir() : request.run.state_dir;
    auto acquired = AcquireRunLock(state_dir);
    if (!acquired.ok()) return 3;
    lock.emplace(std::move(*acquired));
  }
  // The cells' experiment files, beside the map journal (mkdtemp: mode 0700), removed at the
  // end; a runner killed mid-map leaves the folder where its journals are, not in /tmp.
  std::string journal_dir = fs::path(request.journal).parent_path().string();
  if (journal_dir.empty()) journal_dir = ".";
  std::string dir_template = journal_dir + "/.ringfence-map-cells-XXXXXX";
  if (mkdtemp(dir_template.data()) == nullptr) {
    std::fprintf(stderr, "ringfence map: cannot make a folder in %s; nothing was run\n",
                 journal_dir.c_str());
    return 3;
  }
  const std::string cell_dir = dir_template;
  auto probes = MakeProbeRunner(system);
  std::vector<CellResult> cells;
  std::string stopped;
  int worst_exit = 0;
  for (size_t i = 0; i < map->cells.size(); ++i) {
    const MapCell& cell = map->cells[i];
    const MapDependency& dep = map->dependencies[cell.dependency];
    const MapFault& fault = dep.faults[cell.fault];
    const std::string file = cell_dir + "/cell-" + std::to_string(i + 1) + ".json";
    if (Status s = WriteJson(file, cell.experiment); !s.ok()) {
      stopped = s.message();
      break;
    }
    RunRequest run = request.run;
    run.file = file;
    run.journal = CellJournalPath(request.journal, dep, fault);
    run.held_lock_fd = lock ? lock->fd() : -1;
    run.report_html.clear();
    run.report_junit.clear();
    run.report_summary.clear();
    std::printf("\nmap: [%zu/%zu] %s\n", i + 1, map->cells.size(), cell.name.c_str());
    std::fflush(stdout);
    RunOutcome outcome;
    const int code = RunExperimentFile(run, &outcome);
    json journal = json::object();
    if (outcome.journal_written) {
      if (auto text = ReadInputFile(run.journal, 64 << 20); text.ok()) {
        if (auto parsed = ParseUntrustedJson(*text); parsed.ok() && parsed->is_object()) {
          journal = *parsed;
        }
      }
    }
    bool recovered = code != 4;
    auto experiment = CellExperiment(cell);
    if (recovered && experiment &&
        !(journal.is_object() && journal.value("status", "") == "not_steady")) {
      recovered = WaitForSteadyState(*probes, *experiment, fault.settle, SystemClock());
    }
    CellResult result = ClassifyCell(journal, recovered);
    result.dependency = dep.name;
    result.fault = MapFaultKindName(fault.kind);
    result.exit_code = code;
    result.journal = outcome.journal_written ? run.journal : "";
    if (result.outcome == CellOutcome::kNotRun && result.detail.empty()) {
      result.detail = outcome.reason;
    }
    std::printf("map: %s: %s%s%s\n", cell.name.c_str(), CellOutcomeName(result.outcome).c_str(),
                result.detail.empty() ? "" : ": ", result.detail.c_str());
    cells.push_back(result);
    if (code == 4) {
      worst_exit = 4;
      stopped = "a revert failed in " + cell.name + "; run `ringfence recover`";
      break;
    }
    if (code == 130 || code == 143 || code == 129) {
      worst_exit = code;
      stopped = "interrupted";
      break;
    }
    if (result.outcome == CellOutcome::kNotRecovered) {
      stopped = cell.name + ": the service did not recover";
      break;
    }
    if (result.outcome == CellOutcome::kNotRun) {
      stopped = cell.name + ": not run (" + result.detail + ")";
      worst_exit = 3;
      break;
    }
  }
  std::error_code ec;
  fs::remove_all(cell_dir, ec);

  // Per dependency: the verdict against `expect`.
  json dependencies = json::array();
  bool mismatch = false;
  std::printf("\n%-16s %-14s %-14s %-14s %-8s %-8s\n", "dependency", "latency", "partition", "kill",
              "verdict", "expect");
  for (const auto& dep : map->dependencies) {
    std::vector<CellResult> own;
    std::map<std::string, std::string> by_fault;
    for (const auto& c : cells) {
      if (c.dependency == dep.name) {
        own.push_back(c);
        by_fault[c.fault] = CellOutcomeName(c.outcome);
      }
    }
    const auto verdict = DependencyVerdict(own);
    const std::string verdict_text = verdict ? DependencyKindName(*verdict) : "-";
    const std::string expect_text = dep.expect ? DependencyKindName(*dep.expect) : "-";
    const bool differs = verdict && dep.expect && *verdict != *dep.expect;
    mismatch = mismatch || differs;
    auto cell_text = [&](const char* kind) {
      auto it = by_fault.find(kind);
      return it == by_fault.end() ? std::string("-") : it->second;
    };
    std::printf("%-16s %-14s %-14s %-14s %-8s %-8s%s\n", dep.name.c_str(),
                cell_text("latency").c_str(), cell_text("partition").c_str(),
                cell_text("kill").c_str(), verdict_text.c_str(), expect_text.c_str(),
                differs ? "  MISMATCH" : "");
    json cell_list = json::array();
    for (const auto& c : own) cell_list.push_back(c.ToJson());
    dependencies.push_back({{"name", dep.name},
                            {"endpoint", dep.endpoint ? json(dep.endpoint->Format()) : json()},
                            {"expect", dep.expect ? json(expect_text) : json()},
                            {"verdict", verdict ? json(verdict_text) : json()},
                            {"mismatch", differs},
                            {"cells", cell_list}});
  }
  for (const auto& d : findings.undeclared) {
    std::printf("undeclared dependency: %s (listener %s)\n", d.remote.Format().c_str(),
                ListenerText(d).c_str());
  }
  if (!stopped.empty()) std::printf("map stopped: %s\n", stopped.c_str());
  result["dependencies"] = dependencies;
  result["stopped"] = stopped.empty() ? json() : json(stopped);
  result["ended_at"] = FormatRfc3339(SystemClock().Now());
  if (Status s = WriteJson(request.journal, result); !s.ok()) {
    std::fprintf(stderr, "ringfence map: %s\n", s.message().c_str());
    if (worst_exit == 0) worst_exit = 3;
  } else {
    std::printf("map journal: %s\n", request.journal.c_str());
  }
  if (!request.report_html.empty()) {
    if (Status s = WriteMapHeatmap(result, request.report_html); !s.ok()) {
      std::fprintf(stderr, "ringfence map: --report: %s\n", s.message().c_str());
      if (worst_exit == 0) worst_exit = 3;
    } else {
      std::printf("map heatmap: %s\n", request.report_html.c_str());
    }
  }
  if (worst_exit != 0) return worst_exit;
  const bool not_recovered = !cells.empty() && cells.back().outcome == CellOutcome::kNotRecovered;
  return mismatch || not_recovered ? 1 : 0;
}

}  // namespace ringfence
