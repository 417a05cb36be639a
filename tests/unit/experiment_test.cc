#include "core/model/experiment.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "core/fault/fault.h"

namespace ringfence {
namespace {

using nlohmann::json;
using ojson = nlohmann::ordered_json;  // documents keep their key order in error lists
using Lines = std::vector<std::string>;

// A fault type that is only a declaration: the loader never creates or reverts faults.
class FakeFactory : public FaultFactory {
 public:
  explicit FakeFactory(FaultDecl decl) : decl_(std::move(decl)) {}
  const FaultDecl& Declaration() const override { return decl_; }
  void ValidateConfig(const json& params, const std::string& pointer,
                      ValidationErrors& errors) const override {
    // A cross-field rule, to show that it runs on params with defaults filled in.
    if (params.value("signal", "") == "SIGSTOP" && params.value("count", 1) > 1) {
      errors.Add(pointer + "/count", FoundValue(params["count"]), "1 when signal is SIGSTOP");
    }
  }
  std::unique_ptr<Fault> Create(const FaultStep&, const TargetSpec&) const override {
    return nullptr;
  }
  Status Revert(FaultEnv&, const UndoRecord&) const override { return Status::Ok(); }

 private:
  FaultDecl decl_;
};

class ExperimentTest : public ::testing::Test {
 protected:
  ExperimentTest() {
    FaultDecl kill{"process_kill", "Kills processes.", TargetKind::kProcess, {}};
    kill.params = {
        {"signal", ParamType::kSignal, false, "SIGTERM", {}, {}, {}, "the signal"},
        {"count", ParamType::kInteger, false, 1, 1, 10, {}, "how many"},
    };
    registry_.Register(std::make_unique<FakeFactory>(kill));
    FaultDecl pause{"process_pause", "Pauses processes.", TargetKind::kProcess, {}};
    registry_.Register(std::make_unique<FakeFactory>(pause));
    options_.catalog = &registry_;
    options_.env = [this](const std::string& name) -> std::optional<std::string> {
      auto it = env_.find(name);
      if (it == env_.end()) return std::nullopt;
      return it->second;
    };
  }

  std::optional<Experiment> Load(const std::string& text) {
    errors_ = ValidationErrors();
    return LoadExperimentText(text, options_, errors_);
  }

  Lines Errors(const std::string& text) {
    auto e = Load(text);
    EXPECT_FALSE(e.has_value());
    return errors_.Format("exp.json");
  }

  // A valid document with `patch` (a JSON merge patch) applied.
  static std::string Doc(const ojson& patch = ojson::object()) {
    ojson doc = ojson::parse(kValid);
    doc.merge_patch(patch);
    return doc.dump();
  }

  static constexpr const char* kValid = R"({
    "version": 1,
    "title": "kill one sleeper",
    "targets": {"fleet": {"process": {"name": "sleep"}}},
    "method": [{"type": "process_kill", "target": "fleet", "duration": "10s"}],
    "guards": []
  })";

  FaultRegistry registry_;
  LoadOptions options_;
  std::map<std::string, std::string> env_;
  ValidationErrors errors_;
};

// ---- A full document -------------------------------------------------------------------------

TEST_F(ExperimentTest, LoadsEveryPartOfTheFormat) {
  auto e = Load(R"({
    "version": 1,
    "title": "game day",
    "description": "kill and pause",
    "tags": ["demo", "web"],
    "targets": {
      "fleet": {"process": {"name": "sleep", "user": "root"}, "select": {"count": 2}},
      "web": {"process": {"cmdline": "demo-service --port [0-9]+"}, "select": {"percent": 50},
              "allow_empty": true},
      "one": {"process": {"pid": 4242}},
      "pf": {"process": {"pidfile": "/run/x.pid"}, "select": "all"}
    },
    "steady_state": [
      {"type": "http", "url": "http://127.0.0.1:8080/health"},
      {"type": "tcp", "name": "port-open", "port": 8080, "timeout": "500ms"},
      {"type": "command", "argv": ["true"], "exit_code": [0, 1], "stdout_regex": "ok"},
      {"type": "process_alive", "target": "fleet", "count": {"min": 2, "max": 5}},
      {"type": "http", "url": "https://127.0.0.1/", "method": "HEAD", "status": {"regex": "^2"},
       "body_regex": "up"}
    ],
    "method": [
      {"type": "process_kill", "name": "kill-one", "target": "fleet",
       "params": {"signal": "KILL"}, "duration": "10s", "start_after": "1.5s"},
      {"type": "wait", "duration": "0s"},
      {"type": "probe", "probe": {"type": "tcp", "port": 8080}},
      {"type": "process_pause", "target": "web", "duration": "2m"}
    ],
    "guards": [],
    "rollbacks": [{"argv": ["systemctl", "restart", "demo"]},
                  {"name": "flush", "argv": ["sync"], "timeout": "5s"}],
    "settings": {"seed": 42, "probe_timeout": "3s", "revert_attempts": 5}
  })");
  ASSERT_TRUE(e.has_value()) << errors_.Format("exp.json")[0];
  EXPECT_EQ(e->version, 1);
  EXPECT_EQ(e->title, "game day");
  EXPECT_EQ(e->description, "kill and pause");
  EXPECT_EQ(e->tags, (Lines{"demo", "web"}));

  ASSERT_EQ(e->targets.size(), 4u);
  EXPECT_EQ(e->targets[0].name, "fleet");
  EXPECT_EQ(e->targets[0].pointer, "/targets/fleet");
  EXPECT_EQ(e->targets[0].process.name, "sleep");
  EXPECT_EQ(e->targets[0].process.user, "root");
  EXPECT_EQ(e->targets[0].select.mode, SelectionMode::kCount);
  EXPECT_EQ(e->targets[0].select.count, 2);
  EXPECT_FALSE(e->targets[0].allow_empty);
  EXPECT_EQ(e->targets[1].process.cmdline, "demo-service --port [0-9]+");
  EXPECT_EQ(e->targets[1].select.mode, SelectionMode::kPercent);
  EXPECT_EQ(e->targets[1].select.percent, 50);
  EXPECT_TRUE(e->targets[1].allow_empty);
  EXPECT_EQ(e->targets[2].process.pid, 4242);
  EXPECT_EQ(e->targets[3].process.pidfile, "/run/x.pid");
  EXPECT_EQ(e->targets[3].select.mode, SelectionMode::kAll);
  ASSERT_NE(e->FindTarget("web"), nullptr);
  EXPECT_EQ(e->FindTarget("web")->name, "web");
  EXPECT_EQ(e->FindTarget("nope"), nullptr);

  ASSERT_EQ(e->steady_state.size(), 5u);
  const ProbeSpec& http = e->steady_state[0];
  EXPECT_EQ(http.name, "http-0");
  EXPECT_EQ(http.pointer, "/steady_state/0");
  EXPECT_EQ(http.type, ProbeType::kHttp);
  EXPECT_EQ(http.method, "GET");
  EXPECT_EQ(http.timeout, std::chrono::seconds(3));  // settings.probe_timeout, given later
  EXPECT_EQ(http.tolerance.kind, Tolerance::Kind::kExact);
  EXPECT_EQ(http.tolerance.exact, 200);
  const ProbeSpec& tcp = e->steady_state[1];
  EXPECT_EQ(tcp.name, "port-open");
  EXPECT_EQ(tcp.address, "127.0.0.1");
  EXPECT_EQ(tcp.port, 8080);
  EXPECT_EQ(tcp.timeout, std::chrono::milliseconds(500));
  const ProbeSpec& command = e->steady_state[2];
  EXPECT_EQ(command.argv, Lines{"true"});
  EXPECT_EQ(command.tolerance.kind, Tolerance::Kind::kRange);
  EXPECT_EQ(command.tolerance.min, 0);
  EXPECT_EQ(command.tolerance.max, 1);
  EXPECT_EQ(command.stdout_regex, "ok");
  const ProbeSpec& alive = e->steady_state[3];
  EXPECT_EQ(alive.target, "fleet");
  EXPECT_EQ(alive.tolerance.min, 2);
  EXPECT_EQ(alive.tolerance.max, 5);
  const ProbeSpec& head = e->steady_state[4];
  EXPECT_EQ(head.method, "HEAD");
  EXPECT_EQ(head.tolerance.kind, Tolerance::Kind::kRegex);
  EXPECT_EQ(head.tolerance.regex.pattern(), "^2");
  EXPECT_EQ(head.body_regex->pattern(), "up");

  ASSERT_EQ(e->method.size(), 4u);
  const MethodStep& kill = e->method[0];
  EXPECT_EQ(kill.kind, MethodStep::Kind::kFault);
  EXPECT_EQ(kill.pointer, "/method/0");
  EXPECT_EQ(kill.fault.name, "kill-one");
  EXPECT_EQ(kill.fault.type, "process_kill");
  EXPECT_EQ(kill.fault.target, "fleet");
  EXPECT_EQ(kill.fault.params, (json{{"signal", "KILL"}, {"count", 1}}));
  EXPECT_EQ(kill.fault.duration, std::chrono::seconds(10));
  EXPECT_EQ(kill.fault.start_after, std::chrono::milliseconds(1500));
  EXPECT_EQ(e->method[1].kind, MethodStep::Kind::kWait);
  EXPECT_EQ(e->method[1].wait.duration, std::chrono::seconds(0));
  EXPECT_EQ(e->method[2].kind, MethodStep::Kind::kProbe);
  EXPECT_EQ(e->method[2].probe.name, "tcp-2");
  EXPECT_EQ(e->method[2].probe.pointer, "/method/2/probe");
  EXPECT_EQ(e->method[2].probe.timeout, std::chrono::seconds(3));
  EXPECT_EQ(e->method[3].fault.name, "process_pause-3");
  EXPECT_EQ(e->method[3].fault.params, json::object());

  ASSERT_EQ(e->rollbacks.size(), 2u);
  EXPECT_EQ(e->rollbacks[0].name, "rollback-0");
  EXPECT_EQ(e->rollbacks[0].argv, (Lines{"systemctl", "restart", "demo"}));
  EXPECT_EQ(e->rollbacks[0].timeout, std::chrono::seconds(30));
  EXPECT_EQ(e->rollbacks[1].name, "flush");
  EXPECT_EQ(e->rollbacks[1].timeout, std::chrono::seconds(5));
  EXPECT_EQ(e->settings.seed, 42u);
  EXPECT_EQ(e->settings.probe_timeout, std::chrono::seconds(3));
  EXPECT_EQ(e->settings.revert_attempts, 5);
  EXPECT_EQ(e->document["title"], "game day");
}

