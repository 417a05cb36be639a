#include "demo/demo_command.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "core/base/input_file.h"
#include "core/model/experiment.h"
#include "demo/demo_fleet.h"
#include "runner/cli/cli.h"
#include "runner/commands/suite_command.h"
#include "runner/run/experiment_runner.h"
#include "runner/run/suite_file.h"

namespace ringfence {

std::string ScenarioDir() {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv("RINGFENCE_SCENARIOS"); env != nullptr && *env != '\0') {
    return env;
  }
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "/usr/share/ringfence/scenarios";
  // The binary ringfence's build made, where it made it: the source tree's scenarios. Only that
  // exact directory: an installed copy (also one installed under the build tree, DESTDIR) never
  // reaches the source tree.
  if (exe.parent_path() == fs::path(RINGFENCE_BUILD_BINARY_DIR)) return RINGFENCE_SCENARIO_DIR;
  return (exe.parent_path() / "../share/ringfence/scenarios").lexically_normal().string();
}

int ScenarioFleetSize(const std::string& scenario_file) {
  auto text = ReadCommandLineInput(scenario_file, kMaxExperimentBytes);
  if (!text.ok()) return 0;  // the run that follows reports the file
  try {
    const auto doc = nlohmann::json::parse(*text);
    if (!doc.is_object() || !doc.contains("tags") || !doc["tags"].is_array()) return 0;
    constexpr std::string_view kPrefix = "demo-fleet-size:";
    for (const auto& tag : doc["tags"]) {
      if (!tag.is_string()) continue;
      const std::string t = tag.get<std::string>();
      if (t.rfind(kPrefix, 0) != 0) continue;
      const int n = std::atoi(t.c_str() + kPrefix.size());
      if (n >= 1 && n <= 64) return n;
    }
  } catch (const nlohmann::json::exception&) {
    return 0;  // the run reports the syntax error
  }
  return 0;
}

std::string DemoGoodContent(int records, int fields) {
  std::string text = "# ringfence demo content: " + std::to_string(records) + " records of " +
                     std::to_string(fields) + " fields\n";
  for (int r = 1; r <= records; ++r) {
    for (int f = 1; f <= fields; ++f) {
      text += "r" + std::to_string(r) + "f" + std::to_string(f) + (f == fields ? "\n" : ",");
    }
  }
  return text;
}

namespace {

// The per-instance content files and the hosts file of a demo fleet, in a private temp dir that
// goes away with the object.
class DemoContentDir {
 public:
  ~DemoContentDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  bool Create(int size) {
    std::string templ = (std::filesystem::temp_directory_path() / "ringfence-demo-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) return false;
    path_ = templ;
    const std::string good = DemoGoodContent();
    if (!Write(path_ + "/good-content.txt", good)) return false;
    for (int i = 0; i < size; ++i) {
      files_.push_back(path_ + "/content-" + std::to_string(i) + ".txt");
      if (!Write(files_.back(), good)) return false;
    }
    return true;
  }
  bool WriteHosts(const std::vector<int>& ports) {
    nlohmann::json hosts = nlohmann::json::array();
    for (size_t i = 0; i < ports.size(); ++i) {
      const std::string base = "http://127.0.0.1:" + std::to_string(ports[i]);
      hosts.push_back({{"name", "demo-" + std::to_string(i)},
                       {"host", "local"},
                       {"path", files_[i]},
                       {"health_url", base + "/health"},
                       {"work_url", base + "/work"},
                       {"tags", {{"zone", i % 2 == 0 ? "zone-a" : "zone-b"}}},
                       {"vars", {{"port", std::to_string(ports[i])}}}});
    }
    return Write(hosts_file(), hosts.dump(2) + "\n");
  }
  const std::string& path() const { return path_; }
  const std::vector<std::string>& files() const { return files_; }
  std::string hosts_file() const { return path_ + "/hosts.json"; }
  std::string good_content() const { return path_ + "/good-content.txt"; }

 private:
  static bool Write(const std::string& file, const std::string& text) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << text;
    return static_cast<bool>(out);
  }
  std::string path_;
  std::vector<std::string> files_;
};

}  // namespace

