// Chaos Toolkit experiments run unmodified (docs/chaos-toolkit.md): the corpus in tests/ctk/,
// written from Chaos Toolkit's public specification, against real processes and a demo fleet.
// What a run did is checked from outside (files its activities wrote, processes, the demo
// service's health), and its journals are read back.
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/sys/http_client.h"
#include "demo/demo_fleet.h"
#include "tests/support/processes.h"

namespace ringfence::testing {
namespace {

using Lines = std::vector<std::string>;

std::string Corpus(const std::string& name) { return RINGFENCE_SOURCE_DIR "/tests/ctk/" + name; }

Lines SplitLines(const std::string& text) {
  Lines lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

size_t CountLines(const std::string& text, const std::string& line) {
  size_t n = 0;
  for (const auto& l : SplitLines(text)) n += l == line;
  return n;
}

// Every regular file under `dir`, read whole.
std::string AllFilesUnder(const std::string& dir) {
  std::string all;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file()) all += ReadFile(it->path().string());
  }
  return all;
}

class CtkTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    DemoFleetOptions options;
    options.size = 1;
    options.service_binary = RINGFENCE_DEMO_SERVICE_BINARY;
    options.restart_delay = std::chrono::milliseconds(100);
    fleet_ = new DemoFleet(options);
    ASSERT_TRUE(fleet_->Start().ok());
    port_ = std::to_string(fleet_->ports().at(0));
  }
  static void TearDownTestSuite() {
    fleet_->Stop();
    delete fleet_;
    fleet_ = nullptr;
  }

  // `env VARS… ringfence run FILE --journal … --state-dir … EXTRA…`
  std::vector<std::string> Run(const std::string& file, const Lines& extra = {},
                               const Lines& env = {}) {
    std::vector<std::string> argv = {"/usr/bin/env", "CTK_PORT=" + port_, "CTK_DIR=" + dir_.path()};
    argv.insert(argv.end(), env.begin(), env.end());
    argv.insert(argv.end(), {RINGFENCE_BINARY, "run", file, "--journal", dir_.File("out/run.json"),
                             "--state-dir", dir_.File("state")});
    argv.insert(argv.end(), extra.begin(), extra.end());
    std::filesystem::create_directories(dir_.File("out"));
    return argv;
  }
  nlohmann::json Journal() { return nlohmann::json::parse(ReadFile(dir_.File("out/run.json"))); }
  nlohmann::json CtkJournal() {
    return nlohmann::json::parse(ReadFile(dir_.File("out/journal.json")));
  }
  void Reset() {
    std::error_code ignored;
    for (const auto& e : std::filesystem::directory_iterator(dir_.path())) {
      std::filesystem::remove_all(e.path(), ignored);
    }
  }

  static DemoFleet* fleet_;
  static std::string port_;
  TempDir dir_;
};

DemoFleet* CtkTest::fleet_ = nullptr;
std::string CtkTest::port_;

TEST_F(CtkTest, EveryToleranceKindHolds) {
  for (const char* file : {"tolerance-exact.json", "tolerance-bool.yaml", "tolerance-range.json",
                           "tolerance-list.yaml", "tolerance-regex.json", "tolerance-jsonpath.yaml",
                           "tolerance-objects.json"}) {
    SCOPED_TRACE(file);
    ChildRun run(Run(Corpus(file)), dir_.path());
    ASSERT_EQ(run.Wait(), 0) << run.out() << run.err();
    EXPECT_NE(run.out().find("verdict: passed (exit 0)"), std::string::npos) << run.out();
    const nlohmann::json journal = Journal();
    EXPECT_FALSE(journal["steady_state"]["before"].empty());
    for (const auto& p : journal["steady_state"]["before"]) EXPECT_TRUE(p["met"]) << p.dump();
    for (const auto& p : journal["steady_state"]["after"]) EXPECT_TRUE(p["met"]) << p.dump();
  }
}

