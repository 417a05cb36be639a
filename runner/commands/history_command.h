#pragma once

#include <string>

namespace ringfence {

// `ringfence history` (docs/scheduling.md).
struct HistoryRequest {
  std::string state_dir;   // "": DefaultStateDir()
  std::string experiment;  // --experiment TITLE: only this experiment
  std::string since;       // --since: "7d", "12h", "30m"
  bool json = false;       // --json
  std::string html;        // --html FILE: a self-contained page with one chart per experiment
};

// "7d" → 7 days; otherwise ParseDuration's forms. kInvalidInput when neither.
bool ParseSince(const std::string& text, long long& milliseconds);

// Prints the table (or JSON) of the runs in <state dir>/history.db; exit 0, 3 when the history
// cannot be read.
int PrintHistory(const HistoryRequest& request);

}  // namespace ringfence