int RunDemo(const DemoRequest& request) {
  RunRequest run = request.run;
  // A report that could not be written is refused before the fleet starts.
  if (int code = CheckRequestedReports(run); code != 0) return code;
  run.file = request.scenario.empty() ? ScenarioDir() + "/demo-game-day.json" : request.scenario;
  // demo --suite: the suite file is checked before the fleet starts; its largest member sets
  // the fleet's size.
  std::vector<std::string> members = {run.file};
  SuiteOptions suite_options;
  suite_options.files = {request.suite};
  suite_options.suite = true;
  if (!request.suite.empty()) {
    ValidationErrors errors;
    std::vector<std::pair<std::string, ValidationErrors>> var_file_errors;
    auto suite = LoadSuiteFile(request.suite, errors, var_file_errors);
    if (!suite) return RunSuiteFileCommand(suite_options, run);  // reports the errors
    members.clear();
    for (const auto& e : suite->experiments) members.push_back(e.file);
  }
  int size = request.fleet_size;
  if (size == 0) {
    for (const auto& file : members) size = std::max(size, ScenarioFleetSize(file));
    if (size == 0) size = kDefaultDemoFleetSize;
  }

  DemoContentDir content;
  if (!content.Create(size)) {
    std::fprintf(stderr, "demo: cannot write the demo content files: %s\n", std::strerror(errno));
    return 3;
  }
  DemoFleetOptions options;
  options.size = size;
  options.service_binary = DemoFleet::DefaultServiceBinary();
  options.content_files = content.files();
  DemoFleet fleet(options);
  std::printf("demo: starting a fleet of %d ringfence-demo-service instances\n", size);
  std::fflush(stdout);
  Status started = fleet.Start();
  if (!started.ok()) {
    std::fprintf(stderr, "demo: the fleet did not start: %s\n", started.message().c_str());
    fleet.Stop();
    return 3;
  }
  std::string ports;
  for (int p : fleet.ports()) ports += (ports.empty() ? "" : ", ") + std::to_string(p);
  std::printf("demo: fleet %s up on 127.0.0.1 ports %s\n", fleet.fleet_id().c_str(), ports.c_str());
  if (!content.WriteHosts(fleet.ports())) {
    std::fprintf(stderr, "demo: cannot write %s\n", content.hosts_file().c_str());
    fleet.Stop();
    return 3;
  }
  std::printf("demo: running %s\n",
              request.suite.empty() ? run.file.c_str() : request.suite.c_str());
  std::fflush(stdout);

  for (const auto& [k, v] : fleet.Vars()) run.vars.emplace(k, v);  // --var wins
  run.vars.emplace("demo_fleet_min_alive", std::to_string(std::max(1, size - 1)));
  run.vars.emplace("demo_hosts_file", content.hosts_file());
  run.vars.emplace("demo_good_content", content.good_content());
  run.vars.emplace("demo_content_dir", content.path());
  run.vars.emplace("demo_port_last", std::to_string(fleet.ports().back()));
  int code =
      request.suite.empty() ? RunExperimentFile(run) : RunSuiteFileCommand(suite_options, run);

  fleet.Stop();
  std::printf("demo: fleet stopped (%d restart%s by its supervisor during the run)\n",
              fleet.restarts(), fleet.restarts() == 1 ? "" : "s");
  return code;
}

}  // namespace ringfence

namespace ringfence {
namespace {
// `ringfence demo` is this (runner/cli/cli.h SetDemoCommand); linked in as an object library, like
// the faults' registrations.
const bool kDemoCommandSet = [] {
  SetDemoCommand(RunDemo);
  return true;
}();
}  // namespace
}  // namespace ringfence