TEST_F(CtkTest, AToleranceNotMetBeforeTheMethodStopsTheRun) {
  // Port 9 (discard) answers nothing: the probe cannot be met, nothing runs.
  ChildRun run(Run(Corpus("tolerance-exact.json"), {}, {"CTK_PORT=9"}), dir_.path());
  EXPECT_EQ(run.Wait(), 1) << run.err();
  EXPECT_EQ(Journal()["status"], "not_steady");
  EXPECT_EQ(Journal()["method"], nlohmann::json::array());
}

TEST_F(CtkTest, PausesAndBackgroundActivities) {
  ChildRun run(Run(Corpus("pauses-background.yaml")), dir_.path());
  ASSERT_EQ(run.Wait(), 0) << run.out() << run.err();
  EXPECT_TRUE(std::filesystem::exists(dir_.File("mark")));
  const nlohmann::json method = Journal()["method"];
  // start, the background action (logged when it ended), the pause before, the probe, the
  // pause after.
  std::vector<std::string> waits;
  bool background_met = false, too_early_met = true;
  for (const auto& e : method) {
    if (e.contains("wait")) waits.push_back(e["wait"]);
    if (e.contains("action") && e["action"]["name"] == "mark-later") {
      EXPECT_EQ(e["background"], true);
      background_met = e["action"]["met"];
    }
    if (e.contains("action") && e["action"]["name"] == "too-early") {
      too_early_met = e["action"]["met"];
    }
  }
  EXPECT_EQ(waits, (std::vector<std::string>{"100ms", "200ms"}));
  EXPECT_TRUE(background_met);
  EXPECT_FALSE(too_early_met);  // recorded; a method probe never ends the method
}

TEST_F(CtkTest, RefsRepeatAnActivity) {
  ChildRun run(Run(Corpus("refs.json")), dir_.path());
  ASSERT_EQ(run.Wait(), 0) << run.out() << run.err();
  EXPECT_EQ(ReadFile(dir_.File("log")), "line\nline\n");
  EXPECT_EQ(ReadFile(dir_.File("rollbacks")), "rolled-back\n");
}

TEST_F(CtkTest, RollbacksFollowTheStrategy) {
  struct Case {
    std::string strategy;
    Lines vars;
    bool rolled_back;
    int exit_code;
    std::string status;
  };
  const std::vector<Case> cases = {
      {"default", {}, true, 0, "passed"},
      {"never", {}, false, 0, "passed"},
      {"deviated", {}, false, 0, "passed"},
      {"deviated", {"--var", "outcome=deviate"}, true, 1, "failed"},
      {"always", {"--var", "before=bad"}, true, 1, "not_steady"},
      {"default", {"--var", "before=bad"}, false, 1, "not_steady"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.strategy + (c.vars.empty() ? "" : " " + c.vars[1]));
    Reset();
    Lines extra = {"--rollback-strategy", c.strategy};
    extra.insert(extra.end(), c.vars.begin(), c.vars.end());
    ChildRun run(Run(Corpus("rollbacks.json"), extra), dir_.path());
    EXPECT_EQ(run.Wait(), c.exit_code) << run.out() << run.err();
    EXPECT_EQ(std::filesystem::exists(dir_.File("rolled-back")), c.rolled_back);
    EXPECT_EQ(Journal()["status"], c.status);
  }
}

TEST_F(CtkTest, TheRuntimeBlockChoosesTheStrategyAndTheCommandLineWins) {
  // runtime.rollbacks.strategy in the file; --rollback-strategy replaces it.
  nlohmann::json doc = nlohmann::json::parse(ReadFile(Corpus("rollbacks.json")));
  doc["runtime"] = {{"rollbacks", {{"strategy", "never"}}}};
  dir_.Write("never.json", doc.dump());
  {
    ChildRun run(Run(dir_.File("never.json")), dir_.path());
    ASSERT_EQ(run.Wait(), 0) << run.err();
    EXPECT_FALSE(std::filesystem::exists(dir_.File("rolled-back")));
  }
  {
    ChildRun run(Run(dir_.File("never.json"), {"--rollback-strategy", "always"}), dir_.path());
    ASSERT_EQ(run.Wait(), 0) << run.err();
    EXPECT_TRUE(std::filesystem::exists(dir_.File("rolled-back")));
  }
}

