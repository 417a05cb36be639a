// The experiment loader (core/model/experiment.cc): the text of an experiment file, through syntax,
// placeholders and validation against the registered faults (every fault of faults/ is linked
// in, so their parameter declarations and cross-field checks are reached). Placeholders are
// filled from a fixed table (never the real environment), chosen for their edges: numbers that
// overflow, booleans, regexes, nested placeholders, invalid UTF-8. A valid experiment with an
// inline inventory then goes through host selection as `ringfence run` does.

#include <map>
#include <random>
#include <string>

#include "core/fault/fault.h"
#include "core/model/experiment.h"
#include "core/model/inventory.h"
#include "core/targets/host_selection.h"
#include "fuzz/fuzz_support.h"

namespace {

// A bad_update fleet of ten hosts and its artifact, for the placeholders of the scenarios: the
// fault reads both at validation.
constexpr char kHostsFile[] = R"([
  {"name": "demo-0", "path": "/tmp/none/0.json", "health_url": "http://127.0.0.1:8081/health",
   "tags": {"zone": "a"}, "vars": {"port": "8081"}},
  {"name": "demo-1", "path": "/tmp/none/1.json", "health_url": "http://127.0.0.1:8082/health",
   "tags": {"zone": "b"}, "vars": {"port": "8082"}},
  {"name": "demo-2", "path": "/tmp/none/2.json", "health_url": "http://127.0.0.1:8083/health",
   "tags": {"zone": "a"}, "vars": {"port": "8083"}},
  {"name": "demo-3", "path": "/tmp/none/3.json", "health_url": "http://127.0.0.1:8084/health",
   "tags": {"zone": "b"}, "vars": {"port": "8084"}},
  {"name": "demo-4", "path": "/tmp/none/4.json", "health_url": "http://127.0.0.1:8085/health",
   "tags": {"zone": "a"}, "vars": {"port": "8085"}},
  {"name": "demo-5", "path": "/tmp/none/5.json", "health_url": "http://127.0.0.1:8086/health",
   "tags": {"zone": "b"}, "vars": {"port": "8086"}},
  {"name": "demo-6", "path": "/tmp/none/6.json", "health_url": "http://127.0.0.1:8087/health",
   "tags": {"zone": "a"}, "vars": {"port": "8087"}},
  {"name": "demo-7", "path": "/tmp/none/7.json", "health_url": "http://127.0.0.1:8088/health",
   "tags": {"zone": "b"}, "vars": {"port": "8088"}},
  {"name": "demo-8", "path": "/tmp/none/8.json", "health_url": "http://127.0.0.1:8089/health",
   "tags": {"zone": "a"}, "vars": {"port": "8089"}},
  {"name": "demo-9", "path": "/tmp/none/9.json", "health_url": "http://127.0.0.1:8090/health",
   "tags": {"zone": "b"}, "vars": {"port": "8090"}}
])";
constexpr char kArtifact[] = R"({"channel": 291, "rules": [{"id": 1, "match": "*"}]})";

const std::map<std::string, std::string>& Values() {
  static const std::map<std::string, std::string> values = {
      // What the scenarios of scenarios/ use (demo/demo_command.cc fills them for the demo).
      {"demo_port_0", "8081"},
      {"demo_port_last", "8085"},
      {"demo_fleet_id", "f1"},
      {"demo_fleet_size", "5"},
      {"demo_hosts_file", ringfence::fuzz::WriteScratchFile("hosts.json", kHostsFile)},
      {"demo_good_content", ringfence::fuzz::WriteScratchFile("artifact.json", kArtifact)},
      {"data_dir", ringfence::fuzz::ScratchDir()},
      {"demo_fleet_min_alive", "4"},
      // Edges.
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
  options.catalog = &FaultRegistry::Global();
  options.vars = {{"title", "fuzzed"}};
  options.env = [](const std::string& name) -> std::optional<std::string> {
    auto it = Values().find(name);
    if (it == Values().end()) return std::nullopt;
    return it->second;
  };
  ValidationErrors errors;
  const std::optional<Experiment> experiment =
      LoadExperimentText(std::string(fuzz::AsText(data, size)), options, errors);
  for (const auto& line : errors.Format("fuzz.json")) fuzz::Explain(line);
  if (!experiment) {
    if (errors.empty()) fuzz::Violated("an experiment was refused without an error");
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