TEST_F(ExperimentTest, DefaultsOfAMinimalDocument) {
  auto e = Load(kValid);
  ASSERT_TRUE(e.has_value()) << errors_.Format("exp.json")[0];
  EXPECT_EQ(e->description, "");
  EXPECT_TRUE(e->tags.empty());
  EXPECT_TRUE(e->steady_state.empty());
  EXPECT_TRUE(e->rollbacks.empty());
  EXPECT_EQ(e->targets[0].select.mode, SelectionMode::kAll);
  EXPECT_EQ(e->method[0].fault.name, "process_kill-0");
  EXPECT_EQ(e->method[0].fault.params, (json{{"signal", "SIGTERM"}, {"count", 1}}));
  EXPECT_EQ(e->method[0].fault.start_after, std::chrono::seconds(0));
  EXPECT_FALSE(e->settings.seed.has_value());
  EXPECT_EQ(e->settings.probe_timeout, std::chrono::seconds(2));
  EXPECT_EQ(e->settings.revert_attempts, 3);
  EXPECT_TRUE(e->guards.empty());
}

TEST_F(ExperimentTest, ProbeDefaults) {
  auto e = Load(Doc({{"steady_state",
                      {{{"type", "command"}, {"argv", {"true"}}},
                       {{"type", "process_alive"}, {"target", "fleet"}}}}}));
  ASSERT_TRUE(e.has_value()) << errors_.Format("exp.json")[0];
  EXPECT_EQ(e->steady_state[0].name, "command-0");
  EXPECT_EQ(e->steady_state[0].tolerance.exact, 0);
  EXPECT_EQ(e->steady_state[0].timeout, std::chrono::seconds(2));
  EXPECT_EQ(e->steady_state[1].name, "process_alive-1");
  EXPECT_EQ(e->steady_state[1].tolerance.kind, Tolerance::Kind::kRange);
  EXPECT_EQ(e->steady_state[1].tolerance.min, 1);
  EXPECT_FALSE(e->steady_state[1].tolerance.max.has_value());
}

// ---- The error texts of the brief, word for word ---------------------------------------------

TEST_F(ExperimentTest, UnknownTopLevelKey) {
  EXPECT_EQ(Errors(Doc({{"tiltle", "x"}})),
            Lines{"exp.json: /tiltle: unknown key: one of version, title, description, tags, "
                  "targets, steady_state, method, guards, rollbacks, settings, inventory"});
}

TEST_F(ExperimentTest, MissingTitle) {
  EXPECT_EQ(Errors(Doc({{"title", nullptr}})),
            Lines{"exp.json: /title: missing: a non-empty string"});
  EXPECT_EQ(Errors(Doc({{"title", ""}})), Lines{"exp.json: /title: \"\": a non-empty string"});
}

TEST_F(ExperimentTest, WrongVersion) {
  EXPECT_EQ(Errors(Doc({{"version", 2}})), Lines{"exp.json: /version: 2: 1"});
  EXPECT_EQ(Errors(Doc({{"version", nullptr}})), Lines{"exp.json: /version: missing: 1"});
}

TEST_F(ExperimentTest, UnknownSignal) {
  EXPECT_EQ(Errors(Doc({{"method",
                         {{{"type", "process_kill"},
                           {"target", "fleet"},
                           {"duration", "1s"},
                           {"params", {{"signal", "SIGFOO"}}}}}}})),
            Lines{"exp.json: /method/0/params/signal: \"SIGFOO\": a signal name (SIGTERM or TERM) "
                  "or number 1-64"});
}

TEST_F(ExperimentTest, NegativeAndUnparsableDurations) {
  auto with_duration = [](const ojson& d) {
    return Doc({{"method", {{{"type", "process_kill"}, {"target", "fleet"}, {"duration", d}}}}});
  };
  const std::string allowed = "a duration such as \"250ms\", \"30s\", \"2m\" (greater than 0)";
  EXPECT_EQ(Errors(with_duration("-5s")),
            Lines{"exp.json: /method/0/duration: \"-5s\": " + allowed});
  EXPECT_EQ(Errors(with_duration("soon")),
            Lines{"exp.json: /method/0/duration: \"soon\": " + allowed});
  EXPECT_EQ(Errors(with_duration("10")), Lines{"exp.json: /method/0/duration: \"10\": " + allowed});
  EXPECT_EQ(Errors(with_duration(10)), Lines{"exp.json: /method/0/duration: 10: " + allowed});
  EXPECT_EQ(Errors(with_duration("0s")), Lines{"exp.json: /method/0/duration: \"0s\": " + allowed});
  EXPECT_EQ(Errors(Doc({{"method", {{{"type", "wait"}, {"duration", "-1ms"}}}}})),
            Lines{"exp.json: /method/0/duration: \"-1ms\": a duration such as \"250ms\", "
                  "\"30s\", \"2m\" (0 or more)"});
}

TEST_F(ExperimentTest, UnknownFaultType) {
  EXPECT_EQ(Errors(Doc({{"method",
                         {{{"type", "proces_kill"}, {"target", "fleet"}, {"duration", "1s"}}}}})),
            Lines{"exp.json: /method/0/type: \"proces_kill\": a fault type (process_kill, "
                  "process_pause), \"wait\", \"probe\" or \"action\""});
  EXPECT_EQ(Errors(Doc({{"method", {{{"target", "fleet"}}}}})),
            Lines{"exp.json: /method/0/type: missing: a fault type (process_kill, "
                  "process_pause), \"wait\", \"probe\" or \"action\""});
}

TEST_F(ExperimentTest, PercentOutsideZeroToHundred) {
  for (const ojson& p : {ojson(150), ojson(0), ojson(-5), ojson("50")}) {
    EXPECT_EQ(Errors(Doc({{"targets", {{"fleet", {{"select", {{"percent", p}}}}}}}})),
              Lines{"exp.json: /targets/fleet/select/percent: " + p.dump() +
                    ": a number greater than 0 and at most 100"});
  }
}

TEST_F(ExperimentTest, UnknownTarget) {
  EXPECT_EQ(Errors(Doc({{"method",
                         {{{"type", "process_kill"}, {"target", "flet"}, {"duration", "1s"}}}}})),
            Lines{"exp.json: /method/0/target: \"flet\": the name of a target in /targets "
                  "(fleet)"});
}

TEST_F(ExperimentTest, UnfilledPlaceholder) {
  EXPECT_EQ(
      Errors(Doc(
          {{"targets", {{"fleet", {{"process", {{"name", nullptr}, {"cmdline", "${port}"}}}}}}}})),
      Lines{"exp.json: /targets/fleet/process/cmdline: \"${port}\": a value for placeholder "
            "'port' (--var port=VALUE or the environment variable port)"});
}