TEST_F(CtkTest, HypothesisStrategies) {
  struct Case {
    std::string strategy;
    size_t min_checks, max_checks;
    bool before, after;
  };
  const std::vector<Case> cases = {
      {"default", 2, 2, true, true},
      {"before-method-only", 1, 1, true, false},
      {"after-method-only", 1, 1, false, true},
      {"during-method", 1, 100, false, false},
      {"continuously", 3, 100, true, true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.strategy);
    Reset();
    ChildRun run(Run(Corpus("hypothesis-strategies.json"), {"--hypothesis-strategy", c.strategy}),
                 dir_.path());
    ASSERT_EQ(run.Wait(), 0) << run.out() << run.err();
    const std::string checks = ReadFile(dir_.File("checks"));
    const size_t n = CountLines(checks, "check");
    EXPECT_GE(n, c.min_checks) << checks;
    EXPECT_LE(n, c.max_checks) << checks;
    const nlohmann::json journal = Journal();
    EXPECT_EQ(journal["steady_state"]["before"].size(), c.before ? 1u : 0u);
    EXPECT_EQ(
        journal["steady_state"]["after"].is_array() && !journal["steady_state"]["after"].empty(),
        c.after);
    const bool guarded = c.strategy == "during-method" || c.strategy == "continuously";
    EXPECT_EQ(!journal["experiment"]["guards"].empty(), guarded);
  }
}

TEST_F(CtkTest, AHypothesisDeviatingDuringTheMethodAbortsAndReverts) {
  // The probe passes until the method marks the file; then the guard made of it breaches.
  dir_.Write("h.json", R"({
    "title": "deviates during the method",
    "configuration": {"dir": {"type": "env", "key": "CTK_DIR"}},
    "steady-state-hypothesis": {"title": "t", "probes": [
      {"type": "probe", "name": "unmarked", "tolerance": 1,
       "provider": {"type": "process", "path": "test", "arguments": "-e ${dir}/marked"}}]},
    "method": [{"type": "action", "name": "mark", "provider": {"type": "process",
                "path": "touch", "arguments": "${dir}/marked"}, "pauses": {"after": 5}}]
  })");
  ChildRun run(
      Run(dir_.File("h.json"), {"--hypothesis-strategy", "continuously", "--hypothesis-frequency",
                                "0.1", "--journal-format", "ctk"}),
      dir_.path());
  EXPECT_EQ(run.Wait(), 1) << run.out() << run.err();
  EXPECT_EQ(Journal()["status"], "aborted");
  EXPECT_EQ(Journal()["abort"]["guard"], "hypothesis-unmarked");
  EXPECT_EQ(CtkJournal()["status"], "aborted");
  EXPECT_EQ(CtkJournal()["deviated"], true);
}

TEST_F(CtkTest, ConfigurationFromTheEnvironmentWithDefaultsAndVars) {
  {
    ChildRun run(Run(Corpus("config-env.yaml"), {}, {"CTK_TEST_GREETING=hello"}), dir_.path());
    EXPECT_EQ(run.Wait(), 0) << run.err();
  }
  {
    ChildRun run(Run(Corpus("config-env.yaml")), dir_.path());  // the default: "nobody"
    EXPECT_EQ(run.Wait(), 1) << run.err();
    EXPECT_EQ(Journal()["status"], "not_steady");
  }
  {
    ChildRun run(
        Run(Corpus("config-env.yaml"), {"--var", "greeting=hello"}, {"CTK_TEST_GREETING=bye"}),
        dir_.path());
    EXPECT_EQ(run.Wait(), 0) << run.err();
  }
  // --var-file overrides the configuration as --var does, for run and for convert; --var beats it.
  dir_.Write("vars.json", R"({"greeting": "hello"})");
  {
    ChildRun run(Run(Corpus("config-env.yaml"), {"--var-file", dir_.File("vars.json")},
                     {"CTK_TEST_GREETING=bye"}),
                 dir_.path());
    EXPECT_EQ(run.Wait(), 0) << run.err();
  }
  {
    ChildRun run(Run(Corpus("config-env.yaml"),
                     {"--var-file", dir_.File("vars.json"), "--var", "greeting=bye"}),
                 dir_.path());
    EXPECT_EQ(run.Wait(), 1) << run.err();
  }
  {
    ChildRun convert({RINGFENCE_BINARY, "convert", Corpus("config-env.yaml"), "--var-file",
                      dir_.File("vars.json")},
                     dir_.path());
    ASSERT_EQ(convert.Wait(), 0) << convert.err();
    const nlohmann::json native = nlohmann::json::parse(convert.out());
    EXPECT_EQ(native["steady_state"][0]["argv"],
              nlohmann::json::array({"test", "hello", "=", "hello"}))
        << convert.out();
  }
}

