#pragma once

#include <string>
#include <vector>

namespace ringfence {

// The one CLI declaration (runner/cli/cli.cc), as plain data for what is generated from it besides
// the help: man pages and shell completion (runner/cli/cli_generators.h).
struct CliOptionInfo {
  std::vector<std::string> names;  // "--output", "-o"; empty for a positional
  std::string value_name;          // "FILE", "auto|always|never"; "" for a flag
  std::string form;                // as the help shows it: "--journal P", "FILE..."
  std::string description;         // with "(default …)" and "; repeatable" as the help has them
  bool positional = false;
  bool repeatable = false;
  bool required = false;
};

struct CliCommandInfo {
  std::string name;     // "run"
  std::string summary;  // the command's line in `ringfence --help`
  std::string usage;    // "FILE [--journal P] [--var k=v]..."
  std::vector<CliOptionInfo> options;
};

struct CliInfo {
  std::string version;  // "0.1.0"
  std::vector<CliCommandInfo> commands;
  std::vector<CliOptionInfo> global_options;
  std::string exit_codes;  // the help's "exit codes:" paragraph
};

// The declaration as data (runner/cli/cli.cc).
CliInfo DescribeCommandLine();

}  // namespace ringfence
