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

}  // namespace ringfence
