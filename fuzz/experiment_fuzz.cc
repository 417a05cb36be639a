// The experiment loader (core/experiment.cc): the text of an experiment file, through syntax,
// placeholders and validation against the registered faults (every fault of faults/ is linked
// in, so their parameter declarations and cross-field checks are reached). Placeholders are
// filled from a fixed table (never the real environment), chosen for their edges: numbers that
// overflow, booleans, regexes, nested placeholders, invalid UTF-8. A valid experiment with an
// inline inventory then goes through host selection as `ringfence run` does.

#include <map>
#include <random>
#include <string>

#include "core/experiment.h"
#include "core/inventory.h"
#include "fuzz/fuzz_support.h"

namespace {

const std::map<std::string, std::string>& Values() {
  static const std::map<std::string, std::string> values = {
      {"port", "8080"},
      {"ratio", "0.5"},
      {"neg", "-1"},
      {"on", "true"},
      {"big", "1e400"},
      {"huge", "18446744073709551616"},
      {"int_max", "2147483648"},
      {"duration", "250ms"},
      {"long_duration", "2562047788015h"},
      {"regex", "(a+)+$"},
      {"nested", "${port}"},
      {"latin1", "caf\xe9"},
      {"empty", ""},
      {"host", "127.0.0.1"},
      {"pid", "1"},
  };
  return values;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ringfence;
  LoadOptions options;
  options.vars = {{"title", "fuzzed"}};
  options.env = [](const std::string& name) -> std::optional<std::string> {
    auto it = Values().find(name);
    if (it == Values().end()) return std::nullopt;
    return it->second;
  };
  ValidationErrors errors;
  const std::optional<Experiment> experiment =
      LoadExperimentText(std::string(fuzz::AsText(data, size)), options, errors);
  (void)errors.Format("fuzz.json");
  if (!experiment) {
    if (errors.empty()) ringfence::fuzz::Violated("an experiment was refused without an error");
    return 0;
  }
  (void)experiment->document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  for (const auto& probe : experiment->steady_state) (void)probe.tolerance.ToJson();
  for (const auto& guard : experiment->guards) {
    (void)guard.ThresholdText(std::nullopt);
    (void)guard.ThresholdText(1.5);
  }
  if (experiment->inventory.is_object()) {
    ValidationErrors inventory_errors;
    const Inventory inventory = ParseInventory(experiment->inventory, "", "/inventory",
                                               inventory_errors, /*check_files=*/false);
    if (inventory_errors.empty()) {
      ValidateHostTargets(*experiment, inventory, inventory_errors);
      std::mt19937_64 rng(42);
      for (const auto& target : experiment->targets) {
        if (target.hosts) (void)SelectHosts(target, inventory, rng);
      }
    }
  }
  return 0;
}
