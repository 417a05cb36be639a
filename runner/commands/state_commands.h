#pragma once

#include <string>

#include "core/base/secret_values.h"

namespace ringfence {

// `ringfence recover`: reverts what the ledgers under `state_dir` (or only run `run_id`) show as
// not reverted. Prints each action. 0 when nothing is left; 4 otherwise (with the manual undo);
// 3 when a run is active (its lock is held) — recover never acts under a live run — or when the
// state dir, runs/ or the ledger key break the rules of core/ledger/state_dir.h (nothing is done),
// or when a ledger did (it is skipped, the others are recovered). Faults on inventory hosts are
// reverted there over SSH (`ringfence host revert`, idempotent) with `inventory`, or else the
// inventory file the run recorded in its ledger. `secrets` (recover --secret) fill in the
// "[redacted:<name>]" marks of undo records that need them.
int RecoverStateDir(const std::string& state_dir, const std::string& run_id,
                    const std::string& inventory = "",
                    const SecretValues& secrets = SecretValues());

// `ringfence status`: one line per run (id, state, title) and one per fault still active. 0;
// 3 when the state dir breaks the rules, or a ledger does (it is listed as SKIPPED). `json`
// (status --json): one JSON object on stdout instead (docs/cli.md): state_dir, runs (run_id,
// state, title, status, ledger, journal, active_faults, unreadable) and untrusted ledgers.
int PrintStatus(const std::string& state_dir, bool json = false);

}  // namespace ringfence
