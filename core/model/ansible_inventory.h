#pragma once

// Ansible inventories read as they are (docs/fleets.md, "Ansible inventories"): INI and YAML,
// groups and children, [group:vars], the implicit groups all and ungrouped, host ranges, host
// and group variables with Ansible's precedence, and the connection variables ringfence uses
// (ansible_host, ansible_port, ansible_user, ansible_ssh_private_key_file and the safe subset of
// ansible_ssh_common_args / ansible_ssh_extra_args). Refused, with the line and the reason:
// dynamic inventory scripts, vaulted values, inventory plugins, connections other than ssh,
// ssh options outside the safe subset.

#include <optional>
#include <string>

#include "core/base/validation.h"
#include "core/model/inventory.h"

namespace ringfence {

enum class AnsibleFormat { kIni, kYaml };

// The Ansible format of an inventory file, by its name: *.ini → INI, *.yml and *.yaml → YAML;
// nullopt for any other name (the native JSON inventory).
std::optional<AnsibleFormat> AnsibleFormatOf(const std::string& path);

// Parses the text of an Ansible inventory. Every problem is added to `errors` with its line and
// column (texts in docs/fleets.md); nullopt when there is any. Relative key files are taken from
// `base_dir`; with `check_files` they must be readable. Never throws.
std::optional<Inventory> ParseAnsibleInventory(const std::string& text, AnsibleFormat format,
                                               const std::string& base_dir,
                                               ValidationErrors& errors, bool check_files = true);

// The `found` and `allowed` texts for an executable inventory file (a dynamic inventory script,
// which is never run).
inline constexpr char kExecutableInventoryFound[] =
    "an executable file (a dynamic inventory script)";
inline constexpr char kExecutableInventoryAllowed[] =
    "a static INI or YAML inventory (ringfence does not run inventory scripts: save the "
    "script's output with ansible-inventory --list --yaml and use that file)";

}  // namespace ringfence