TEST_F(ExperimentTest, FileOfTwoMebibytes) {
  const std::string path =
      ::testing::TempDir() + "ringfence_big_" + std::to_string(getpid()) + ".json";
  {
    std::ofstream out(path, std::ios::binary);
    out << std::string(2 * 1024 * 1024, ' ');
  }
  ValidationErrors errors;
  EXPECT_FALSE(LoadExperimentFile(path, options_, errors).has_value());
  std::filesystem::remove(path);
  EXPECT_EQ(errors.Format("exp.json"),
            Lines{"exp.json: /: 2097152 bytes: a file of at most 1048576 bytes (1 MiB)"});
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST_F(ExperimentTest, TextOverTheLimit) {
  EXPECT_EQ(Errors(std::string(kMaxExperimentBytes + 1, ' ')),
            Lines{"exp.json: /: 1048577 bytes: a file of at most 1048576 bytes (1 MiB)"});
}

TEST_F(ExperimentTest, EmptyFile) {
  EXPECT_EQ(Errors(""), Lines{"exp.json: /: empty file: a JSON object"});
  EXPECT_EQ(Errors(" \n\t"), Lines{"exp.json: /: empty file: a JSON object"});
  const std::string path =
      ::testing::TempDir() + "ringfence_empty_" + std::to_string(getpid()) + ".json";
  { std::ofstream out(path); }
  ValidationErrors errors;
  EXPECT_FALSE(LoadExperimentFile(path, options_, errors).has_value());
  std::filesystem::remove(path);
  EXPECT_EQ(errors.Format("exp.json"), Lines{"exp.json: /: empty file: a JSON object"});
}

TEST_F(ExperimentTest, NestingTooDeep) {
  auto nested = [](int levels) { return std::string(levels, '[') + std::string(levels, ']'); };
  EXPECT_EQ(Errors("{\"title\": " + nested(64) + "}"),
            Lines{"exp.json: /: nesting deeper than 64 levels: at most 64 levels of arrays and "
                  "objects"});
  // 64 levels in all (the outer object is one) is allowed: only the type is wrong then.
  EXPECT_EQ(Errors("{\"title\": " + nested(63) +
                   ", \"version\": 1, \"method\": [{\"type\": "
                   "\"wait\", \"duration\": \"1s\"}], \"guards\": []}"),
            Lines{"exp.json: /title: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[…: a non-empty "
                  "string"});
  EXPECT_EQ(Errors(nested(65)),
            Lines{"exp.json: /: nesting deeper than 64 levels: at most 64 levels of arrays and "
                  "objects"});
  EXPECT_EQ(Errors(nested(100000)),
            Lines{"exp.json: /: nesting deeper than 64 levels: at most 64 levels of arrays and "
                  "objects"});
}

TEST_F(ExperimentTest, SyntaxErrorsHaveLineAndColumn) {
  EXPECT_EQ(Errors("{\n  \"version\": 1,\n  \"title\": x\n}"),
            Lines{"exp.json:3:12: syntax error: invalid literal; last read: '\"title\": x'"});
  EXPECT_EQ(Errors("{\"version\": 1,}"),
            Lines{"exp.json:1:15: syntax error: unexpected '}'; expected string literal"});
  EXPECT_EQ(Errors("[1,\n2"), Lines{"exp.json:2:2: syntax error: unexpected end of input; "
                                    "expected ']'"});
  EXPECT_EQ(Errors("not json"), Lines{"exp.json:1:2: syntax error: invalid literal; last read: "
                                      "'no'"});
  EXPECT_EQ(Errors("{\"title\": \"" + std::string(100, 'a')),
            Lines{"exp.json:1:112: syntax error: invalid string: missing closing quote; last "
                  "read: '\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa…'"});
}

TEST_F(ExperimentTest, DuplicateKeys) {
  EXPECT_EQ(Errors(R"({"version": 1, "title": "a", "title": "b", "guards": [],
    "targets": {"t": {"process": {"pid": 5, "pid": 6}}},
    "method": [{"type": "wait", "duration": "1s"}, {"type": "wait", "duration": "1s",
                "duration": "2s"}]})"),
            (Lines{"exp.json: /title: duplicate key: each key at most once in an object",
                   "exp.json: /targets/t/process/pid: duplicate key: each key at most once in an "
                   "object",
                   "exp.json: /method/1/duration: duplicate key: each key at most once in an "
                   "object"}));
  // Arrays of scalars count their elements too.
  EXPECT_EQ(Errors(R"({"tags": ["a", "b", {"x": 1, "x": 2}]})")[0],
            "exp.json: /tags/2/x: duplicate key: each key at most once in an object");
}

TEST_F(ExperimentTest, TopLevelMustBeAnObject) {
  EXPECT_EQ(Errors("[1, 2]"), Lines{"exp.json: /: [1,2]: a JSON object"});
  EXPECT_EQ(Errors("\"x\""), Lines{"exp.json: /: \"x\": a JSON object"});
}

TEST_F(ExperimentTest, WrongJsonTypes) {
  EXPECT_EQ(Errors(Doc({{"tags", "web"}})), Lines{"exp.json: /tags: \"web\": an array of strings"});
  EXPECT_EQ(Errors(Doc({{"tags", {"web", 3}}})), Lines{"exp.json: /tags/1: 3: a string"});
  EXPECT_EQ(Errors(Doc({{"description", 5}})), Lines{"exp.json: /description: 5: a string"});
  EXPECT_EQ(Errors(Doc({{"targets", "fleet"}})),
            (Lines{"exp.json: /targets: \"fleet\": an object of targets by name",
                   "exp.json: /method/0/target: \"fleet\": the name of a target in /targets "
                   "(there are none)"}));
  EXPECT_EQ(Errors(Doc({{"method", json::object()}})),
            Lines{"exp.json: /method: {}: an array of at least one step"});
  EXPECT_EQ(Errors(Doc({{"method", json::array()}})),
            Lines{"exp.json: /method: []: an array of at least one step"});
  EXPECT_EQ(Errors(Doc({{"method", {5}}})), Lines{"exp.json: /method/0: 5: a step object"});
  EXPECT_EQ(Errors(Doc({{"steady_state", {{"type", "tcp"}}}})),
            Lines{"exp.json: /steady_state: {\"type\":\"tcp\"}: an array of probes"});
  EXPECT_EQ(Errors(Doc({{"steady_state", {"tcp"}}})),
            Lines{"exp.json: /steady_state/0: \"tcp\": a probe object"});
  EXPECT_EQ(Errors(Doc(
                {{"settings", {{"seed", -1}, {"revert_attempts", 11}, {"probe_timeout", "0ms"}}}})),
            (Lines{"exp.json: /settings/seed: -1: an unsigned integer",
                   "exp.json: /settings/revert_attempts: 11: an integer from 1 to 10",
                   "exp.json: /settings/probe_timeout: \"0ms\": a duration such as \"250ms\", "
                   "\"30s\", \"2m\" (greater than 0)"}));
  EXPECT_EQ(Errors(Doc({{"settings", 3}})), Lines{"exp.json: /settings: 3: an object"});
  EXPECT_EQ(Errors(Doc({{"targets", {{"fleet", {{"allow_empty", "yes"}}}}}})),
            Lines{"exp.json: /targets/fleet/allow_empty: \"yes\": true or false"});
}

// ---- Guards ----------------------------------------------------------------------------------

constexpr char kCondition[] =
    "{\"max\": x}, {\"min\": x}, {\"min\": x, \"max\": y}, {\"max_vs_baseline\": r} or "
    "{\"min_vs_baseline\": r}";

// A valid guard whose top-level keys are replaced by those of `replace` (null removes one).
ojson Guard(const ojson& replace = ojson::object()) {
  ojson guard = {{"name", "fleet-lost"},
                 {"source", {{"type", "affected_fraction"}, {"target", "fleet"}}},
                 {"condition", {{"max", 0.2}}}};
  for (const auto& [key, value] : replace.items()) {
    if (value.is_null()) {
      guard.erase(key);
    } else {
      guard[key] = value;
    }
  }
  return guard;
}

TEST_F(ExperimentTest, LoadsGuardsWithDefaults) {
  auto e = Load(Doc(
      {{"guards",
        {Guard(),
         {{"source", {{"type", "scrape"}, {"url", "http://127.0.0.1:9/metrics"}, {"metric", "up"}}},
          {"condition", {{"min", 1}}}}}}}));
  ASSERT_TRUE(e.has_value()) << errors_.Format("exp.json")[0];
  ASSERT_EQ(e->guards.size(), 2u);
  const GuardSpec& g = e->guards[0];
  EXPECT_EQ(g.name, "fleet-lost");
  EXPECT_EQ(g.pointer, "/guards/0");
  EXPECT_EQ(g.source, (json{{"type", "affected_fraction"}, {"target", "fleet"}}));
  EXPECT_EQ(g.max, 0.2);
  EXPECT_FALSE(g.min.has_value());
  EXPECT_EQ(g.interval, std::chrono::seconds(1));
  EXPECT_EQ(g.for_samples, 1);
  EXPECT_EQ(g.min_samples, 1);
  EXPECT_TRUE(g.abort_on_no_data);
  EXPECT_TRUE(g.abort_on_error);
  EXPECT_EQ(g.ThresholdText(std::nullopt), "<= 0.2");
  // A guard without a name is named by its index; a scrape source gets its defaults.
  EXPECT_EQ(e->guards[1].name, "guard-1");
  EXPECT_EQ(e->guards[1].source, (json{{"type", "scrape"},
                                       {"url", "http://127.0.0.1:9/metrics"},
                                       {"metric", "up"},
                                       {"stat", "value"},
                                       {"labels", json::object()}}));
}