TEST_F(CtkTest, SecretsNeverReachTheDiskOrTheTerminal) {
  const std::string token = "tok-s3cret-ctk-4711";
  const std::string password = "inline-pa55word-ctk";
  ChildRun run(
      Run(Corpus("secrets.json"), {"--journal-format", "ctk"}, {"CTK_TEST_TOKEN=" + token}),
      dir_.path());
  ASSERT_EQ(run.Wait(), 0) << run.out() << run.err();
  const nlohmann::json journal = Journal();
  bool echoed = false;
  for (const auto& e : journal["method"]) echoed = echoed || e.contains("action");
  EXPECT_TRUE(echoed);
  for (const std::string& where :
       {run.out(), run.err(), ReadFile(dir_.File("out/run.json")),
        ReadFile(dir_.File("out/journal.json")), AllFilesUnder(dir_.File("state"))}) {
    EXPECT_EQ(where.find(token), std::string::npos) << where;
    EXPECT_EQ(where.find(password), std::string::npos) << where;
  }
  EXPECT_NE(ReadFile(dir_.File("out/journal.json")).find("Bearer "), std::string::npos);
}

TEST_F(CtkTest, AProbeThatDeviatesAfterTheMethod) {
  ChildRun run(Run(Corpus("deviates.json"), {"--journal-format", "ctk"}), dir_.path());
  EXPECT_EQ(run.Wait(), 1) << run.out() << run.err();
  EXPECT_NE(run.out().find("verdict: failed (exit 1): steady state not met after the method: "
                           "service-healthy: status 503 is not within {\"exact\":200}"),
            std::string::npos)
      << run.out();
  const nlohmann::json ctk = CtkJournal();
  EXPECT_EQ(ctk["status"], "failed");
  EXPECT_EQ(ctk["deviated"], true);
  EXPECT_EQ(ctk["steady_states"]["before"]["steady_state_met"], true);
  EXPECT_EQ(ctk["steady_states"]["after"]["steady_state_met"], false);
  ASSERT_EQ(ctk["run"].size(), 1u);
  EXPECT_EQ(ctk["run"][0]["activity"]["name"], "take-it-down");
  EXPECT_EQ(ctk["run"][0]["status"], "succeeded");
  ASSERT_EQ(ctk["rollbacks"].size(), 1u);
  EXPECT_EQ(ctk["rollbacks"][0]["status"], "succeeded");
  // The default strategy ran the rollback: the service is healthy again.
  Result<HttpResponse> health =
      HttpGet("http://127.0.0.1:" + port_ + "/health", std::chrono::seconds(2));
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200);
}

