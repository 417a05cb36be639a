#include "core/targets/host_selection.h"

#include <algorithm>
#include <cmath>

#include "core/targets/target_resolver.h"

namespace ringfence {

namespace {

std::string Quoted(const std::string& s) { return nlohmann::json(s).dump(); }

}  // namespace

std::string DescribeHostGroup(const HostSelection& sel) {
  if (sel.groups.empty()) return DescribeTags(sel.tags);
  std::string out;
  for (const auto& g : sel.groups) out += (out.empty() ? "" : "|") + g;
  out = (sel.groups.size() == 1 ? "group " : "groups ") + out;
  if (!sel.tags.empty()) out += " with " + DescribeTags(sel.tags);
  return out;
}

namespace {

// The hosts a selection chooses from, or an error text (for ValidationErrors: found, allowed).
struct Pool {
  std::vector<const InventoryHost*> hosts;
  std::string pointer, found, allowed;  // set on error
};

Pool HostPool(const TargetSpec& spec, const Inventory& inventory) {
  Pool pool;
  const HostSelection& sel = *spec.hosts;
  if (!sel.names.empty()) {
    for (size_t i = 0; i < sel.names.size(); ++i) {
      const InventoryHost* h = inventory.Find(sel.names[i]);
      if (h == nullptr) {
        pool.pointer = spec.pointer + "/hosts/names/" + std::to_string(i);
        pool.found = Quoted(sel.names[i]);
        pool.allowed = "the name of a host in the inventory " + inventory.source;
        return pool;
      }
      if (std::find(pool.hosts.begin(), pool.hosts.end(), h) == pool.hosts.end()) {
        pool.hosts.push_back(h);
      }
    }
    return pool;
  }
  for (size_t i = 0; i < sel.groups.size(); ++i) {
    if (!std::binary_search(inventory.groups.begin(), inventory.groups.end(), sel.groups[i])) {
      pool.pointer = spec.pointer + "/hosts/groups/" + std::to_string(i);
      pool.found = Quoted(sel.groups[i]);
      std::string known;
      for (const auto& g : inventory.groups) known += (known.empty() ? "" : ", ") + g;
      pool.allowed = "a group of the inventory " + inventory.source + " (" + known + ")";
      return pool;
    }
  }
  pool.hosts = inventory.InGroups(sel.groups, sel.tags);
  if (pool.hosts.empty() && !sel.groups.empty()) {
    pool.pointer = spec.pointer + "/hosts";
    pool.found = DescribeHostGroup(sel);
    pool.allowed = "groups and tags that match at least one host of the inventory " +
                   inventory.source + " (none does)";
  } else if (pool.hosts.empty()) {
    pool.pointer = spec.pointer + "/hosts/tags";
    pool.found = FoundValue(nlohmann::json(sel.tags));
    pool.allowed = "tags that match at least one host of the inventory " + inventory.source +
                   " (none has " + DescribeTags(sel.tags) + ")";
  }
  return pool;
}

// How many of `m` hosts the selection takes, or an error (pointer, found, allowed).
size_t HostCount(const TargetSpec& spec, size_t m, std::string& pointer, std::string& found,
                 std::string& allowed) {
  const Selection& s = spec.hosts->select;
  switch (s.mode) {
    case SelectionMode::kAll:
      return m;
    case SelectionMode::kCount:
      if (static_cast<size_t>(s.count) > m) {
        pointer = spec.pointer + "/hosts/select/count";
        found = std::to_string(s.count);
        allowed = "at most the " + std::to_string(m) +
                  (m == 1 ? " host that matches" : " hosts that match");
        return 0;
      }
      return static_cast<size_t>(s.count);
    case SelectionMode::kPercent: {
      // percent * m first: 7 * 100 / 100 is exactly 7, where 0.07 * 100 is not.
      const double exact = s.percent * static_cast<double>(m) / 100.0;
      const size_t k = static_cast<size_t>(std::floor(exact + 1e-9));
      if (k == 0) {
        pointer = spec.pointer + "/hosts/select/percent";
        found = s.percent == std::floor(s.percent)
                    ? std::to_string(static_cast<long long>(s.percent))
                    : FoundValue(nlohmann::json(s.percent));
        allowed = "a percent that selects at least one of the " + std::to_string(m) +
                  (m == 1 ? " matching host" : " matching hosts") + " (it rounds down to 0)";
        return 0;
      }
      return std::min(k, m);
    }
  }
  return m;
}

// SelectHosts with its error in parts (pointer set on error).
std::vector<const InventoryHost*> SelectFromPool(const TargetSpec& spec, const Inventory& inventory,
                                                 std::mt19937_64& rng, Pool& error) {
  Pool pool = HostPool(spec, inventory);
  if (!pool.pointer.empty()) {
    error = pool;
    return {};
  }
  const size_t m = pool.hosts.size();
  const size_t k = HostCount(spec, m, error.pointer, error.found, error.allowed);
  if (!error.pointer.empty()) return {};
  if (k == m && m >= 2 && spec.hosts->names.empty() && !spec.hosts->allow_full_blast) {
    error.pointer = spec.pointer + "/hosts";
    error.found = std::string("every host of ") + (spec.hosts->groups.empty() ? "the group " : "") +
                  DescribeHostGroup(*spec.hosts) + " (" + std::to_string(m) + " hosts)";
    error.allowed = "fewer hosts, or \"allow_full_blast\": true";
    return {};
  }
  // The same seeded sampler as for processes; hosts then go in inventory order.
  std::vector<size_t> indices = SampleIndices(rng, m, k);
  std::sort(indices.begin(), indices.end());
  std::vector<const InventoryHost*> out;
  for (size_t i : indices) out.push_back(pool.hosts[i]);
  return out;
}

}  // namespace

Result<std::vector<const InventoryHost*>> SelectHosts(const TargetSpec& spec,
                                                      const Inventory& inventory,
                                                      std::mt19937_64& rng) {
  if (!spec.hosts) return Status::InvalidInput(spec.pointer + ": the target selects no hosts");
  Pool error;
  auto hosts = SelectFromPool(spec, inventory, rng, error);
  if (!error.pointer.empty()) {
    return Status::InvalidInput(error.pointer + ": " + error.found + ": " + error.allowed);
  }
  return hosts;
}

void ValidateHostTargets(const Experiment& experiment, const Inventory& inventory,
                         ValidationErrors& errors) {
  for (const TargetSpec& spec : experiment.targets) {
    if (!spec.hosts) continue;
    std::mt19937_64 rng(0);
    Pool error;
    SelectFromPool(spec, inventory, rng, error);
    if (!error.pointer.empty()) errors.Add(error.pointer, error.found, error.allowed);
  }
}

std::vector<std::string> HostTargetsText(const Experiment& experiment, const Inventory& inventory,
                                         const std::string& limit) {
  std::vector<std::string> lines;
  lines.push_back("inventory " + inventory.source +
                  (limit.empty() ? "" : " (--limit " + Quoted(limit) + ")") + ": " +
                  std::to_string(inventory.hosts.size()) +
                  (inventory.hosts.size() == 1 ? " host" : " hosts"));
  for (const TargetSpec& spec : experiment.targets) {
    if (!spec.hosts) continue;
    const HostSelection& sel = *spec.hosts;
    std::vector<const InventoryHost*> pool;
    std::string from;
    if (!sel.names.empty()) {
      from = "names";
      for (const auto& n : sel.names) {
        if (const InventoryHost* h = inventory.Find(n)) pool.push_back(h);
      }
    } else {
      from = DescribeHostGroup(sel);
      pool = inventory.InGroups(sel.groups, sel.tags);
    }
    std::string list;
    for (const auto* h : pool) list += (list.empty() ? "" : ", ") + h->name;
    std::string select = "all";
    if (sel.select.mode == SelectionMode::kCount)
      select = "count " + std::to_string(sel.select.count);
    if (sel.select.mode == SelectionMode::kPercent) {
      select = "percent " + FoundValue(nlohmann::json(sel.select.percent));
    }
    lines.push_back("  target '" + spec.name + "': " + from + " → " + std::to_string(pool.size()) +
                    (pool.size() == 1 ? " host: " : " hosts: ") + list + "; select " + select);
  }
  return lines;
}

}  // namespace ringfence