TEST_F(ExperimentTest, LoadsEverySourceType) {
  const ojson probe = {{"type", "http"}, {"url", "http://127.0.0.1:8080/health"}};
  auto e = Load(
      Doc({{"guards",
            {Guard({{"source",
                     {{"type", "promql"},
                      {"url", "http://127.0.0.1:9090"},
                      {"query", "sum(up)"},
                      {"timeout", "500ms"}}},
                    {"name", "a"},
                    {"interval", "50ms"},
                    {"for", 3},
                    {"min_samples", 2},
                    {"on_no_data", "ignore"},
                    {"on_error", "abort"}}),
             Guard({{"name", "b"},
                    {"source",
                     {{"type", "scrape"},
                      {"url", "http://127.0.0.1:1/m"},
                      {"metric", "demo_request_duration_seconds"},
                      {"labels", {{"path", "/work"}}},
                      {"stat", "quantile"},
                      {"quantile", 0.99}}},
                    {"condition", {{"max_vs_baseline", 1.5}}}}),
             Guard({{"name", "c"},
                    {"source", {{"type", "probe_stats"}, {"probe", probe}, {"stat", "p99"}}},
                    {"condition", {{"min_vs_baseline", 0.5}, {"max_vs_baseline", 2}}}}),
             Guard({{"name", "d"},
                    {"source", {{"type", "probe"}, {"probe", probe}}},
                    {"condition", {{"min", 1}, {"max", 1}}}}),
             Guard({{"name", "e"},
                    {"source", {{"type", "affected_fraction"}, {"probes", {probe, probe}}}}})}}}));
  ASSERT_TRUE(e.has_value()) << errors_.Format("exp.json")[0];
  ASSERT_EQ(e->guards.size(), 5u);
  EXPECT_EQ(e->guards[0].interval, std::chrono::milliseconds(50));
  EXPECT_EQ(e->guards[0].for_samples, 3);
  EXPECT_EQ(e->guards[0].min_samples, 2);
  EXPECT_FALSE(e->guards[0].abort_on_no_data);
  EXPECT_TRUE(e->guards[0].abort_on_error);
  EXPECT_EQ(e->guards[1].source["window"], "10s");
  EXPECT_EQ(e->guards[1].max_vs_baseline, 1.5);
  EXPECT_EQ(e->guards[1].ThresholdText(12), "<= 1.5 × baseline (18)");
  EXPECT_EQ(e->guards[1].ThresholdText(std::nullopt), "<= 1.5 × baseline");
  EXPECT_EQ(e->guards[2].source["rate"], 10);
  EXPECT_EQ(e->guards[2].source["window"], "5s");
  EXPECT_EQ(e->guards[2].ThresholdText(4), ">= 0.5 × baseline (2) and <= 2 × baseline (8)");
  EXPECT_EQ(e->guards[3].ThresholdText(std::nullopt), ">= 1 and <= 1");
}

TEST_F(ExperimentTest, GuardsErrorsOfTheIssue) {
  // A guard on an unknown source type.
  EXPECT_EQ(Errors(Doc({{"guards", {Guard({{"source", {{"type", "graphite"}}}})}}})),
            Lines{"exp.json: /guards/0/source/type: \"graphite\": one of promql, scrape, "
                  "probe_stats, probe, affected_fraction"});
  // A guard on an unknown target.
  EXPECT_EQ(
      Errors(Doc({{"guards",
                   {Guard({{"source", {{"type", "affected_fraction"}, {"target", "flet"}}}})}}})),
      Lines{"exp.json: /guards/0/source/target: \"flet\": the name of a target in "
            "/targets (fleet)"});
  // An interval below 50 ms.
  EXPECT_EQ(Errors(Doc({{"guards", {Guard({{"interval", "10ms"}})}}})),
            Lines{"exp.json: /guards/0/interval: \"10ms\": a duration such as \"250ms\", "
                  "\"30s\", \"2m\" (from 50ms to 1h)"});
  // `for` below 1.
  EXPECT_EQ(Errors(Doc({{"guards", {Guard({{"for", 0}})}}})),
            Lines{"exp.json: /guards/0/for: 0: an integer from 1 to 1000"});
  // An empty condition, and contradictory ones.
  ojson empty_condition = Guard();
  empty_condition["condition"] = ojson::object();
  EXPECT_EQ(Errors(Doc({{"guards", {empty_condition}}})),
            Lines{std::string("exp.json: /guards/0/condition: {}: ") + kCondition});
  EXPECT_EQ(Errors(Doc({{"guards", {Guard({{"condition", {{"min", 5}, {"max", 1}}}})}}})),
            Lines{"exp.json: /guards/0/condition: {\"min\":5,\"max\":1}: {\"min\": x, "
                  "\"max\": y} with min at most max"});
  EXPECT_EQ(
      Errors(Doc({{"guards",
                   {Guard({{"condition", {{"min_vs_baseline", 2}, {"max_vs_baseline", 1.5}}}})}}})),
      Lines{"exp.json: /guards/0/condition: {\"min_vs_baseline\":2,\"max_vs_baseline\":…: "
            "{\"min_vs_baseline\": a, \"max_vs_baseline\": b} with a at most b"});
}

TEST_F(ExperimentTest, GuardErrors) {
  EXPECT_EQ(Errors(Doc({{"guards", nullptr}})),
            Lines{"exp.json: /guards: missing: an array of guards (docs/guards.md), or []"});
  EXPECT_EQ(Errors(Doc({{"guards", json::object()}})),
            Lines{"exp.json: /guards: {}: an array of guards (docs/guards.md), or []"});
  EXPECT_EQ(Errors(Doc({{"guards", {"x"}}})), Lines{"exp.json: /guards/0: \"x\": a guard object"});
  EXPECT_EQ(Errors(Doc({{"guards", {{{"type", "promql"}}}}})),
            (Lines{"exp.json: /guards/0/type: unknown key: one of name, source, condition, "
                   "interval, for, min_samples, on_no_data, on_error",
                   "exp.json: /guards/0/source: missing: a source object",
                   std::string("exp.json: /guards/0/condition: missing: ") + kCondition}));
  EXPECT_EQ(
      Errors(
          Doc({{"guards",
                {Guard({{"name", ""},
                        {"interval", "2h"},
                        {"min_samples", 0},
                        {"on_no_data", "skip"},
                        {"on_error", true},
                        {"condition", {{"max", "1"}, {"max_vs_baseline", 0}, {"below", 1}}}})}}})),
      (Lines{"exp.json: /guards/0/name: \"\": a non-empty string",
             "exp.json: /guards/0/condition/max: \"1\": a number",
             "exp.json: /guards/0/condition/max_vs_baseline: 0: a number greater than 0 "
             "(a factor of the baseline)",
             "exp.json: /guards/0/condition/below: unknown key: one of min, max, "
             "min_vs_baseline, max_vs_baseline",
             "exp.json: /guards/0/interval: \"2h\": a duration such as \"250ms\", \"30s\", "
             "\"2m\" (from 50ms to 1h)",
             "exp.json: /guards/0/min_samples: 0: an integer from 1 to 1000",
             "exp.json: /guards/0/on_no_data: \"skip\": one of abort, ignore",
             "exp.json: /guards/0/on_error: true: one of abort, ignore"}));
  EXPECT_EQ(Errors(Doc({{"guards", {Guard(), Guard()}}})),
            Lines{"exp.json: /guards/1/name: \"fleet-lost\": a name not used by another guard "
                  "(/guards/0 uses it)"});
}

