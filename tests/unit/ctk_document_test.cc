#include "core/import/ctk_document.h"

#include <gtest/gtest.h>

namespace ringfence {
namespace {

using ojson = nlohmann::ordered_json;
using Lines = std::vector<std::string>;

CtkOptions NoEnv() {
  CtkOptions o;
  o.env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  return o;
}

ojson Convert(const std::string& text, CtkOptions options = NoEnv()) {
  ValidationErrors errors;
  auto out = ConvertChaosToolkit(ojson::parse(text), options, errors);
  EXPECT_TRUE(out) << (errors.empty() ? "" : errors.Format("exp.json").front());
  return out ? out->native : ojson();
}

Lines Errors(const std::string& text, CtkOptions options = NoEnv()) {
  ValidationErrors errors;
  EXPECT_FALSE(ConvertChaosToolkit(ojson::parse(text), options, errors));
  return errors.Format("exp.json");
}

std::string Hypothesis(const std::string& tolerance, const std::string& provider) {
  return R"({"title": "t", "steady-state-hypothesis": {"title": "h", "probes": [{"type": "probe",
      "name": "p", "tolerance": )" +
         tolerance + R"(, "provider": )" + provider +
         R"(}]}, "method": [{"type": "action", "name": "n", "provider": {"type": "process", "path": "true"}}]})";
}

const char kProcess[] = R"({"type": "process", "path": "check", "arguments": "-a 'b c'"})";
const char kHttp[] = R"({"type": "http", "url": "http://127.0.0.1:1/x"})";

TEST(CtkDocumentTest, RecognisesChaosToolkitByItsKeys) {
  EXPECT_TRUE(LooksLikeChaosToolkit(ojson::parse(R"({"steady-state-hypothesis": {}})")));
  EXPECT_TRUE(LooksLikeChaosToolkit(ojson::parse(R"({"method": [{"provider": {}}]})")));
  EXPECT_TRUE(LooksLikeChaosToolkit(ojson::parse(R"({"rollbacks": [{"ref": "a"}]})")));
  EXPECT_FALSE(LooksLikeChaosToolkit(
      ojson::parse(R"({"version": 1, "method": [{"type": "wait", "duration": "1s"}]})")));
}

TEST(CtkDocumentTest, TolerancesBecomeNativeProbeKeys) {
  auto probe = [](const std::string& tolerance, const char* provider) {
    return Convert(Hypothesis(tolerance, provider))["steady_state"][0];
  };
  EXPECT_EQ(probe("0", kProcess),
            ojson::parse(R"({"name": "p", "type": "command", "argv": ["check", "-a", "b c"],
                             "exit_code": 0})"));
  EXPECT_EQ(probe("200", kHttp)["status"], 200);
  EXPECT_EQ(probe("true", kProcess)["exit_code"], 0);
  EXPECT_EQ(probe("false", kProcess)["exit_code"], ojson::parse(R"({"min": 1})"));
  EXPECT_EQ(probe("true", kHttp)["status"], ojson::parse("[100, 399]"));
  EXPECT_EQ(probe("[200, 299]", kHttp)["status"], ojson::parse("[200, 299]"));
  EXPECT_EQ(probe("[200, 204, 304]", kHttp)["status"],
            ojson::parse(R"({"one_of": [200, 204, 304]})"));
  EXPECT_EQ(probe(R"("ok")", kProcess)["stdout_regex"], "^\\Qok\\E\\n?$");
  EXPECT_EQ(probe(R"({"type": "regex", "pattern": "^up"})", kHttp)["body_regex"], "^up");
  EXPECT_EQ(probe(R"({"type": "regex", "pattern": "^2", "target": "status"})", kHttp)["status"],
            ojson::parse(R"({"regex": "^2"})"));
  EXPECT_EQ(
      probe(R"({"type": "jsonpath", "path": "$.a", "expect": [1]})", kProcess)["stdout_jsonpath"],
      ojson::parse(R"({"path": "$.a", "expect": [1]})"));
  EXPECT_EQ(probe(R"({"type": "range", "range": [1, 3], "target": "status"})", kHttp)["status"],
            ojson::parse("[1, 3]"));
  const ojson doc = Convert(Hypothesis(
      R"({"type": "probe", "name": "v", "provider": {"type": "process", "path": "true"}})",
      kProcess));
  ASSERT_EQ(doc["steady_state"].size(), 2u);
  EXPECT_EQ(doc["steady_state"][1]["name"], "v");
}

TEST(CtkDocumentTest, HttpProvidersKeepMethodHeadersArgumentsAndTls) {
  const ojson doc = Convert(R"({"title": "t", "method": [
      {"type": "action", "name": "get", "provider": {"type": "http", "url": "http://h/p",
       "arguments": {"a b": "c&d"}, "timeout": [1, 2]}},
      {"type": "action", "name": "post", "provider": {"type": "http", "url": "http://h/p",
       "method": "POST", "headers": {"Content-Type": "application/json"},
       "arguments": {"k": 1}, "expected_status": 201, "verify_tls": false}}]})");
  EXPECT_EQ(doc["method"][0]["action"],
            ojson::parse(R"({"name": "get", "type": "http", "method": "GET",
                             "url": "http://h/p?a%20b=c%26d", "status": [100, 599],
                             "timeout": "3s"})"));
  EXPECT_EQ(doc["method"][1]["action"],
            ojson::parse(R"({"name": "post", "type": "http", "method": "POST",
                             "headers": {"Content-Type": "application/json"},
                             "body": "{\"k\":1}", "content_type": "application/json",
                             "url": "http://h/p", "verify_tls": false, "status": 201})"));
}

