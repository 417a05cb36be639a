#include "runner/fleet_setup.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include <spdlog/spdlog.h>

namespace ringfence {

namespace {

void PrintErrors(const ValidationErrors& errors, const std::string& file) {
  for (const auto& line : errors.Format(file)) std::fprintf(stderr, "%s\n", line.c_str());
  std::fprintf(stderr, "%zu error%s; nothing was run\n", errors.size(),
               errors.size() == 1 ? "" : "s");
}

bool UsesHosts(const Experiment& experiment) {
  for (const auto& t : experiment.targets) {
    if (t.hosts) return true;
  }
  return false;
}

std::string DirOf(const std::string& file) {
  std::error_code ec;
  return std::filesystem::absolute(file, ec).parent_path().string();
}

}  // namespace

int LoadRunInventory(const RunRequest& request, const Experiment& experiment,
                     std::optional<Inventory>& inventory) {
  std::string path = request.inventory;
  if (path.empty() && experiment.inventory.is_string()) {
    path = experiment.inventory.get<std::string>();
    if (!path.empty() && path[0] != '/') path = DirOf(request.file) + "/" + path;
  }
  if (!path.empty()) {
    ValidationErrors errors;
    inventory = LoadInventoryFile(path, errors);
    if (!inventory) {
      PrintErrors(errors, path);
      return 2;
    }
    std::error_code ec;
    inventory->source = std::filesystem::absolute(path, ec).string();
  } else if (experiment.inventory.is_object()) {
    ValidationErrors errors;
    Inventory parsed =
        ParseInventory(experiment.inventory, DirOf(request.file), "/inventory", errors);
    if (!errors.empty()) {
      PrintErrors(errors, request.file);
      return 2;
    }
    parsed.source = request.file + "#/inventory";
    inventory = std::move(parsed);
  }
  ValidationErrors errors;
  if (!inventory) {
    for (const auto& t : experiment.targets) {
      if (t.hosts) {
        errors.Add(t.pointer + "/hosts", "no inventory",
                   "an inventory: --inventory FILE or /inventory in the experiment");
      }
    }
    if (!errors.empty()) {
      PrintErrors(errors, request.file);
      return 2;
    }
    return 0;
  }
  ValidateHostTargets(experiment, *inventory, errors);
  if (!errors.empty()) {
    PrintErrors(errors, request.file);
    return 2;
  }
  if (!UsesHosts(experiment)) inventory.reset();  // nothing runs on them
  return 0;
}

std::unique_ptr<SshFleet> MakeRunFleet(const RunRequest& request, const Experiment& experiment,
                                       const Inventory& inventory, const std::string& run_id) {
  FleetOptions options;
  options.run_id = run_id;
  options.title = experiment.title;
  options.grace = request.watchdog_grace;
  options.max_concurrency = experiment.settings.max_concurrency;
  options.skip_unreachable = experiment.settings.skip_unreachable;
  options.push_binary = request.push_binary;
  options.local_binary = SelfBinary();
  auto fleet = std::make_unique<SshFleet>(inventory, options);
  // A local network fault must never cut the runner's SSH connections to its hosts.
  std::string endpoints;
  for (const auto& [address, port] : fleet->ControlEndpoints()) {
    endpoints += (endpoints.empty() ? "" : " ") + address + " " + std::to_string(port);
  }
  ::setenv("RINGFENCE_CONTROL_ENDPOINTS", endpoints.c_str(), 1);
  return fleet;
}

std::string RecordedInventory(const Inventory& inventory) {
  return inventory.source.find("#/inventory") == std::string::npos ? inventory.source : "";
}

}  // namespace ringfence