// The journal in Chaos Toolkit's shape has exactly the fields docs/chaos-toolkit.md lists.
TEST_F(CtkTest, TheChaosToolkitJournalHasTheDocumentedFields) {
  const std::string doc = ReadFile(RINGFENCE_SOURCE_DIR "/docs/chaos-toolkit.md");
  const size_t start = doc.find("<!-- ctk-journal-fields -->");
  const size_t end = doc.find("<!-- /ctk-journal-fields -->");
  ASSERT_NE(start, std::string::npos);
  ASSERT_NE(end, std::string::npos);
  // Rows "| `field` | type | … |"; "a.b" names a field of an object field.
  std::map<std::string, std::string> documented;
  for (const auto& line : SplitLines(doc.substr(start, end - start))) {
    if (line.rfind("| `", 0) != 0) continue;
    const size_t close = line.find('`', 3);
    const size_t bar = line.find('|', close);
    const size_t bar2 = line.find('|', bar + 1);
    std::string type = line.substr(bar + 1, bar2 - bar - 1);
    type.erase(0, type.find_first_not_of(' '));
    type.erase(type.find_last_not_of(' ') + 1);
    documented[line.substr(3, close - 3)] = type;
  }
  ASSERT_FALSE(documented.empty());
  ChildRun run(Run(Corpus("deviates.json"), {"--journal-format", "ctk"}), dir_.path());
  EXPECT_EQ(run.Wait(), 1) << run.err();
  const nlohmann::json ctk = CtkJournal();
  auto type_of = [](const nlohmann::json& v) -> std::string {
    if (v.is_null()) return "null";
    if (v.is_boolean()) return "boolean";
    if (v.is_number()) return "number";
    if (v.is_string()) return "string";
    if (v.is_array()) return "array";
    return "object";
  };
  std::set<std::string> seen;
  for (const auto& [key, value] : ctk.items()) {
    seen.insert(key);
    ASSERT_TRUE(documented.count(key)) << "undocumented field " << key;
    EXPECT_NE(documented[key].find(type_of(value)), std::string::npos) << key;
    if (value.is_object() && key != "experiment") {  // the experiment as read: any keys
      for (const auto& [sub, subvalue] : value.items()) {
        seen.insert(key + "." + sub);
        ASSERT_TRUE(documented.count(key + "." + sub))
            << "undocumented field " << key << "." << sub;
        EXPECT_NE(documented[key + "." + sub].find(type_of(subvalue)), std::string::npos)
            << key << "." << sub;
      }
    }
  }
  for (const auto& [field, type] : documented) {
    if (field.find('[') == std::string::npos) {
      EXPECT_TRUE(seen.count(field)) << "missing " << field;
    }
  }
  // Every activity run: activity, output, status, start (documented as run[].…).
  for (const auto& item : ctk["run"]) {
    for (const auto& [key, value] : item.items()) {
      EXPECT_TRUE(documented.count("run[]." + key)) << "undocumented run[]." << key;
    }
  }
}

TEST_F(CtkTest, APythonProviderIsRefusedWithThePointerModuleAndFunction) {
  ChildRun run(Run(Corpus("python-provider.json")), dir_.path());
  EXPECT_EQ(run.Wait(), 2);
  const std::string file = Corpus("python-provider.json");
  EXPECT_EQ(SplitLines(run.err()),
            (Lines{file + ": /steady-state-hypothesis/probes/0/provider: python provider "
                          "chaosk8s.probes.all_microservices_healthy (module chaosk8s.probes, "
                          "function all_microservices_healthy): a process or http provider: "
                          "ringfence runs no Python and no Chaos Toolkit extension; instead: "
                          "Kubernetes is not a ringfence target; for a local process use a target "
                          "with a process selector and the process_kill fault",
                   file + ": /method/0/provider: python provider "
                          "chaosk8s.pod.actions.terminate_pods (module chaosk8s.pod.actions, "
                          "function terminate_pods): a process or http provider: ringfence runs no "
                          "Python and no Chaos Toolkit extension; instead: Kubernetes is not a "
                          "ringfence target; for a local process use a target with a process "
                          "selector and the process_kill fault",
                   "2 errors; nothing was run"}));
  EXPECT_FALSE(std::filesystem::exists(dir_.File("out/run.json")));
}