TEST(CtkDocumentTest, ConfigurationSecretsAndSubstitution) {
  CtkOptions options = NoEnv();
  options.env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "HOST") return "example";
    if (name == "TOKEN") return "s3cret";
    return std::nullopt;
  };
  options.vars = {{"port", "9090"}};
  const std::string doc = R"({"title": "${host}:${port}", "configuration": {
      "host": {"type": "env", "key": "HOST"}, "port": 80, "count": {"type": "env",
      "key": "COUNT", "default": 3}},
      "secrets": {"s": {"token": {"type": "env", "key": "TOKEN"}}},
      "method": [{"type": "action", "name": "a", "provider": {"type": "process",
      "path": "echo", "arguments": ["${count}", "${token}", "$${x}"]}}]})";
  ValidationErrors errors;
  auto out = ConvertChaosToolkit(ojson::parse(doc), options, errors);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->native["title"], "example:9090");
  EXPECT_EQ(out->native["method"][0]["action"]["argv"],
            ojson::parse(R"(["echo", "3", "s3cret", "$${x}"])"));
  EXPECT_EQ(out->secrets, (std::vector<std::pair<std::string, std::string>>{{"token", "s3cret"}}));
  // convert: never a secret's value, a placeholder for it.
  options.for_convert = true;
  auto converted = ConvertChaosToolkit(ojson::parse(doc), options, errors);
  ASSERT_TRUE(converted);
  EXPECT_EQ(converted->native["method"][0]["action"]["argv"][2], "${TOKEN}");
  EXPECT_TRUE(converted->secrets.empty());
}

TEST(CtkDocumentTest, StrategiesBecomeSettingsAndGuards) {
  CtkOptions options = NoEnv();
  options.hypothesis_strategy = "during-method";
  options.hypothesis_frequency = std::chrono::milliseconds(250);
  options.rollback_strategy = "deviated";
  const ojson doc = Convert(Hypothesis("0", kProcess), options);
  EXPECT_EQ(doc["settings"], ojson::parse(R"({"rollback_strategy": "deviated",
      "steady_state_before": false, "steady_state_after": false})"));
  EXPECT_EQ(doc["guards"][0]["name"], "hypothesis-p");
  EXPECT_EQ(doc["guards"][0]["source"]["type"], "probe");
  EXPECT_EQ(doc["guards"][0]["condition"], ojson::parse(R"({"min": 1})"));
  EXPECT_EQ(doc["guards"][0]["interval"], "250ms");
}

TEST(CtkDocumentTest, PausesBackgroundAndRefs) {
  const ojson doc = Convert(R"({"title": "t", "method": [
      {"type": "action", "name": "a", "provider": {"type": "process", "path": "x"},
       "pauses": {"before": 0.5, "after": 2}, "background": true},
      {"ref": "a"}],
      "rollbacks": [{"ref": "a"}]})");
  EXPECT_EQ(doc["method"][0], ojson::parse(R"({"type": "wait", "duration": "500ms"})"));
  EXPECT_EQ(doc["method"][1]["background"], true);
  EXPECT_EQ(doc["method"][2], ojson::parse(R"({"type": "wait", "duration": "2s"})"));
  EXPECT_EQ(doc["method"].size(), 6u);  // the ref repeats the pauses too
  EXPECT_EQ(doc["rollbacks"][0]["argv"], ojson::parse(R"(["x"])"));
}

