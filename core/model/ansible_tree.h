#pragma once

// The groups, hosts and variables of an Ansible inventory as its INI or YAML reader finds them,
// before Ansible's implicit groups and variable precedence are applied
// (core/model/ansible_inventory.cc). Internal to core/model.

#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/status.h"
#include "core/base/validation.h"

namespace ringfence::ansible {

// A variable's value and the line that set it (for errors about it).
struct Var {
  nlohmann::json value;
  int line = 0;
};
using Vars = std::map<std::string, Var>;

struct Group {
  std::string name;
  std::vector<std::string> hosts;     // direct members, in the order they were added
  std::vector<std::string> children;  // direct child groups
  std::set<std::string> parents;
  Vars vars;
  int priority = 1;  // ansible_group_priority
  int line = 0;      // where it was first declared
};

struct Host {
  std::string name;
  Vars vars;
  int line = 0;  // where it was first listed
};

// The limits of an Ansible inventory: as many hosts as a native one, and groups.
inline constexpr size_t kMaxAnsibleGroups = 10000;

class Tree {
 public:
  // The group `name`, declared at `line` when new.
  Group& AddGroup(const std::string& name, int line);
  bool HasGroup(const std::string& name) const { return groups_.count(name) != 0; }
  // The host `name`, listed at `line` when new; nullptr past kMaxInventoryHosts.
  Host* AddHost(const std::string& name, int line);
  void AddHostToGroup(const std::string& group, const std::string& host);
  // Makes `child` a child of `parent` (both must exist). Refused when `child` is `parent` or
  // one of its ancestors: `cycle` is then the loop, "a → b → a".
  bool AddChild(const std::string& parent, const std::string& child, std::string& cycle);

  const std::map<std::string, Group>& groups() const { return groups_; }
  std::map<std::string, Group>& groups() { return groups_; }
  const std::vector<std::string>& host_order() const { return host_order_; }
  std::map<std::string, Host>& hosts() { return hosts_; }
  const std::map<std::string, Host>& hosts() const { return hosts_; }

 private:
  bool Reaches(const std::string& from, const std::string& to,
               std::vector<std::string>& path) const;

  std::map<std::string, Group> groups_;
  std::map<std::string, Host> hosts_;
  std::vector<std::string> host_order_;
};

// Sets a group variable; ansible_group_priority (a whole number) sets the group's priority
// instead, as in Ansible.
void SetGroupVar(Group& group, const std::string& key, nlohmann::json value, int line);

// One host pattern of an inventory, expanded: `web[01:03].example.com:2222` → the names
// web01.example.com … web03.example.com, port 2222 (0: none given).
struct HostPattern {
  std::vector<std::string> names;
  int port = 0;
};

// Expands a host pattern: ranges [begin:end] and [begin:end:step] of numbers (zero-padded when
// begin is) or single letters, any number of them, and an optional :port. On error the Status
// message is the `allowed` text ending with why.
Result<HostPattern> ExpandHostPattern(const std::string& pattern);

// The value of a variable written in an INI file, as Ansible's ast.literal_eval reads it:
// integers, floats, True/False/None, quoted strings, JSON-form lists and dicts; anything else
// is the string itself.
nlohmann::json IniValue(const std::string& text);

// Splits `text` into words as Python's shlex.split does in POSIX mode: blanks separate, '…'
// and "…" quote, a backslash escapes; with `comments`, an unquoted # ends the line. An
// unclosed quote or a trailing backslash is an error.
Result<std::vector<std::string>> SplitWords(const std::string& text, bool comments);

// True when `text` is an Ansible Vault payload.
bool IsVaulted(const std::string& text);

// The readers: add what `text` declares to `tree`, one error per problem (line and column).
void ReadIniInventory(const std::string& text, Tree& tree, ValidationErrors& errors);
void ReadYamlInventory(const std::string& text, Tree& tree, ValidationErrors& errors);

// The `allowed` texts shared by both readers.
inline constexpr char kVaultAllowed[] =
    "a plain value (ringfence does not decrypt Ansible Vault: pass secrets with --secret)";

}  // namespace ringfence::ansible
