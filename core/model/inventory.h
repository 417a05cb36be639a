#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/duration.h"
#include "core/base/status.h"
#include "core/base/validation.h"

namespace ringfence {

// One host of an inventory (docs/fleets.md). Paths are absolute once loaded (relative ones are
// taken from the inventory file's directory).
struct InventoryHost {
  std::string name;     // unique; [A-Za-z0-9._-], the `host` of its targets and undo records
  std::string address;  // an IP address or a host name, as ssh takes it
  int port = 22;
  std::string user = "root";
  std::string identity_file;  // "" = ssh's default keys
  std::string known_hosts;    // "" = ssh's default known_hosts files
  std::map<std::string, std::string> tags;
  std::string binary = "ringfence";              // the ringfence binary on the host
  std::string state_dir = "/var/lib/ringfence";  // the host-side ledger lives here
  // "web-1 (root@10.0.0.11:22)".
  std::string Describe() const;
};

// How the runner talks SSH to the hosts of an inventory.
struct SshSettings {
  // Off only when the inventory says so, and then logged loudly at every run.
  bool strict_host_key_checking = true;
  bool multiplex = true;  // one ControlMaster per host for the run
  Duration command_timeout = std::chrono::seconds(30);
  Duration connect_timeout = std::chrono::seconds(5);
};

struct Inventory {
  std::string source;                // the file, or "/inventory" of an experiment
  std::vector<InventoryHost> hosts;  // in file order
  SshSettings ssh;

  const InventoryHost* Find(const std::string& name) const;
  // Hosts whose tags include every key/value of `tags` (all hosts when `tags` is empty), in
  // inventory order.
  std::vector<const InventoryHost*> WithTags(const std::map<std::string, std::string>& tags) const;
};

// The limits on an inventory file.
inline constexpr size_t kMaxInventoryBytes = 4 << 20;
inline constexpr size_t kMaxInventoryHosts = 10000;

// Reads an inventory object, adding one error per problem (JSON pointers below `pointer`) to
// `errors`: unknown keys, a missing name or address, duplicate names, a port outside 1..65535,
// an identity file that cannot be read, malformed tags. Relative paths are resolved against
// `base_dir`; without `check_files` the identity files are not opened (an experiment's inline
// inventory is checked for its form at load time and for its files by the runner). The texts
// are listed in docs/fleets.md.
Inventory ParseInventory(const nlohmann::json& doc, const std::string& base_dir,
                         const std::string& pointer, ValidationErrors& errors,
                         bool check_files = true);

// Reads and parses an inventory file (syntax errors with line and column). The file is checked
// before it is read (core/base/input_file.h: a regular file of at most kMaxInventoryBytes); when it
// cannot be read at all, `unreadable` (if given) is set and the one error's found/allowed say
// why, so that a caller may report it where the file was named. "-" reads standard input
// (`--inventory -`; core/base/input_file.h ReadCommandLineInput).
std::optional<Inventory> LoadInventoryFile(const std::string& path, ValidationErrors& errors,
                                           bool* unreadable = nullptr);

// "role=web,zone=a" (sorted by key), or "all hosts" when empty.
std::string DescribeTags(const std::map<std::string, std::string>& tags);

}  // namespace ringfence