TEST_F(ExperimentTest, GuardSourceErrors) {
  auto source = [&](const ojson& s) {
    ojson guard = Guard();
    guard["source"] = s;
    return Errors(Doc({{"guards", {guard}}}));
  };
  EXPECT_EQ(source("x"), Lines{"exp.json: /guards/0/source: \"x\": a source object"});
  EXPECT_EQ(source(ojson::object()),
            Lines{"exp.json: /guards/0/source/type: missing: one of promql, scrape, probe_stats, "
                  "probe, affected_fraction"});
  EXPECT_EQ(source({{"type", "promql"},
                    {"url", "127.0.0.1:9090"},
                    {"query", ""},
                    {"timeout", "0s"},
                    {"step", "1s"}}),
            (Lines{"exp.json: /guards/0/source/url: \"127.0.0.1:9090\": a URL starting with "
                   "http:// or https://",
                   "exp.json: /guards/0/source/query: \"\": a non-empty string",
                   "exp.json: /guards/0/source/timeout: \"0s\": a duration such as \"250ms\", "
                   "\"30s\", \"2m\" (greater than 0)",
                   "exp.json: /guards/0/source/step: unknown key: one of type, url, query, "
                   "timeout"}));
  EXPECT_EQ(source({{"type", "promql"}}),
            (Lines{"exp.json: /guards/0/source/url: missing: a URL starting with http:// or "
                   "https://",
                   "exp.json: /guards/0/source/query: missing: a non-empty string"}));
  EXPECT_EQ(source({{"type", "scrape"},
                    {"url", "http://x/metrics"},
                    {"metric", "9up"},
                    {"labels", {{"path", 1}}},
                    {"stat", "p99"}}),
            (Lines{"exp.json: /guards/0/source/metric: \"9up\": a metric name "
                   "([a-zA-Z_:][a-zA-Z0-9_:]*)",
                   "exp.json: /guards/0/source/labels/path: 1: a string",
                   "exp.json: /guards/0/source/stat: \"p99\": one of value, rate, quantile"}));
  EXPECT_EQ(source({{"type", "scrape"},
                    {"url", "http://x/metrics"},
                    {"metric", "up"},
                    {"stat", "quantile"}}),
            Lines{"exp.json: /guards/0/source/quantile: missing: a number from 0 to 1 (stat "
                  "quantile)"});
  EXPECT_EQ(source({{"type", "scrape"},
                    {"url", "http://x/metrics"},
                    {"metric", "up"},
                    {"quantile", 1.5},
                    {"window", "5s"}}),
            (Lines{"exp.json: /guards/0/source/quantile: 1.5: a number from 0 to 1",
                   "exp.json: /guards/0/source/quantile: 1.5: only with stat quantile",
                   "exp.json: /guards/0/source/window: \"5s\": only with stat rate or quantile"}));
  EXPECT_EQ(
      source({{"type", "probe_stats"}, {"probe", {{"type", "tcp"}}}, {"rate", 0}, {"stat", "p95"}}),
      (Lines{"exp.json: /guards/0/source/probe/port: missing: an integer from 1 to 65535",
             "exp.json: /guards/0/source/rate: 0: a number greater than 0 and at most 100 "
             "(probes per second)",
             "exp.json: /guards/0/source/stat: \"p95\": one of success_ratio, p50, p99, "
             "mean"}));
  EXPECT_EQ(source({{"type", "probe"}}),
            Lines{"exp.json: /guards/0/source/probe: missing: a probe object"});
  EXPECT_EQ(source({{"type", "affected_fraction"}}),
            Lines{"exp.json: /guards/0/source: {\"type\":\"affected_fraction\"}: exactly one "
                  "of target, probes"});
  EXPECT_EQ(source({{"type", "affected_fraction"}, {"probes", ojson::array()}}),
            Lines{"exp.json: /guards/0/source/probes: []: a non-empty array of probe objects"});
  EXPECT_EQ(source({{"type", "affected_fraction"}, {"probes", {{{"type", "smtp"}}}}}),
            Lines{"exp.json: /guards/0/source/probes/0/type: \"smtp\": one of http, tcp, "
                  "command, process_alive"});
}

TEST_F(ExperimentTest, ReadsAGuardsProbeOutsideTheDocument) {
  auto e = Load(Doc({{"settings", {{"probe_timeout", "3s"}}}}));
  ASSERT_TRUE(e.has_value()) << errors_.Format("exp.json")[0];
  ValidationErrors errors;
  std::optional<ProbeSpec> probe = ReadProbeObject(
      json{{"type", "process_alive"}, {"target", "fleet"}}, "/guards/0/source/probe", *e, errors);
  ASSERT_TRUE(probe.has_value());
  EXPECT_EQ(probe->target, "fleet");
  EXPECT_EQ(probe->timeout, std::chrono::seconds(3));
  EXPECT_FALSE(ReadProbeObject(json{{"type", "process_alive"}, {"target", "x"}},
                               "/guards/0/source/probe", *e, errors));
  EXPECT_EQ(errors.Format("exp.json"),
            Lines{"exp.json: /guards/0/source/probe/target: \"x\": the name of a target in "
                  "/targets (fleet)"});
}

TEST_F(ExperimentTest, UnknownKeysAnywhere) {
  EXPECT_EQ(Errors(Doc({{"targets", {{"fleet", {{"proces", 1}}}}}})),
            Lines{"exp.json: /targets/fleet/proces: unknown key: one of process, hosts, select, "
                  "allow_empty"});
  EXPECT_EQ(Errors(Doc({{"targets", {{"fleet", {{"process", {{"nmae", "x"}}}}}}}})),
            Lines{"exp.json: /targets/fleet/process/nmae: unknown key: one of pid, pidfile, name, "
                  "cmdline, user"});
  EXPECT_EQ(Errors(Doc({{"method", {{{"type", "wait"}, {"duration", "1s"}, {"for", 1}}}}})),
            Lines{"exp.json: /method/0/for: unknown key: one of type, name, duration"});
  EXPECT_EQ(Errors(Doc({{"method",
                         {{{"type", "process_kill"},
                           {"target", "fleet"},
                           {"duration", "1s"},
                           {"after", "1s"}}}}})),
            Lines{"exp.json: /method/0/after: unknown key: one of type, name, target, params, "
                  "duration, start_after"});
  EXPECT_EQ(Errors(Doc({{"steady_state", {{{"type", "tcp"}, {"port", 1}, {"url", "x"}}}}})),
            Lines{"exp.json: /steady_state/0/url: unknown key: one of type, name, address, port, "
                  "timeout"});
  EXPECT_EQ(Errors(Doc({{"settings", {{"sead", 1}}}})),
            Lines{"exp.json: /settings/sead: unknown key: one of seed, probe_timeout, "
                  "revert_attempts, max_concurrency, on_unreachable, max_targets, "
                  "max_hold, steady_state_before, steady_state_after, rollback_strategy, "
                  "max_fault_lifetime"});
  EXPECT_EQ(Errors(Doc({{"rollbacks", {{{"argv", {"x"}}, {"cmd", "x"}}}}})),
            Lines{"exp.json: /rollbacks/0/cmd: unknown key: one of name, argv, action, timeout"});
  EXPECT_EQ(Errors(Doc({{"method",
                         {{{"type", "process_kill"},
                           {"target", "fleet"},
                           {"duration", "1s"},
                           {"params", {{"sig", 9}}}}}}})),
            Lines{"exp.json: /method/0/params/sig: unknown key: one of signal, count"});
}

TEST_F(ExperimentTest, ProcessSelectors) {
  auto with_process = [](const ojson& process) {
    ojson doc = ojson::parse(Doc());
    doc["targets"]["fleet"]["process"] = process;
    return doc.dump();
  };
  EXPECT_EQ(Errors(with_process(json::object())),
            Lines{"exp.json: /targets/fleet/process: {}: exactly one of pid, pidfile, name, "
                  "cmdline"});
  EXPECT_EQ(Errors(with_process({{"name", "a"}, {"pid", 5}})),
            Lines{"exp.json: /targets/fleet/process: {\"name\":\"a\",\"pid\":5}: exactly one of "
                  "pid, pidfile, name, cmdline"});
  EXPECT_EQ(Errors(with_process({{"pid", 1}})),
            Lines{"exp.json: /targets/fleet/process/pid: 1: an integer from 2 to 4194304"});
  EXPECT_EQ(Errors(with_process({{"name", "a-very-long-process-name"}})),
            Lines{"exp.json: /targets/fleet/process/name: \"a-very-long-process-name\": a "
                  "process name of 1 to 15 characters"});
  EXPECT_EQ(Errors(with_process({{"cmdline", "demo("}})),
            Lines{"exp.json: /targets/fleet/process/cmdline: \"demo(\": a non-empty RE2 regular "
                  "expression (missing ): demo()"});
  EXPECT_EQ(Errors(with_process({{"name", std::string("sle\0ep", 6)}})),
            Lines{"exp.json: /targets/fleet/process/name: \"sle\\u0000ep\": a process name "
                  "without NUL characters"});
  EXPECT_EQ(Errors(with_process({{"pidfile", ""}})),
            Lines{"exp.json: /targets/fleet/process/pidfile: \"\": a non-empty path"});
  EXPECT_EQ(Errors(with_process("sleep")),
            Lines{"exp.json: /targets/fleet/process: \"sleep\": an object with one of pid, "
                  "pidfile, name, cmdline"});
  EXPECT_EQ(Errors(Doc({{"targets", {{"fleet", {{"process", nullptr}}}}}})),
            Lines{"exp.json: /targets/fleet/process: missing: an object with one of pid, pidfile, "
                  "name, cmdline"});
}

