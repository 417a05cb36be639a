#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/experiment.h"
#include "core/inventory.h"
#include "core/ssh_executor.h"
#include "runner/experiment_runner.h"

namespace ringfence {

// The inventory of a run: --inventory FILE, else the experiment's /inventory (a path relative
// to the experiment file, or an object). Checks every host target against it. Returns 0 (with
// `inventory` set when there is one), or 2 after printing every error ("<file>: <pointer>:
// <found>: <allowed>", then "N errors; nothing was run").
int LoadRunInventory(const RunRequest& request, const Experiment& experiment,
                     std::optional<Inventory>& inventory);

// The fleet of one run (run_id "" for a dry run: nothing is armed on the hosts). Logs loudly
// when the inventory turns host-key checking off, and protects the hosts' SSH endpoints from
// local network faults.
std::unique_ptr<SshFleet> MakeRunFleet(const RunRequest& request, const Experiment& experiment,
                                       const Inventory& inventory, const std::string& run_id);

// The inventory as the local ledger records it (for `recover --inventory`): the absolute path
// of its file, or "" for an inventory inside the experiment.
std::string RecordedInventory(const Inventory& inventory);

}  // namespace ringfence
