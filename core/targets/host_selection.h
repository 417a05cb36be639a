#pragma once

#include <random>
#include <vector>

#include "core/base/status.h"
#include "core/base/validation.h"
#include "core/model/experiment.h"
#include "core/model/inventory.h"

namespace ringfence {

// Checks every target of `experiment` that selects hosts against `inventory`: named hosts
// exist, tag selectors match at least one host, a percent or count selects at least one host
// and not more than match, and a selection that hits every host of a group of two or more
// needs allow_full_blast. Errors carry the experiment's pointers.
void ValidateHostTargets(const Experiment& experiment, const Inventory& inventory,
                         ValidationErrors& errors);

// The hosts `spec.hosts` selects, in inventory order: tags or names, then the selection mode
// with `rng` (percent rounds DOWN, so a fleet is never hit harder than asked). Errors as in
// ValidateHostTargets (kInvalidInput, prefixed with the pointer).
Result<std::vector<const InventoryHost*>> SelectHosts(const TargetSpec& spec,
                                                      const Inventory& inventory,
                                                      std::mt19937_64& rng);

// The hosts a selection draws from, for messages: "role=web" (tags alone, "all hosts" without
// any), "group web", "groups web|db with zone=a".
std::string DescribeHostGroup(const HostSelection& sel);

// For --dry-run: the inventory (and the --limit that narrowed it, when not empty), then each
// target on hosts with what it draws from and the hosts that match, before the seeded selection:
//   inventory /srv/hosts.ini (--limit "web:!web-3"): 4 hosts
//     target 'web': group web → 3 hosts: web-1, web-2, web-4; select all
std::vector<std::string> HostTargetsText(const Experiment& experiment, const Inventory& inventory,
                                         const std::string& limit);

}  // namespace ringfence