TEST_F(ExperimentTest, Selections) {
  auto with_select = [](const ojson& select) {
    return Doc({{"targets", {{"fleet", {{"select", select}}}}}});
  };
  const std::string allowed = "\"all\", {\"count\": N} or {\"percent\": P}";
  EXPECT_EQ(Errors(with_select("some")),
            Lines{"exp.json: /targets/fleet/select: \"some\": " + allowed});
  EXPECT_EQ(Errors(with_select(json::object())),
            Lines{"exp.json: /targets/fleet/select: {}: " + allowed});
  EXPECT_EQ(Errors(with_select({{"count", 7}, {"percent", 5}})),
            Lines{"exp.json: /targets/fleet/select: {\"count\":7,\"percent\":5}: " + allowed});
  EXPECT_EQ(Errors(with_select({{"count", 0}})),
            Lines{"exp.json: /targets/fleet/select/count: 0: an integer of at least 1"});
  EXPECT_EQ(Errors(with_select({{"cuont", 1}})),
            Lines{"exp.json: /targets/fleet/select/cuont: unknown key: one of count, percent"});
}

TEST_F(ExperimentTest, Probes) {
  auto probe = [](const ojson& p) { return Doc({{"steady_state", {p}}}); };
  EXPECT_EQ(Errors(probe({{"type", "ping"}})),
            Lines{"exp.json: /steady_state/0/type: \"ping\": one of http, tcp, command, "
                  "process_alive"});
  EXPECT_EQ(Errors(probe({{"name", "x"}})),
            Lines{"exp.json: /steady_state/0/type: missing: one of http, tcp, command, "
                  "process_alive"});
  EXPECT_EQ(Errors(probe({{"type", "http"}, {"url", "ftp://x"}, {"method", "TRACE"}})),
            (Lines{"exp.json: /steady_state/0/url: \"ftp://x\": a URL starting with http:// or "
                   "https://",
                   "exp.json: /steady_state/0/method: \"TRACE\": one of GET, HEAD, POST, PUT, "
                   "PATCH, DELETE"}));
  EXPECT_EQ(Errors(probe({{"type", "http"}})),
            Lines{"exp.json: /steady_state/0/url: missing: a URL starting with http:// or "
                  "https://"});
  EXPECT_EQ(Errors(probe({{"type", "tcp"}, {"port", 70000}, {"timeout", "0s"}})),
            (Lines{"exp.json: /steady_state/0/port: 70000: an integer from 1 to 65535",
                   "exp.json: /steady_state/0/timeout: \"0s\": a duration such as \"250ms\", "
                   "\"30s\", \"2m\" (greater than 0)"}));
  EXPECT_EQ(Errors(probe({{"type", "command"}, {"argv", json::array()}})),
            Lines{"exp.json: /steady_state/0/argv: []: a non-empty array of strings"});
  EXPECT_EQ(Errors(probe({{"type", "command"}, {"argv", {"", 1}}})),
            (Lines{"exp.json: /steady_state/0/argv/0: \"\": a program name or path",
                   "exp.json: /steady_state/0/argv/1: 1: a string"}));
  EXPECT_EQ(Errors(probe({{"type", "command"}, {"argv", {"x"}}, {"stdout_regex", "("}})),
            Lines{"exp.json: /steady_state/0/stdout_regex: \"(\": an RE2 regular expression "
                  "(missing ): ()"});
  EXPECT_EQ(Errors(probe({{"type", "process_alive"}, {"target", "nope"}})),
            Lines{"exp.json: /steady_state/0/target: \"nope\": the name of a target in /targets "
                  "(fleet)"});
}

TEST_F(ExperimentTest, Tolerances) {
  auto status = [](const ojson& t) {
    return Doc(
        {{"steady_state", {{{"type", "http"}, {"url", "http://127.0.0.1/"}, {"status", t}}}}});
  };
  const std::string generic =
      ": a number, a string, [low, high], {\"min\": x, \"max\": y}, {\"regex\": \"…\"} "
      "or {\"one_of\": [values]}";
  EXPECT_EQ(Errors(status(true)), Lines{"exp.json: /steady_state/0/status: true" + generic});
  EXPECT_EQ(Errors(status({1, 2, 3})),
            Lines{"exp.json: /steady_state/0/status: [1,2,3]" + generic});
  EXPECT_EQ(Errors(status(json::object())),
            Lines{"exp.json: /steady_state/0/status: {}" + generic});
  EXPECT_EQ(Errors(status({{"min", 1}, {"regex", "x"}})),
            Lines{"exp.json: /steady_state/0/status: {\"min\":1,\"regex\":\"x\"}" + generic});
  EXPECT_EQ(Errors(status({500, 200})),
            Lines{"exp.json: /steady_state/0/status: [500,200]: a range [low, high] with low at "
                  "most high"});
  EXPECT_EQ(Errors(status({{"min", 5}, {"max", 1}})),
            Lines{"exp.json: /steady_state/0/status: {\"min\":5,\"max\":1}: {\"min\": x, "
                  "\"max\": y} with min at most max"});
  EXPECT_EQ(Errors(status({{"min", "a"}})),
            Lines{"exp.json: /steady_state/0/status/min: \"a\": a number"});
  EXPECT_EQ(Errors(status({{"regex", "["}})),
            Lines{"exp.json: /steady_state/0/status/regex: \"[\": an RE2 regular expression "
                  "(missing ]: [)"});
  EXPECT_EQ(
      Errors(status({{"low", 1}})),
      Lines{"exp.json: /steady_state/0/status/low: unknown key: one of min, max, one_of, regex"});
  auto e = Load(status({{"max", 299}}));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->steady_state[0].tolerance.kind, Tolerance::Kind::kRange);
  EXPECT_FALSE(e->steady_state[0].tolerance.min.has_value());
  EXPECT_EQ(e->steady_state[0].tolerance.max, 299);
  e = Load(status("OK"));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->steady_state[0].tolerance.exact, "OK");
}

TEST_F(ExperimentTest, FaultSteps) {
  auto kill = [](const ojson& extra) {
    ojson step = {{"type", "process_kill"}, {"target", "fleet"}, {"duration", "1s"}};
    step.merge_patch(extra);
    return step;
  };
  EXPECT_EQ(Errors(Doc({{"method", {kill({{"name", "k"}}), kill({{"name", "k"}})}}})),
            Lines{"exp.json: /method/1/name: \"k\": a name not used by another fault step "
                  "(/method/0 uses it)"});
  EXPECT_EQ(Errors(Doc({{"method", {kill({{"name", "process_kill-1"}}), kill(ojson::object())}}})),
            Lines{"exp.json: /method/1: \"process_kill-1\": a name not used by another fault step "
                  "(/method/0 uses it)"});
  EXPECT_EQ(Errors(Doc({{"method", {kill({{"target", nullptr}, {"duration", nullptr}})}}})),
            (Lines{"exp.json: /method/0/target: missing: the name of a target in /targets (fleet)",
                   "exp.json: /method/0/duration: missing: a duration such as \"250ms\", \"30s\", "
                   "\"2m\" (greater than 0)"}));
  EXPECT_EQ(Errors(Doc({{"method", {kill({{"params", {"KILL"}}})}}})),
            Lines{"exp.json: /method/0/params: [\"KILL\"]: an object"});
  EXPECT_EQ(Errors(Doc({{"method", {kill({{"start_after", "-1s"}})}}})),
            Lines{"exp.json: /method/0/start_after: \"-1s\": a duration such as \"250ms\", "
                  "\"30s\", \"2m\" (0 or more)"});
  // The fault's own cross-field check runs on params with defaults filled in.
  EXPECT_EQ(Errors(Doc({{"method", {kill({{"params", {{"signal", "SIGSTOP"}, {"count", 2}}}})}}})),
            Lines{"exp.json: /method/0/params/count: 2: 1 when signal is SIGSTOP"});
  EXPECT_EQ(Errors(Doc({{"method", {{{"type", "probe"}}}}})),
            Lines{"exp.json: /method/0/probe: missing: a probe object"});
}

