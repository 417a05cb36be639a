#include "runner/run/fleet_setup.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include <spdlog/spdlog.h>
#include "core/sys/run_command.h"
#include "core/targets/host_pattern.h"
#include "core/targets/host_selection.h"

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
  const bool named_by_experiment = path.empty() && experiment.inventory.is_string();
  if (named_by_experiment) {
    path = experiment.inventory.get<std::string>();
    if (!path.empty() && path[0] != '/') path = DirOf(request.file) + "/" + path;
  }
  if (!path.empty()) {
    ValidationErrors errors;
    bool unreadable = false;
    inventory = LoadInventoryFile(path, errors, &unreadable);
    if (!inventory && unreadable && named_by_experiment && errors.size() == 1) {
      // A file that is missing (or not a regular file) is the experiment's error, at the
      // pointer that names it: `exp.json: /inventory: "fleet.json": a readable JSON file
      // (/dir/fleet.json: cannot read the file (No such file or directory))`.
      const ValidationError& e = errors.errors()[0];
      ValidationErrors at_pointer;
      at_pointer.Add("/inventory", FoundValue(experiment.inventory),
                     e.allowed + " (" + path + ": " + e.found + ")");
      PrintErrors(at_pointer, request.file);
      return 2;
    }
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
  if (inventory && !request.limit.empty()) {
    // --limit narrows the inventory before any target is matched against it.
    Status limited = LimitInventory(*inventory, request.limit);
    if (!limited.ok()) {
      std::fprintf(stderr, "ringfence: --limit: %s; nothing was run\n", limited.message().c_str());
      return 2;
    }
  } else if (!request.limit.empty()) {
    std::fprintf(stderr,
                 "ringfence: --limit: %s: an inventory to narrow (--inventory FILE or "
                 "/inventory in the experiment); nothing was run\n",
                 FoundValue(nlohmann::json(request.limit)).c_str());
    return 2;
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

std::unique_ptr<SshFleet> MakeRunFleet(Env& system, const RunRequest& request,
                                       const Experiment& experiment, const Inventory& inventory,
                                       const std::string& run_id, const std::string& control_dir,
                                       const SecretValues& secrets) {
  FleetOptions options;
  options.run_id = run_id;
  options.title = secrets.Conceal(experiment.title);
  options.secrets = secrets;
  options.grace = request.watchdog_grace;
  options.max_concurrency = experiment.settings.max_concurrency;
  options.skip_unreachable = experiment.settings.skip_unreachable;
  options.push_binary = request.push_binary;
  options.local_binary = SelfBinary();
  options.control_dir = control_dir;
  auto fleet = std::make_unique<SshFleet>(system, inventory, options);
  // A local network fault must never cut the runner's SSH connections to its hosts.
  std::string endpoints;
  for (const auto& [address, port] : fleet->ControlEndpoints()) {
    endpoints += (endpoints.empty() ? "" : " ") + address + " " + std::to_string(port);
  }
  ::setenv("RINGFENCE_CONTROL_ENDPOINTS", endpoints.c_str(), 1);
  return fleet;
}

Result<std::unique_ptr<HostRoutingExecutor>> HostRoutingExecutor::Make(
    Env& system, Executor& local, const std::string& inventory_file, const std::string& run_id,
    const SecretValues& secrets) {
  ValidationErrors errors;
  auto inventory = LoadInventoryFile(inventory_file, errors);
  if (!inventory) {
    std::string text;
    for (const auto& line : errors.Format(inventory_file))
      text += (text.empty() ? "" : "; ") + line;
    return Status::InvalidInput(text);
  }
  inventory->source = inventory_file;
  FleetOptions options;
  options.run_id = run_id;
  options.secrets = secrets;
  options.local_binary = SelfBinary();
  // A handful of reverts after a crash: one-shot commands, the path with the fewest parts.
  options.host_sessions = false;
  return std::unique_ptr<HostRoutingExecutor>(
      new HostRoutingExecutor(local, std::make_unique<SshFleet>(system, *inventory, options)));
}

Status HostRoutingExecutor::Revert(const UndoRecord& undo) {
  if (undo.host == local_.host()) return local_.Revert(undo);
  SshExecutor* host = fleet_->Find(undo.host);
  if (host == nullptr) {
    return Status::NotFound(undo.target + " is on host " + undo.host + ", which the inventory " +
                            fleet_->inventory().source + " does not list");
  }
  if (Status connected = host->Connect(); !connected.ok()) return connected;
  return host->Revert(undo);
}

Verification HostRoutingExecutor::Verify(const UndoRecord& undo) {
  if (undo.host == local_.host()) return local_.Verify(undo);
  SshExecutor* host = fleet_->Find(undo.host);
  if (host == nullptr) {
    return Verification::Unknown("host " + undo.host + " is not in the inventory");
  }
  return host->Verify(undo);
}

std::string RecordedInventory(const Inventory& inventory) {
  return inventory.source.find("#/inventory") == std::string::npos ? inventory.source : "";
}

}  // namespace ringfence