TEST_F(CtkTest, BadInputIsReportedWordForWord) {
  struct Case {
    std::string name, text;
    Lines errors;
  };
  const std::vector<Case> cases = {
      {"syntax.yaml",
       "title: t\nmethod:\n  - type: action\n   name: x\n",
       {"syntax.yaml:4:4: syntax error: end of sequence not found"}},
      {"alias.yaml",
       "title: t\nsteady-state-hypothesis: &a\n  title: x\nmethod: []\nrollbacks: *a\n",
       {"alias.yaml:2:26: an anchor: YAML without anchors and aliases"}},
      {"ref.json",
       R"({"title": "t", "method": [{"type": "action", "name": "a", "provider": {"type": "process", "path": "true"}}, {"ref": "b"}]})",
       {"ref.json: /method/1/ref: \"b\": the name of an earlier activity (a)"}},
      {"keys.json",
       R"({"title": "t", "steady-state-hypothesis": {"title": "x", "probes": []}, "method": [{"type": "action", "name": "a", "provider": {"type": "process", "arguments": "x"}, "pauses": {"after": "soon"}}], "contols": []})",
       {"keys.json: /contols: unknown key: one of version, title, description, tags, "
        "contributions, configuration, secrets, extensions, steady-state-hypothesis, method, "
        "rollbacks, runtime",
        "keys.json: /method/0/provider/path: missing: a program name or path",
        "keys.json: /method/0/pauses/after: \"soon\": a number of seconds from 0 to 86400"}},
      {"tolerance.json",
       R"({"title": "t", "steady-state-hypothesis": {"title": "x", "probes": [{"type": "probe", "name": "p", "provider": {"type": "process", "path": "true"}, "tolerance": {"type": "jsonpath", "path": "$.a[?(@.b)]"}}]}, "method": [{"type": "action", "name": "n", "provider": {"type": "process", "path": "true"}}]})",
       {"tolerance.json: /steady-state-hypothesis/probes/0/tolerance/path: \"$.a[?(@.b)]\": "
        "a JSONPath expression ($.a.b[0], $..name, $.items[*]) (expected an index, '*' or a "
        "quoted name at 5)"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    dir_.Write(c.name, c.text);
    ChildRun run(Run(c.name), dir_.path());
    EXPECT_EQ(run.Wait(), 2);
    Lines expected = c.errors;
    expected.push_back(std::to_string(c.errors.size()) + " error" +
                       (c.errors.size() == 1 ? "" : "s") + "; nothing was run");
    EXPECT_EQ(SplitLines(run.err()), expected);
  }
}

// Converting and running the native result gives the verdict of running the original.
TEST_F(CtkTest, ConvertThenRunGivesTheSameVerdict) {
  {
    SleepChildren workers(3);
    const std::string pattern = workers.cmdline_regex();
    // Nothing restarts the workers: the hypothesis after deviates, in both forms.
    ChildRun run(Run(Corpus("kill-processes.json"), {}, {"CTK_PATTERN=" + pattern}), dir_.path());
    EXPECT_EQ(run.Wait(), 1) << run.out() << run.err();
    EXPECT_EQ(Journal()["status"], "failed");
    for (pid_t pid : workers.pids()) {
      EXPECT_TRUE(Eventually([&] { return workers.Exited(pid); })) << pid;
    }
  }
  {
    SleepChildren workers(3);
    const std::string pattern = workers.cmdline_regex();
    ChildRun convert({"/usr/bin/env", "CTK_PATTERN=" + pattern, RINGFENCE_BINARY, "convert",
                      Corpus("kill-processes.json"), "-o", dir_.File("native.json")},
                     dir_.path());
    ASSERT_EQ(convert.Wait(), 0) << convert.err();
    const std::string file = Corpus("kill-processes.json");
    EXPECT_EQ(SplitLines(convert.err()),
              (Lines{file + ": note: /method/0: mapped to the native process_kill fault",
                     file + ": converted: 1 native fault, 0 command or HTTP steps → " +
                         dir_.File("native.json")}));
    const nlohmann::json native = nlohmann::json::parse(ReadFile(dir_.File("native.json")));
    EXPECT_EQ(native["method"][0]["type"], "process_kill");
    EXPECT_EQ(native["targets"]["ctk-kill-workers"]["process"]["cmdline"], pattern);
    ChildRun run(Run(dir_.File("native.json")), dir_.path());
    EXPECT_EQ(run.Wait(), 1) << run.out() << run.err();
    EXPECT_EQ(Journal()["status"], "failed");
    for (pid_t pid : workers.pids()) {
      EXPECT_TRUE(Eventually([&] { return workers.Exited(pid); })) << pid;
    }
  }
  // A deviation stays a deviation (exit 1, failed) once converted.
  for (const std::string& file : {std::string("deviates.json"), std::string("refs.json")}) {
    SCOPED_TRACE(file);
    Reset();
    ChildRun original(Run(Corpus(file)), dir_.path());
    const int original_code = original.Wait();
    const std::string original_status = Journal()["status"];
    Reset();
    ChildRun convert({"/usr/bin/env", "CTK_PORT=" + port_, "CTK_DIR=" + dir_.path(),
                      RINGFENCE_BINARY, "convert", Corpus(file), "-o", dir_.File("native.json")},
                     dir_.path());
    ASSERT_EQ(convert.Wait(), 0) << convert.err();
    ChildRun converted(Run(dir_.File("native.json")), dir_.path());
    EXPECT_EQ(converted.Wait(), original_code) << converted.err();
    EXPECT_EQ(Journal()["status"], original_status);
  }
}

TEST_F(CtkTest, StressNgBecomesCpuAndMemoryStressAndRunsToTheSameVerdict) {
  const std::string file = Corpus("stress.yaml");
  // The original runs stress-ng; the converted file the native faults: the same verdict.
  {
    ChildRun original(Run(file), dir_.path());
    EXPECT_EQ(original.Wait(), 0) << original.err();
    EXPECT_EQ(Journal()["status"], "passed");
  }
  Reset();
  ChildRun convert({RINGFENCE_BINARY, "convert", file, "-o", dir_.File("native.json")},
                   dir_.path());
  ASSERT_EQ(convert.Wait(), 0) << convert.err();
  EXPECT_EQ(SplitLines(convert.err()),
            (std::vector<std::string>{
                file + ": note: /method/0: mapped to the native cpu_stress fault",
                file + ": note: /method/1: mapped to the native memory_stress fault",
                file + ": note: /method/2: stress-ng stays a command: without --vm-keep "
                       "stress-ng unmaps and maps its memory again each round",
                file + ": converted: 2 native faults, 1 command or HTTP step → " +
                    dir_.File("native.json")}));
  const nlohmann::json native = nlohmann::json::parse(ReadFile(dir_.File("native.json")));
  const nlohmann::json method = native["method"];
  ASSERT_EQ(method.size(), 5u) << method.dump();
  EXPECT_EQ(method[0]["type"], "cpu_stress");
  EXPECT_EQ(method[0]["params"], (nlohmann::json{{"workers", 1}, {"load", 20}}));
  EXPECT_EQ(method[0]["duration"], "1s");
  EXPECT_EQ(method[1],
            (nlohmann::json{{"type", "wait"}, {"duration", "1s"}}));  // stress-ng blocked
  EXPECT_EQ(method[2]["type"], "memory_stress");
  EXPECT_EQ(method[2]["params"], (nlohmann::json{{"size", 16 << 20}}));
  EXPECT_EQ(method[3], (nlohmann::json{{"type", "wait"}, {"duration", "1s"}}));
  EXPECT_EQ(method[4]["type"], "action");
  {
    ChildRun converted(Run(dir_.File("native.json")), dir_.path());
    EXPECT_EQ(converted.Wait(), 0) << converted.err();
    const nlohmann::json journal = Journal();
    EXPECT_EQ(journal["status"], "passed");
    EXPECT_EQ(journal["faults"].size(), 2u) << journal.dump();
  }
}

TEST_F(CtkTest, TcNetemWithAPauseBecomesTheLatencyFaultAndItsRollbackIsDropped) {
  const std::string file = Corpus("netem.yaml");
  ChildRun convert({RINGFENCE_BINARY, "convert", file}, dir_.path());
  ASSERT_EQ(convert.Wait(), 0) << convert.err();
  EXPECT_EQ(SplitLines(convert.err()),
            (std::vector<std::string>{
                file + ": note: /method/0: mapped to the native latency fault, which ends before "
                       "the hypothesis after (run as it is, the qdisc stays until the rollbacks)",
                file + ": note: /method/1: tc netem stays a command: with a pauses.after it would "
                       "become the latency fault's netem backend (reverted crash-safely)",
                file + ": note: /rollbacks/0: dropped: the latency fault removes its own netem "
                       "qdisc when it is reverted",
                file + ": converted: 1 native fault, 1 command or HTTP step"}));
  const nlohmann::json native = nlohmann::json::parse(convert.out());
  EXPECT_EQ(native["method"][0]["type"], "latency");
  EXPECT_EQ(native["method"][0]["params"], (nlohmann::json{{"backend", "netem"},
                                                           {"interface", "ctk-none0"},
                                                           {"delay", "100ms"},
                                                           {"jitter", "10ms"}}));
  EXPECT_EQ(native["method"][0]["duration"], "5s");  // the pause after
  EXPECT_EQ(native["method"][1]["type"], "action");
  EXPECT_EQ(native["rollbacks"], nlohmann::json::array());
}

TEST_F(CtkTest, KillStopWithAPauseBecomesTheProcessPauseFault) {
  SleepChildren sleeper(1);
  const std::string pid = std::to_string(sleeper.pids()[0]);
  ChildRun convert(
      {"/usr/bin/env", "CTK_PID=" + pid, RINGFENCE_BINARY, "convert", Corpus("pause-process.yaml")},
      dir_.path());
  ASSERT_EQ(convert.Wait(), 0) << convert.err();
  const nlohmann::json native = nlohmann::json::parse(convert.out());
  EXPECT_EQ(native["method"][0]["type"], "process_pause");
  EXPECT_EQ(native["method"][0]["duration"], "1s");
  EXPECT_EQ(native["targets"]["ctk-stop-it"]["process"]["pid"], sleeper.pids()[0]);
  // Run as it is, the process is still stopped when the hypothesis after looks (Chaos Toolkit's
  // order: the rollback that continues it comes after): failed. The native fault is reverted
  // before the steady state after: passed. Both leave the process running.
  {
    ChildRun run(Run(Corpus("pause-process.yaml"), {}, {"CTK_PID=" + pid}), dir_.path());
    EXPECT_EQ(run.Wait(), 1) << run.out() << run.err();
    EXPECT_EQ(Journal()["status"], "failed");
    EXPECT_NE(SleepChildren::State(sleeper.pids()[0]), 'T');
  }
  dir_.Write("pause.native.json", convert.out());
  {
    ChildRun run(Run(dir_.File("pause.native.json")), dir_.path());
    EXPECT_EQ(run.Wait(), 0) << run.out() << run.err();
    EXPECT_NE(SleepChildren::State(sleeper.pids()[0]), 'T');
  }
}

TEST_F(CtkTest, TheDocsExamplesValidateAndRun) {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(RINGFENCE_SOURCE_DIR "/scenarios/ctk")) {
    files.push_back(e.path().string());
  }
  ASSERT_GE(files.size(), 2u);
  std::vector<std::string> argv = {RINGFENCE_BINARY, "validate"};
  argv.insert(argv.end(), files.begin(), files.end());
  ChildRun validate(argv, dir_.path());
  EXPECT_EQ(validate.Wait(), 0) << validate.err();
  ChildRun run({"/usr/bin/env", "SERVICE_PORT=" + port_, RINGFENCE_BINARY, "run",
                RINGFENCE_SOURCE_DIR "/scenarios/ctk/service-health.yaml", "--journal",
                dir_.File("j.json"), "--state-dir", dir_.File("state")},
               dir_.path());
  EXPECT_EQ(run.Wait(), 0) << run.out() << run.err();
}

}  // namespace
}  // namespace ringfence::testing