TEST_F(ExperimentTest, Rollbacks) {
  EXPECT_EQ(Errors(Doc({{"rollbacks", {{{"name", ""}, {"argv", "x"}, {"timeout", "0s"}}}}})),
            (Lines{"exp.json: /rollbacks/0/name: \"\": a non-empty string",
                   "exp.json: /rollbacks/0/argv: \"x\": a non-empty array of strings",
                   "exp.json: /rollbacks/0/timeout: \"0s\": a duration such as \"250ms\", "
                   "\"30s\", \"2m\" (greater than 0)"}));
  EXPECT_EQ(Errors(Doc({{"rollbacks", {json::object()}}})),
            Lines{"exp.json: /rollbacks/0/argv: missing: a non-empty array of strings"});
  EXPECT_EQ(Errors(Doc({{"rollbacks", "x"}})),
            Lines{"exp.json: /rollbacks: \"x\": an array of rollbacks"});
}

// ---- All errors at once, in document order ---------------------------------------------------

TEST_F(ExperimentTest, ReportsEveryErrorAtOnceInDocumentOrder) {
  EXPECT_EQ(Errors(R"({
    "version": 2,
    "tiltle": "typo",
    "tags": "web",
    "targets": {
      "fleet": {"process": {"cmdline": "${pattern}"}, "select": {"percent": 150}}
    },
    "steady_state": [{"type": "tcp", "port": 0}],
    "method": [
      {"type": "proces_kill", "target": "fleet", "duration": "10s"},
      {"type": "process_kill", "target": "flet", "duration": "-5s",
       "params": {"signal": "SIGFOO"}},
      {"type": "wait", "duration": "soon"}
    ],
    "guards": [{"promql": "up == 0"}],
    "settings": {"revert_attempts": 0}
  })"),
            (Lines{
                "exp.json: /targets/fleet/process/cmdline: \"${pattern}\": a value for placeholder "
                "'pattern' (--var pattern=VALUE or the environment variable pattern)",
                "exp.json: /version: 2: 1",
                "exp.json: /tiltle: unknown key: one of version, title, description, tags, "
                "targets, steady_state, method, guards, rollbacks, settings, inventory",
                "exp.json: /tags: \"web\": an array of strings",
                "exp.json: /targets/fleet/select/percent: 150: a number greater than 0 and at "
                "most 100",
                "exp.json: /steady_state/0/port: 0: an integer from 1 to 65535",
                "exp.json: /method/0/type: \"proces_kill\": a fault type (process_kill, "
                "process_pause), \"wait\", \"probe\" or \"action\"",
                "exp.json: /method/1/target: \"flet\": the name of a target in /targets (fleet)",
                "exp.json: /method/1/duration: \"-5s\": a duration such as \"250ms\", \"30s\", "
                "\"2m\" (greater than 0)",
                "exp.json: /method/1/params/signal: \"SIGFOO\": a signal name (SIGTERM or TERM) "
                "or number 1-64",
                "exp.json: /method/2/duration: \"soon\": a duration such as \"250ms\", \"30s\", "
                "\"2m\" (0 or more)",
                "exp.json: /guards/0/promql: unknown key: one of name, source, condition, "
                "interval, for, min_samples, on_no_data, on_error",
                "exp.json: /guards/0/source: missing: a source object",
                std::string("exp.json: /guards/0/condition: missing: ") + kCondition,
                "exp.json: /settings/revert_attempts: 0: an integer from 1 to 10",
                "exp.json: /title: missing: a non-empty string",
            }));
}

// ---- Placeholders through the loader ---------------------------------------------------------

TEST_F(ExperimentTest, VarsWinOverTheEnvironment) {
  options_.vars = {{"proc", "from-var"}};
  env_ = {{"proc", "from-env"}, {"dur", "3s"}};
  auto e = Load(
      Doc({{"targets", {{"fleet", {{"process", {{"name", "${proc}"}}}}}}},
           {"method", {{{"type", "process_kill"}, {"target", "fleet"}, {"duration", "${dur}"}}}}}));
  ASSERT_TRUE(e.has_value()) << errors_.Format("exp.json")[0];
  EXPECT_EQ(e->targets[0].process.name, "from-var");
  EXPECT_EQ(e->method[0].fault.duration, std::chrono::seconds(3));
  EXPECT_EQ(e->document["targets"]["fleet"]["process"]["name"], "from-var");
}

TEST_F(ExperimentTest, WholePlaceholderNumbersAndLiteralDollars) {
  options_.vars = {{"port", "8080"}, {"empty", "true"}};
  auto e = Load(Doc({{"description", "costs $${price}"},
                     {"targets", {{"fleet", {{"allow_empty", "${empty}"}}}}},
                     {"steady_state", {{{"type", "tcp"}, {"port", "${port}"}}}}}));
  ASSERT_TRUE(e.has_value()) << errors_.Format("exp.json")[0];
  EXPECT_EQ(e->steady_state[0].port, 8080);
  EXPECT_TRUE(e->targets[0].allow_empty);
  EXPECT_EQ(e->description, "costs ${price}");
  EXPECT_EQ(e->document["steady_state"][0]["port"], 8080);
}

TEST_F(ExperimentTest, DefaultEnvironmentIsGetenv) {
  options_.env = nullptr;
  ASSERT_EQ(setenv("RINGFENCE_TEST_PROC", "sleep", 1), 0);
  auto e =
      Load(Doc({{"targets", {{"fleet", {{"process", {{"name", "${RINGFENCE_TEST_PROC}"}}}}}}}}));
  unsetenv("RINGFENCE_TEST_PROC");
  ASSERT_TRUE(e.has_value()) << errors_.Format("exp.json")[0];
  EXPECT_EQ(e->targets[0].process.name, "sleep");
}

TEST_F(ExperimentTest, UnfilledPlaceholderIsReportedOnce) {
  // Not also as "an integer from 1 to 65535" for the same value.
  EXPECT_EQ(Errors(Doc({{"steady_state", {{{"type", "tcp"}, {"port", "${port}"}}}}})),
            Lines{"exp.json: /steady_state/0/port: \"${port}\": a value for placeholder 'port' "
                  "(--var port=VALUE or the environment variable port)"});
}

TEST_F(ExperimentTest, MissingFile) {
  ValidationErrors errors;
  EXPECT_FALSE(LoadExperimentFile("/nonexistent/exp.json", options_, errors).has_value());
  EXPECT_EQ(errors.Format("exp.json"),
            Lines{"exp.json: /: cannot read the file (No such file or directory): a readable JSON "
                  "file"});
}

TEST_F(ExperimentTest, LoadsAFile) {
  const std::string path =
      ::testing::TempDir() + "ringfence_ok_" + std::to_string(getpid()) + ".json";
  {
    std::ofstream out(path);
    out << kValid;
  }
  ValidationErrors errors;
  auto e = LoadExperimentFile(path, options_, errors);
  std::filesystem::remove(path);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->title, "kill one sleeper");
}

}  // namespace
}  // namespace ringfence

