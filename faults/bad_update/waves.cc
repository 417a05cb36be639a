#include "faults/bad_update/waves.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <tuple>

#include <fmt/format.h>

#include "core/base/input_file.h"
#include "core/base/json_fields.h"
#include "core/base/validation.h"

namespace ringfence {
namespace {

constexpr char kNonEmptyString[] = "a non-empty string";

Status HostError(const std::string& file, size_t index, const std::string& key,
                 const std::string& found, const std::string& allowed) {
  return Status::InvalidInput(fmt::format("{}: /{}/{}: {}: {}", file, index, key, found, allowed));
}

}  // namespace

Result<std::vector<FleetHost>> ParseHostsText(const std::string& text, const std::string& file) {
  auto parsed = ParseUntrustedJson(text);
  if (!parsed.ok()) return Status::InvalidInput(file + ": " + parsed.status().message());
  const nlohmann::json doc = std::move(*parsed);
  if (!doc.is_array() || doc.empty()) {
    return Status::InvalidInput(file + ": expected a non-empty array of hosts");
  }
  static const std::set<std::string> kKeys = {"name",     "host", "path", "health_url",
                                              "work_url", "tags", "vars"};
  std::vector<FleetHost> hosts;
  std::set<std::string> names;
  for (size_t i = 0; i < doc.size(); ++i) {
    const auto& h = doc[i];
    if (!h.is_object()) return HostError(file, i, "", FoundValue(h), "an object");
    for (const auto& [key, value] : h.items()) {
      if (kKeys.count(key) == 0)
        return HostError(file, i, key, kFoundUnknownKey, OneOf({kKeys.begin(), kKeys.end()}));
    }
    FleetHost host;
    auto string_member = [&](const char* key, bool required, std::string& out) -> Status {
      if (!h.contains(key)) {
        return required ? HostError(file, i, key, kFoundMissing, kNonEmptyString) : Status::Ok();
      }
      if (!h[key].is_string() || h[key].get<std::string>().empty()) {
        return HostError(file, i, key, FoundValue(h[key]), kNonEmptyString);
      }
      out = h[key].get<std::string>();
      return Status::Ok();
    };
    for (auto [key, required, out] :
         {std::tuple<const char*, bool, std::string*>{"name", true, &host.name},
          {"host", false, &host.host},
          {"path", true, &host.path},
          {"health_url", true, &host.health_url},
          {"work_url", false, &host.work_url}}) {
      Status st = string_member(key, required, *out);
      if (!st.ok()) return st;
    }
    for (auto [key, out] :
         {std::pair<const char*, std::map<std::string, std::string>*>{"tags", &host.tags},
          {"vars", &host.vars}}) {
      if (!h.contains(key)) continue;
      const auto& m = h[key];
      bool ok = m.is_object();
      if (ok) {
        for (const auto& [k, v] : m.items()) {
          if (!v.is_string())
            ok = false;
          else
            (*out)[k] = v.get<std::string>();
        }
      }
      if (!ok) return HostError(file, i, key, FoundValue(m), "an object of strings");
    }
    if (!names.insert(host.name).second) {
      return HostError(file, i, "name", FoundValue(nlohmann::json(host.name)),
                       "a name not used by an earlier host");
    }
    hosts.push_back(std::move(host));
  }
  return hosts;
}

Result<std::vector<FleetHost>> ReadHostsFile(FileSystem& files, const std::string& file) {
  auto text = files.ReadFile(file, kMaxInputFileBytes, "JSON file");
  if (!text.ok()) return Status::Error(text.status().code(), file + ": " + text.status().message());
  return ParseHostsText(*text, file);
}

Result<WaveSize> ParseWaveSize(const std::string& text) {
  WaveSize wave;
  std::string number = text;
  if (!number.empty() && number.back() == '%') {
    wave.percent = true;
    number.pop_back();
  }
  if (number.empty() || number.find_first_not_of("0123456789.") != std::string::npos ||
      number.front() == '.' || number.size() > 12) {
    return Status::InvalidInput(kWaveAllowed);
  }
  try {
    size_t used = 0;
    wave.value = std::stod(number, &used);
    if (used != number.size()) return Status::InvalidInput(kWaveAllowed);
  } catch (const std::exception&) {
    return Status::InvalidInput(kWaveAllowed);
  }
  if (wave.percent ? (wave.value <= 0 || wave.value > 100)
                   : (wave.value < 1 || wave.value != std::floor(wave.value))) {
    return Status::InvalidInput(kWaveAllowed);
  }
  return wave;
}

int CumulativeHosts(const WaveSize& wave, int fleet) {
  if (!wave.percent) return static_cast<int>(wave.value);
  // A tiny slack so that 10 % of 20 is 2, not 3 after rounding 0.1 × 20 up.
  const int n = static_cast<int>(std::ceil(wave.value / 100.0 * fleet - 1e-9));
  return std::max(1, n);
}

Result<WavePlan> PlanWaves(const std::vector<WaveSize>& waves, const std::vector<FleetHost>& fleet,
                           const std::string& stratify_by) {
  const int size = static_cast<int>(fleet.size());
  WavePlan plan;
  int previous = 0;
  // The share of the fleet the previous wave asked for (before rounding).
  double previous_share = 0;
  for (size_t i = 0; i < waves.size(); ++i) {
    const int n = CumulativeHosts(waves[i], size);
    if (n > size) {
      return Status::InvalidInput(
          fmt::format("wave {} needs {} hosts; the fleet has {}", i + 1, n, size));
    }
    const double share =
        waves[i].percent ? waves[i].value / 100.0 : (size > 0 ? waves[i].value / size : 0.0);
    if (n <= previous && waves[i].percent && share >= previous_share - 1e-12) {
      // A percentage that asks for at least the share of the wave before it but rounds to no
      // more hosts on a small fleet ([1, "10%"] on 10 hosts): merged, not refused.
      plan.notes.push_back(fmt::format(
          "wave {} ({}% of {} hosts) rounds to {} host{}, no more than wave {} ({}): merged into "
          "it",
          i + 1, waves[i].value, size, n, n == 1 ? "" : "s", i, previous));
      previous_share = std::max(previous_share, share);
      continue;
    }
    if (n <= previous) {
      return Status::InvalidInput(fmt::format(
          "wave {} ({} host{}) does not grow: it must expose more hosts than wave {} ({})", i + 1,
          n, n == 1 ? "" : "s", i, previous));
    }
    plan.cumulative.push_back(n);
    previous = n;
    previous_share = share;
  }

  std::vector<int> order;
  if (stratify_by.empty()) {
    for (int i = 0; i < size; ++i) order.push_back(i);
  } else {
    std::vector<std::string> strata;
    std::map<std::string, std::vector<int>> members;
    for (int i = 0; i < size; ++i) {
      auto it = fleet[i].tags.find(stratify_by);
      const std::string value = it == fleet[i].tags.end() ? "" : it->second;
      if (members.count(value) == 0) strata.push_back(value);
      members[value].push_back(i);
    }
    if (!plan.cumulative.empty() && plan.cumulative[0] < static_cast<int>(strata.size())) {
      return Status::InvalidInput(fmt::format(
          "the first wave ({} host{}) is smaller than the {} strata of tag {}", plan.cumulative[0],
          plan.cumulative[0] == 1 ? "" : "s", strata.size(), stratify_by));
    }
    for (size_t round = 0; order.size() < fleet.size(); ++round) {
      for (const auto& s : strata) {
        if (round < members[s].size()) order.push_back(members[s][round]);
      }
    }
  }
  int from = 0;
  for (int n : plan.cumulative) {
    plan.waves.emplace_back(order.begin() + from, order.begin() + n);
    from = n;
  }
  return plan;
}

}  // namespace ringfence