TEST(CtkDocumentTest, ConvertMapsKillCommandsToNativeFaultsOnlyWhenExact) {
  CtkOptions options = NoEnv();
  options.for_convert = true;
  auto method = [&](const std::string& path, const std::string& args) {
    return Convert(R"({"title": "t", "method": [{"type": "action", "name": "k", "provider":
        {"type": "process", "path": ")" +
                       path + R"(", "arguments": )" + args + "}}]}",
                   options);
  };
  ojson doc = method("kill", R"("-9 4242")");
  EXPECT_EQ(doc["method"][0]["type"], "process_kill");
  EXPECT_EQ(doc["method"][0]["params"]["signal"], "SIGKILL");
  EXPECT_EQ(doc["targets"]["ctk-k"]["process"]["pid"], 4242);
  doc = method("pkill", R"(["-f", "^worker "])");
  EXPECT_EQ(doc["method"][0]["params"]["signal"], "SIGTERM");
  EXPECT_EQ(doc["targets"]["ctk-k"]["process"]["cmdline"], "^worker ");
  doc = method("/usr/bin/killall", R"("-HUP nginx")");
  EXPECT_EQ(doc["targets"]["ctk-k"]["process"]["name"], "nginx");
  EXPECT_EQ(method("pkill", R"("worker")")["method"][0]["type"], "action");   // substring
  EXPECT_EQ(method("kill", R"("-STOP 42")")["method"][0]["type"], "action");  // no pause
  EXPECT_EQ(method("stress-ng", R"("--cpu 2")")["method"][0]["type"], "action");
}

TEST(CtkDocumentTest, PythonProvidersAndControlsAreRefused) {
  EXPECT_EQ(Errors(R"({"title": "t", "method": [{"type": "action", "name": "idle", "provider":
      {"type": "python", "module": "chaosaddons.utils.idle", "func": "idle_for"}}],
      "controls": [{"name": "c"}]})"),
            (Lines{"exp.json: /controls: [{\"name\":\"c\"}]: no controls: they are Python "
                   "modules, which ringfence does not run",
                   "exp.json: /method/0/provider: python provider chaosaddons.utils.idle.idle_for "
                   "(module chaosaddons.utils.idle, function idle_for): a process or http "
                   "provider: ringfence runs no Python and no Chaos Toolkit extension; instead: "
                   "a pause (pauses.after) or a native wait step"}));
  EXPECT_EQ(Errors(R"({"title": "t", "method": [{"type": "action", "name": "x", "provider":
      {"type": "python", "module": "mycompany.chaos", "func": "break_it"}}]})"),
            Lines{"exp.json: /method/0/provider: python provider mycompany.chaos.break_it (module "
                  "mycompany.chaos, function break_it): a process or http provider: ringfence "
                  "runs no Python and no Chaos Toolkit extension"});
}

TEST(CtkDocumentTest, BadInputNamesWhere) {
  EXPECT_EQ(Errors(R"({"title": "t", "configuration": {"x": {"type": "env", "key": "NOPE"}},
      "method": [{"type": "action", "name": "n", "provider": {"type": "process", "path": "true"}}]})"),
            Lines{"exp.json: /configuration/x: environment variable NOPE is not set: a set "
                  "variable, a \"default\", or --var x=VALUE"});
  EXPECT_EQ(
      Errors(
          R"({"title": "t", "secrets": {"s": {"k": ["hidden"]}}, "method": [{"type": "action", "name": "n", "provider": {"type": "process", "path": "true"}}]})"),
      Lines{"exp.json: /secrets/s/k: a value: a string or {\"type\": \"env\", \"key\": "
            "NAME, \"default\": VALUE}"});
  EXPECT_EQ(
      Errors(Hypothesis(R"({"type": "regex", "pattern": "x", "target": "stderr"})", kProcess)),
      Lines{"exp.json: /steady-state-hypothesis/probes/0/tolerance/target: \"stderr\": "
            "stdout or status (stderr is not captured)"});
  EXPECT_EQ(Errors(R"({"title": "t", "method": [{"type": "action", "name": "a", "provider":
      {"type": "process", "path": "x", "arguments": "'open"}}]})"),
            Lines{"exp.json: /method/0/provider/arguments: \"'open\": a command line without an "
                  "unterminated quote"});
  CtkOptions options = NoEnv();
  options.rollback_strategy = "sometimes";
  EXPECT_EQ(
      Errors(
          R"({"title": "t", "method": [{"type": "action", "name": "n", "provider": {"type": "process", "path": "true"}}]})",
          options),
      Lines{"exp.json: /runtime/rollbacks/strategy: \"sometimes\": one of default, always, "
            "never, deviated"});
}

TEST(CtkDocumentTest, SplitsLikeShlex) {
  EXPECT_EQ(*SplitShellWords("a 'b c' \"d \\\"e\\\"\" f\\ g  "),
            (std::vector<std::string>{"a", "b c", "d \"e\"", "f g"}));
  EXPECT_EQ(*SplitShellWords(""), std::vector<std::string>{});
  EXPECT_EQ(*SplitShellWords("x''y"), std::vector<std::string>{"xy"});
  EXPECT_FALSE(SplitShellWords("\"open"));
  EXPECT_FALSE(SplitShellWords("end\\"));
}

}  // namespace
}  // namespace ringfence
