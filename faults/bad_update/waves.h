#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/file_system.h"
#include "core/base/status.h"

namespace ringfence {

// One host of a bad_update fleet, as its hosts file lists it (docs/faults/bad_update.md):
// {"name", "host", "path", "health_url", "work_url", "tags": {k: v}, "vars": {k: v}}.
struct FleetHost {
  std::string name;
  std::string host = "local";  // a label: recorded, and {host} of the command templates
  std::string path;            // the artifact the update replaces
  std::string health_url;      // 200 when healthy; its JSON "pid" tells restarts apart
  std::string work_url;        // optional: latency and errors under load
  std::map<std::string, std::string> tags;
  std::map<std::string, std::string> vars;  // extra {placeholders} for the command templates
};

// Parses a hosts file's text (a JSON array of hosts). kInvalidInput with the first problem:
//   "<file>: not JSON (<reason>)" | "<file>: nesting deeper than 64 levels" |
//   "<file>: expected a non-empty array of hosts"
//   "<file>: /<i>/<key>: <found>: <allowed>" (e.g. "/3/path: missing: a non-empty string")
//   "<file>: /<i>/name: \"a\": a name not used by an earlier host"
Result<std::vector<FleetHost>> ParseHostsText(const std::string& text, const std::string& file);
// Reads through `files` (FileSystem::ReadFile: a regular file of at most 1 MiB, checked first)
// and parses a hosts file; a file that cannot be read is "<file>: <found>: <allowed>" (kNotFound
// when missing).
Result<std::vector<FleetHost>> ReadHostsFile(FileSystem& files, const std::string& file);

// One entry of `waves`: a host count ("3") or a percentage of the fleet ("10%").
struct WaveSize {
  bool percent = false;
  double value = 0;
};

// Parses one wave text. kInvalidInput with the `allowed` text of the validation error:
//   "a host count of at least 1 (\"3\") or a percentage from 0 to 100 (\"10%\")"
Result<WaveSize> ParseWaveSize(const std::string& text);
inline constexpr char kWaveAllowed[] =
    "a host count of at least 1 (3) or a percentage above 0 and at most 100 (\"10%\")";

// How many hosts have been exposed once the wave is done (cumulative): a count as is; a
// percentage is ceil(p / 100 × fleet), at least 1.
int CumulativeHosts(const WaveSize& wave, int fleet);

// The hosts of each wave, in the order they are exposed. Without `stratify_by` the fleet goes in
// its file order; with it, hosts are taken round-robin over the strata (the tag's values, in order
// of first appearance; a host without the tag is its own stratum ""), so every stratum is in the
// first wave. Errors (kInvalidInput, the text of the validation error's `allowed`/found):
//   "wave <i> (<n> hosts) does not grow: it must expose more hosts than wave <i-1> (<m>)"
// — except a percentage that asks for at least the share of the fleet of the wave before it
// and only rounds to no growth on a small fleet ([1, "10%", "50%"] on 10 hosts: 10 % is 1
// host): it is merged into the wave before it, with a note in `notes` (and in the journal's
// observed). A count that does not grow, or a percentage asking for a smaller share, is refused.
//   "wave <i> needs <n> hosts; the fleet has <m>"
//   "the first wave (<n> host[s]) is smaller than the <k> strata of tag <tag>"
// `i` counts from 1.
struct WavePlan {
  std::vector<std::vector<int>> waves;  // indexes into the fleet; the hosts NEW in each wave
  std::vector<int> cumulative;          // hosts exposed once each wave is done
  // One line per merged wave: "wave 2 (10% of 10 hosts) rounds to 1 host, no more than wave 1
  // (1): merged into it".
  std::vector<std::string> notes;
};
Result<WavePlan> PlanWaves(const std::vector<WaveSize>& waves, const std::vector<FleetHost>& fleet,
                           const std::string& stratify_by);

}  // namespace ringfence
