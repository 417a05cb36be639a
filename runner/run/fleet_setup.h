#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/fleet/ssh_executor.h"
#include "core/model/experiment.h"
#include "core/model/inventory.h"
#include "runner/base/run_request.h"

namespace ringfence {

// The inventory of a run: --inventory FILE, else the experiment's /inventory (a path relative
// to the experiment file, or an object). Checks every host target against it. Returns 0 (with
// `inventory` set when there is one), or 2 after printing every error ("<file>: <pointer>:
// <found>: <allowed>", then "N errors; nothing was run").
int LoadRunInventory(const RunRequest& request, const Experiment& experiment,
                     std::optional<Inventory>& inventory);

// The fleet of one run (run_id "" for a dry run: nothing is armed on the hosts). Logs loudly
// when the inventory turns host-key checking off, and protects the hosts' SSH endpoints from
// local network faults. `secrets` go to the hosts over SSH only (their ledgers conceal them).
std::unique_ptr<SshFleet> MakeRunFleet(Env& system, const RunRequest& request,
                                       const Experiment& experiment, const Inventory& inventory,
                                       const std::string& run_id,
                                       const std::string& control_dir = "",
                                       const SecretValues& secrets = SecretValues());

// Reverts through `local` for this host and over SSH (one SshFleet for `run_id`) for the hosts
// of an inventory file: what `recover` and the like use for a ledger with remote entries.
// Everything but Revert and Verify goes to `local` (ExecutorWrapper).
class HostRoutingExecutor : public ExecutorWrapper {
 public:
  // kInvalidInput with every error of the inventory file when it does not load. `secrets`
  // (recover --secret) go with each revert, so that the host can match its concealed record.
  static Result<std::unique_ptr<HostRoutingExecutor>> Make(
      Env& system, Executor& local, const std::string& inventory_file, const std::string& run_id,
      const SecretValues& secrets = SecretValues());
  Status Revert(const UndoRecord& undo) override;
  Verification Verify(const UndoRecord& undo) override;

 private:
  HostRoutingExecutor(Executor& local, std::unique_ptr<SshFleet> fleet)
      : ExecutorWrapper(local), local_(local), fleet_(std::move(fleet)) {}
  Executor& local_;
  std::unique_ptr<SshFleet> fleet_;
};

// The inventory as the local ledger records it (for `recover --inventory`): the absolute path
// of its file, or "" for an inventory inside the experiment.
std::string RecordedInventory(const Inventory& inventory);

}  // namespace ringfence
