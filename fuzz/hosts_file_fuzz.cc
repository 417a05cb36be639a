// bad_update's hosts file and waves (faults/bad_update/waves.cc): the fleet file an experiment
// names in `hosts_file`, and the wave sizes of `waves`, planned over that fleet as validation
// does. Input: the hosts file's text, then optionally a NUL byte, the `stratify_by` tag on the
// first line and one wave size per line after it ("1", "10%", ...).

#include <string>
#include <vector>

#include "faults/bad_update/waves.h"
#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ringfence;
  const std::string_view input = fuzz::AsText(data, size);
  const size_t nul = input.find('\0');
  const auto hosts = ParseHostsText(std::string(input.substr(0, nul)), "hosts.json");
  if (!hosts.ok()) {
    if (hosts.status().code() != StatusCode::kInvalidInput) {
      fuzz::Violated("a hosts file was refused with another code than kInvalidInput");
    }
    return 0;
  }
  if (hosts->empty()) fuzz::Violated("an empty hosts file was accepted");
  if (nul == std::string_view::npos) return 0;

  std::string_view rest = input.substr(nul + 1);
  std::string stratify_by;
  std::vector<WaveSize> waves;
  bool first = true;
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    const std::string line(rest.substr(0, nl));
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    if (first) {
      stratify_by = line;
      first = false;
      continue;
    }
    const auto wave = ParseWaveSize(line);
    if (!wave.ok()) continue;
    (void)CumulativeHosts(*wave, static_cast<int>(hosts->size()));
    waves.push_back(*wave);
  }
  const auto plan = PlanWaves(waves, *hosts, stratify_by);
  if (plan.ok()) {
    for (const auto& wave : plan->waves) {
      for (int i : wave) {
        if (i < 0 || static_cast<size_t>(i) >= hosts->size()) {
          fuzz::Violated("a wave names a host outside the fleet");
        }
      }
    }
  }
  return 0;
}
