#pragma once

#include <map>
#include <string>
#include <vector>

#include "runner/base/run_request.h"

namespace ringfence {

// One `ringfence convert` (docs/chaos-toolkit.md).
struct ConvertRequest {
  std::string file;    // a Chaos Toolkit experiment, JSON or YAML (- reads standard input)
  std::string output;  // -o: where the native experiment goes ("" or -: standard output)
  RunRequest options;  // --var, --format and the Chaos Toolkit strategies
  std::vector<std::string> var_files;  // --var-file: configuration values (--var beats them)
};

// Writes the native experiment equivalent to a Chaos Toolkit one — process providers running
// kill, pkill, killall, stress-ng or tc netem become native faults where the meaning is exactly
// the same (docs/chaos-toolkit.md), every
// other activity stays a command or HTTP step — validates it with the native loader, and
// prints to stderr what it could not map exactly. 0 when written; 2 for bad input (nothing
// written); 3 when the output cannot be written.
int ConvertExperimentFile(const ConvertRequest& request);

}  // namespace ringfence
