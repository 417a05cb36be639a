#pragma once

#include <map>
#include <string>
#include <vector>

#include "runner/cli/cli_description.h"

namespace ringfence {

// What is generated from the one CLI declaration besides the help and docs/cli.md's tables, so
// that none of it can drift from the binary (docs/install.md).

// The man pages, by file name: "ringfence.1" (the overview: every command, the global options,
// the exit codes, the files) and "ringfence-COMMAND.1" for each command. groff man(7) source.
std::map<std::string, std::string> ManPages(const CliInfo& cli);

// `ringfence help --man DIR`: writes ManPages() into DIR (which must exist), one path per line
// on stdout. 0, or 3 with a message when a page cannot be written.
int WriteManPages(const CliInfo& cli, const std::string& dir);

// The bash completion script for `ringfence`: commands, each command's options, values of
// options with a fixed set of values (`--progress auto|always|never`), the fault types
// (`faults TYPE`), the templates (`init --template`), the commands (`help COMMAND`), and file
// or directory names for options and arguments that name files (FILE, F, P, PATH; D, DIR).
std::string BashCompletion(const CliInfo& cli, const std::vector<std::string>& fault_types,
                           const std::vector<std::string>& templates);

}  // namespace ringfence
