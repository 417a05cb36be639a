#pragma once

#include <string>

namespace ringfence {

// `ringfence recover`: reverts what the ledgers under `state_dir` (or only run `run_id`) show as
// not reverted. Prints each action. 0 when nothing is left; 4 otherwise (with the manual undo);
// 3 when a run is active (its lock is held) — recover never acts under a live run. Faults on
// inventory hosts are reverted there over SSH (`ringfence host revert`, idempotent) with
// `inventory`, or else the inventory file the run recorded in its ledger.
int RecoverStateDir(const std::string& state_dir, const std::string& run_id,
                    const std::string& inventory = "");

// `ringfence status`: one line per run (id, state, title) and one per fault still active.
int PrintStatus(const std::string& state_dir);

}  // namespace ringfence
