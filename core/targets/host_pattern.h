#pragma once

#include <string>
#include <vector>

#include "core/base/status.h"
#include "core/model/inventory.h"

namespace ringfence {

// Ansible's host patterns (`--limit`, docs/fleets.md): terms separated by ':' (or by ',' when
// the pattern has one) are a union; a term starting with '&' intersects, one starting with '!'
// excludes (intersections and exclusions apply after the union, whatever their place). A term is
// a group (its hosts, directly or through children) or a host name, with the wildcards '*', '?'
// and '[…]' of shell globs, or a regex after '~' (RE2, matched from the start of the name, as
// Python's re.match), optionally followed by a subscript [i] or [i:j] over its hosts.
//
// The hosts of `inventory` that `pattern` matches, in inventory order. kInvalidInput with
// "<found>: <allowed>" for a pattern that does not parse, a regex that does not compile, or a
// pattern that matches no host. Never throws.
Result<std::vector<const InventoryHost*>> MatchHostPattern(const Inventory& inventory,
                                                           const std::string& pattern);

// Keeps only the hosts of `inventory` that `pattern` matches (MatchHostPattern's errors).
Status LimitInventory(Inventory& inventory, const std::string& pattern);

}  // namespace ringfence