namespace ringfence {
namespace {

TEST_F(ExperimentTest, HostFaultsTakeNoTarget) {
  FaultDecl fill{"disk_fill", "Fills a filesystem.", TargetKind::kHost, {}};
  registry_.Register(std::make_unique<FakeFactory>(fill));
  auto e = Load(Doc({{"method", {{{"type", "disk_fill"}, {"duration", "1s"}}}}}));
  ASSERT_TRUE(e.has_value()) << errors_.Format("exp.json")[0];
  EXPECT_EQ(e->method[0].fault.target, "");
  EXPECT_EQ(
      Errors(Doc({{"method", {{{"type", "disk_fill"}, {"target", "fleet"}, {"duration", "1s"}}}}})),
      Lines{"exp.json: /method/0/target: \"fleet\": a target with hosts and no process: "
            "disk_fill acts on the hosts themselves"});
}

TEST_F(ExperimentTest, TargetsOnInventoryHosts) {
  FaultDecl fill{"disk_fill", "Fills a filesystem.", TargetKind::kHost, {}};
  registry_.Register(std::make_unique<FakeFactory>(fill));
  auto e = Load(
      Doc({{"targets",
            {{"web", {{"hosts", {{"tags", {{"role", "web"}}}, {"select", {{"percent", 50}}}}}}}}},
           {"settings", {{"max_concurrency", 8}, {"on_unreachable", "skip"}}},
           {"inventory", "fleet.json"},
           {"method", {{{"type", "disk_fill"}, {"target", "web"}, {"duration", "1s"}}}}}));
  ASSERT_TRUE(e.has_value()) << errors_.Format("exp.json")[0];
  const TargetSpec* web = e->FindTarget("web");
  ASSERT_NE(web, nullptr);
  ASSERT_TRUE(web->hosts.has_value());
  EXPECT_FALSE(web->has_process);
  EXPECT_EQ(web->hosts->tags.at("role"), "web");
  EXPECT_EQ(web->hosts->select.mode, SelectionMode::kPercent);
  EXPECT_EQ(e->settings.max_concurrency, 8);
  EXPECT_TRUE(e->settings.skip_unreachable);
  EXPECT_EQ(e->inventory, "fleet.json");
  EXPECT_EQ(
      Errors(
          Doc({{"targets", {{"web", {{"hosts", {{"tags", {{"role", 1}}}, {"names", {"a"}}}}}}}},
               {"settings", {{"max_concurrency", 0}, {"on_unreachable", "ignore"}}},
               {"inventory", 5},
               {"method", {{{"type", "process_kill"}, {"target", "web"}, {"duration", "1s"}}}}})),
      (Lines{"exp.json: /targets/web/hosts/tags/role: 1: a string",
             "exp.json: /targets/web/hosts: {\"tags\":{\"role\":1},\"names\":[\"a\"]}: groups and "
             "tags, or names, not both",
             "exp.json: /settings/max_concurrency: 0: an integer from 1 to 1024",
             "exp.json: /settings/on_unreachable: \"ignore\": one of abort, skip",
             "exp.json: /inventory: 5: a path to an inventory file or an inventory object"}));
}

TEST_F(ExperimentTest, FaultDurationIsCappedByMaxFaultLifetime) {
  auto e = Load(
      Doc({{"settings", {{"max_fault_lifetime", "2h"}}},
           {"method", {{{"type", "process_kill"}, {"target", "fleet"}, {"duration", "90m"}}}}}));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->settings.max_fault_lifetime, std::chrono::hours(2));
  EXPECT_EQ(
      Errors(Doc(
          {{"method", {{{"type", "process_kill"}, {"target", "fleet"}, {"duration", "7200s"}}}}})),
      Lines{"exp.json: /method/0/duration: \"7200s\": at most settings.max_fault_lifetime (1h)"});
  EXPECT_EQ(
      Errors(Doc({{"settings", {{"max_fault_lifetime", "48h"}}}})),
      Lines{"exp.json: /settings/max_fault_lifetime: \"48h\": a duration greater than 0 and at "
            "most 24h"});
}

// Every timeout is capped by settings.max_fault_lifetime, so that no wait outlasts it (issue 11).
TEST_F(ExperimentTest, EveryTimeoutIsCappedByMaxFaultLifetime) {
  const ojson long_waits = {
      {"method",
       {{{"type", "process_kill"}, {"target", "fleet"}, {"duration", "10s"}},
        {{"type", "probe"},
         {"probe", {{"type", "command"}, {"argv", {"true"}}, {"timeout", "2h"}}}}}},
      {"steady_state", {{{"type", "tcp"}, {"port", 80}, {"timeout", "61m"}}}},
      {"rollbacks", {{{"argv", {"true"}}, {"timeout", "90m"}}}},
      {"settings", {{"probe_timeout", "100h"}}}};
  EXPECT_EQ(Errors(Doc(long_waits)), (Lines{"exp.json: /method/1/probe/timeout: \"2h\": at most "
                                            "settings.max_fault_lifetime (1h)",
                                            "exp.json: /steady_state/0/timeout: \"61m\": at most "
                                            "settings.max_fault_lifetime (1h)",
                                            "exp.json: /rollbacks/0/timeout: \"90m\": at most "
                                            "settings.max_fault_lifetime (1h)",
                                            "exp.json: /settings/probe_timeout: \"100h\": at most "
                                            "settings.max_fault_lifetime (1h)"}));
  // Raised: the same waits are valid.
  ojson raised = long_waits;
  raised["settings"] = {{"probe_timeout", "2h"}, {"max_fault_lifetime", "2h"}};
  auto e = Load(Doc(raised));
  ASSERT_TRUE(e.has_value()) << errors_.Format("exp.json")[0];
  EXPECT_EQ(e->method[1].probe.timeout, std::chrono::hours(2));
}

}  // namespace
}  // namespace ringfence

namespace ringfence {
namespace {

// Issue 11: {"version": 1e400} aborted the loader (nlohmann out_of_range.406).
TEST_F(ExperimentTest, NumbersBeyondADoubleAreErrorsAtTheirPointer) {
  const std::string allowed = ": a number from -1.7976931348623157e308 to 1.7976931348623157e308";
  EXPECT_EQ(Errors(R"({"version": 1e400})"), Lines{"exp.json: /version: 1e400" + allowed});
  EXPECT_EQ(Errors(R"({"tags": [1, -1e400]})"), Lines{"exp.json: /tags/1: -1e400" + allowed});
  EXPECT_EQ(Errors("{\"settings\": {\"seed\": 1" + std::string(400, '0') + "}}"),
            Lines{"exp.json: /settings/seed: 1" + std::string(38, '0') + "…" + allowed});
  EXPECT_EQ(Errors("1e999"), Lines{"exp.json: /: 1e999" + allowed});
  // Large but representable numbers are ordinary values, refused by their rules.
  EXPECT_EQ(Errors(Doc({{"settings", {{"revert_attempts", 1e300}}}})),
            Lines{"exp.json: /settings/revert_attempts: 1e+300: an integer from 1 to 10"});
  EXPECT_EQ(Errors(Doc({{"settings", {{"seed", -5}}}})),
            Lines{"exp.json: /settings/seed: -5: an unsigned integer"});
  EXPECT_EQ(
      Errors(
          Doc({{"targets",
                {{"fleet", {{"process", {{"name", nullptr}, {"pid", 18446744073709551615u}}}}}}}})),
      Lines{"exp.json: /targets/fleet/process/pid: 18446744073709551615: an integer from 2 "
            "to 4194304"});
  EXPECT_EQ(Errors(Doc({{"method", {{{"type", "wait"}, {"duration", "2562047788015h"}}}}})),
            Lines{"exp.json: /method/0/duration: \"2562047788015h\": a duration such as "
                  "\"250ms\", \"30s\", \"2m\" (0 or more)"});
}

// Issue 11: std::regex took 18 s, 30 s, or overflowed the stack on these; RE2 compiles them
// at validation, at once.
TEST_F(ExperimentTest, RegexBombsAreHarmlessAtValidation) {
  const auto start = std::chrono::steady_clock::now();
  auto with_cmdline = [](const std::string& pattern) {
    return Doc(
        {{"targets", {{"fleet", {{"process", {{"name", nullptr}, {"cmdline", pattern}}}}}}}});
  };
  EXPECT_TRUE(Load(with_cmdline("(a+)+$")).has_value());
  EXPECT_TRUE(Load(with_cmdline("(a|aa)+$")).has_value());
  EXPECT_TRUE(Load(with_cmdline("^x(.)*$")).has_value());
  EXPECT_EQ(
      Errors(with_cmdline(std::string(30000, '('))),
      Lines{"exp.json: /targets/fleet/process/cmdline: \"" + std::string(38, '(') +
            "…: a non-empty RE2 regular expression (missing ): " + std::string(39, '(') + "…)"});
  EXPECT_EQ(Errors(with_cmdline("(a)\\1")),
            Lines{"exp.json: /targets/fleet/process/cmdline: \"(a)\\\\1\": a non-empty RE2 "
                  "regular expression (invalid escape sequence: \\1)"});
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  auto e = Load(Doc(
      {{"steady_state", {{{"type", "command"}, {"argv", {"true"}}, {"stdout_regex", "(a+)+$"}}}}}));
  ASSERT_TRUE(e.has_value());
  ASSERT_TRUE(e->steady_state[0].stdout_regex.has_value());
  EXPECT_TRUE(e->steady_state[0].stdout_regex->Search(std::string(28, 'a')));
}

TEST_F(ExperimentTest, MaxTargetsSetting) {
  auto e = Load(Doc({{"settings", {{"max_targets", 500}}}}));
  ASSERT_TRUE(e.has_value()) << errors_.Format("exp.json")[0];
  EXPECT_EQ(e->settings.max_targets, 500);
  EXPECT_EQ(e->targets[0].max_targets, 500);
  e = Load(Doc());
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->targets[0].max_targets, 100);
  EXPECT_EQ(Errors(Doc({{"settings", {{"max_targets", 0}}}})),
            Lines{"exp.json: /settings/max_targets: 0: an integer from 1 to 1000000"});
}

// Issue 11: the file is checked before it is read.
TEST_F(ExperimentTest, OnlyRegularFilesAreRead) {
  ValidationErrors errors;
  EXPECT_FALSE(LoadExperimentFile("/dev/zero", options_, errors).has_value());
  EXPECT_EQ(errors.Format("exp.json"),
            Lines{"exp.json: /: a character device: a regular JSON file"});
  errors = ValidationErrors();
  EXPECT_FALSE(LoadExperimentFile("/tmp", options_, errors).has_value());
  EXPECT_EQ(errors.Format("exp.json"), Lines{"exp.json: /: a directory: a regular JSON file"});
}

}  // namespace
}  // namespace ringfence
