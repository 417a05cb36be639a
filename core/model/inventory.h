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
  // The groups the host is in, directly or through children, sorted: always "all"; "ungrouped"
  // when it is in no other group (Ansible's two implicit groups; a native inventory's hosts are
  // in exactly these two).
  std::vector<std::string> groups = {"all", "ungrouped"};
  // Ansible inventories: the host's variables after Ansible's precedence (all < parent group <
  // child group < host), password variables left out. {} for a native inventory.
  nlohmann::json vars = nlohmann::json::object();
  // Extra `-o Key=Value` options for ssh (the safe subset of ansible_ssh_common_args and
  // ansible_ssh_extra_args, docs/fleets.md); given after ringfence's own, which therefore win.
  std::vector<std::string> ssh_options;
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
  // Every group name, sorted (Ansible inventories; "all" and "ungrouped" for a native one).
  std::vector<std::string> groups = {"all", "ungrouped"};

  const InventoryHost* Find(const std::string& name) const;
  // Hosts whose tags include every key/value of `tags` (all hosts when `tags` is empty), in
  // inventory order.
  std::vector<const InventoryHost*> WithTags(const std::map<std::string, std::string>& tags) const;
  // Hosts in at least one of `groups` (directly or through children) that carry every tag of
  // `tags`, in inventory order. Empty `groups`: as WithTags.
  std::vector<const InventoryHost*> InGroups(const std::vector<std::string>& groups,
                                             const std::map<std::string, std::string>& tags) const;
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

// Reads and parses an inventory file (syntax errors with line and column): a file named *.ini,
// *.yml or *.yaml is an Ansible inventory (core/model/ansible_inventory.h), anything else the
// native JSON inventory. The file is checked
// before it is read (core/base/input_file.h: a regular file of at most kMaxInventoryBytes); when it
// cannot be read at all, `unreadable` (if given) is set and the one error's found/allowed say
// why, so that a caller may report it where the file was named. "-" reads standard input
// (`--inventory -`; core/base/input_file.h ReadCommandLineInput).
std::optional<Inventory> LoadInventoryFile(const std::string& path, ValidationErrors& errors,
                                           bool* unreadable = nullptr);

// The `allowed` texts of host fields, shared by the native and the Ansible readers.
inline constexpr char kInventoryNameAllowed[] = "a host name of letters, digits, '.', '_' and '-'";
inline constexpr char kInventoryAddressAllowed[] =
    "an IP address or host name (letters, digits, '.', ':', '_', '-'; not starting with '-')";
inline constexpr char kInventoryUserAllowed[] =
    "a user name (letters, digits, '.', '_', '-'; not starting with '-')";
inline constexpr char kInventoryPortAllowed[] = "an integer from 1 to 65535";

// Names, addresses and users end up on ssh's command line: letters, digits and the characters
// of `extra`, never starting with '-' (nothing that could read as an option).
bool IsSafeInventoryWord(const std::string& s, const char* extra);

// A path of an inventory: "~/x" under $HOME (as ssh reads it), other relative paths under
// `base_dir`.
std::string InventoryPath(const std::string& path, const std::string& base_dir);

// "" when `path` is a readable regular file, else the `allowed` text saying why not ("a
// readable file (No such file or directory)"). Never blocks on a FIFO.
std::string UnreadableFileReason(const std::string& path);

// "role=web,zone=a" (sorted by key), or "all hosts" when empty.
std::string DescribeTags(const std::map<std::string, std::string>& tags);

}  // namespace ringfence
