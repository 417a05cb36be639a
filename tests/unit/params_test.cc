#include "core/model/params.h"

#include <csignal>
#include <stdexcept>

#include <gtest/gtest.h>
#include "core/base/signals.h"

namespace ringfence {
namespace {

using nlohmann::json;

FaultDecl TestDecl() {
  FaultDecl decl;
  decl.name = "test_fault";
  decl.summary = "A fault for tests.";
  ParamDecl signal{"signal", ParamType::kSignal, false, "SIGTERM", {}, {}, {}, "signal to send"};
  ParamDecl count{"count", ParamType::kInteger, false, 1, 1, 100, {}, "how many"};
  ParamDecl ratio{"ratio", ParamType::kNumber, false, {}, 0, 1, {}, ""};
  ParamDecl hold{"hold", ParamType::kDuration, true, {}, 100, 3'600'000, {}, "how long"};
  ParamDecl mode{"mode", ParamType::kEnum, false, "soft", {}, {}, {"soft", "hard"}, ""};
  ParamDecl label{"label", ParamType::kString, false, {}, {}, {}, {}, ""};
  ParamDecl dry{"dry", ParamType::kBoolean, false, false, {}, {}, {}, ""};
  ParamDecl paths{"paths", ParamType::kStringList, false, {}, {}, {}, {}, ""};
  decl.params = {signal, count, ratio, hold, mode, label, dry, paths};
  return decl;
}

std::vector<std::string> Check(const json& params) {
  ValidationErrors errors;
  ValidateParams(TestDecl(), params, "/method/0/params", errors);
  return errors.Format("exp.json");
}

using Lines = std::vector<std::string>;

TEST(ParamsTest, AcceptsValidParams) {
  EXPECT_EQ(Check({{"hold", "1s"}}), Lines{});
  EXPECT_EQ(Check({{"hold", "1h"},
                   {"signal", 9},
                   {"count", 100},
                   {"ratio", 0.5},
                   {"mode", "hard"},
                   {"label", "x"},
                   {"dry", true},
                   {"paths", {"/a", "/b"}}}),
            Lines{});
  EXPECT_EQ(Check({{"hold", "100ms"}, {"count", 5.0}, {"signal", "KILL"}}), Lines{});
}

TEST(ParamsTest, ParamsMustBeAnObject) {
  EXPECT_EQ(Check(json::array()), Lines{"exp.json: /method/0/params: []: an object"});
}

TEST(ParamsTest, ReportsRequiredAndUnknown) {
  EXPECT_EQ(Check(json::object({{"sginal", "TERM"}})),
            (Lines{"exp.json: /method/0/params/sginal: unknown key: one of signal, count, ratio, "
                   "hold, mode, label, dry, paths",
                   "exp.json: /method/0/params/hold: missing: a duration such as \"250ms\", "
                   "\"30s\", \"2m\" (from 100ms to 1h)"}));
}

TEST(ParamsTest, UnknownKeyWhenNoParamsAreDeclared) {
  FaultDecl decl{"bare", "No parameters.", TargetKind::kProcess, {}};
  ValidationErrors errors;
  ValidateParams(decl, {{"x", 1}}, "/p", errors);
  EXPECT_EQ(errors.Format("f"), Lines{"f: /p/x: unknown key: bare takes no parameters"});
}

TEST(ParamsTest, ChecksEachTypeAndLimit) {
  EXPECT_EQ(Check({{"hold", "5s"}, {"signal", "SIGFOO"}}),
            Lines{"exp.json: /method/0/params/signal: \"SIGFOO\": a signal name (SIGTERM or TERM) "
                  "or number 1-64"});
  EXPECT_EQ(Check({{"hold", "5s"}, {"count", 0}}),
            Lines{"exp.json: /method/0/params/count: 0: an integer from 1 to 100"});
  EXPECT_EQ(Check({{"hold", "5s"}, {"count", 101}}),
            Lines{"exp.json: /method/0/params/count: 101: an integer from 1 to 100"});
  EXPECT_EQ(Check({{"hold", "5s"}, {"count", 1.5}}),
            Lines{"exp.json: /method/0/params/count: 1.5: an integer from 1 to 100"});
  EXPECT_EQ(Check({{"hold", "5s"}, {"count", "3"}}),
            Lines{"exp.json: /method/0/params/count: \"3\": an integer from 1 to 100"});
  EXPECT_EQ(Check({{"hold", "5s"}, {"ratio", 1.5}}),
            Lines{"exp.json: /method/0/params/ratio: 1.5: a number from 0 to 1"});
  EXPECT_EQ(Check({{"hold", "50ms"}}),
            Lines{"exp.json: /method/0/params/hold: \"50ms\": a duration such as \"250ms\", "
                  "\"30s\", \"2m\" (from 100ms to 1h)"});
  EXPECT_EQ(Check({{"hold", "-5s"}}),
            Lines{"exp.json: /method/0/params/hold: \"-5s\": a duration such as \"250ms\", "
                  "\"30s\", \"2m\" (from 100ms to 1h)"});
  EXPECT_EQ(Check({{"hold", 5}}),
            Lines{"exp.json: /method/0/params/hold: 5: a duration such as \"250ms\", \"30s\", "
                  "\"2m\" (from 100ms to 1h)"});
  EXPECT_EQ(Check({{"hold", "5s"}, {"mode", "medium"}}),
            Lines{"exp.json: /method/0/params/mode: \"medium\": one of soft, hard"});
  EXPECT_EQ(Check({{"hold", "5s"}, {"label", 7}}),
            Lines{"exp.json: /method/0/params/label: 7: a string"});
  EXPECT_EQ(Check({{"hold", "5s"}, {"dry", "yes"}}),
            Lines{"exp.json: /method/0/params/dry: \"yes\": true or false"});
  EXPECT_EQ(Check({{"hold", "5s"}, {"paths", "/a"}}),
            Lines{"exp.json: /method/0/params/paths: \"/a\": an array of strings"});
  EXPECT_EQ(Check({{"hold", "5s"}, {"paths", {"/a", 3}}}),
            Lines{"exp.json: /method/0/params/paths/1: 3: a string"});
}

TEST(ParamsTest, AllowedTextsForOpenLimits) {
  ParamDecl at_least{"n", ParamType::kInteger, false, {}, 1, {}, {}, ""};
  EXPECT_EQ(ParamAllowed(at_least), "an integer of at least 1");
  ParamDecl at_most{"n", ParamType::kNumber, false, {}, {}, 2.5, {}, ""};
  EXPECT_EQ(ParamAllowed(at_most), "a number of at most 2.5");
  ParamDecl d{"d", ParamType::kDuration, false, {}, 1000, {}, {}, ""};
  EXPECT_EQ(ParamAllowed(d), "a duration such as \"250ms\", \"30s\", \"2m\" (at least 1s)");
  ParamDecl plain{"d", ParamType::kDuration, false, {}, {}, {}, {}, ""};
  EXPECT_EQ(ParamAllowed(plain), "a duration such as \"250ms\", \"30s\", \"2m\"");
}

TEST(ParamsTest, ReportsEveryProblemAtOnce) {
  EXPECT_EQ(Check({{"count", -1}, {"extra", 1}, {"signal", 99}}),
            (Lines{"exp.json: /method/0/params/count: -1: an integer from 1 to 100",
                   "exp.json: /method/0/params/extra: unknown key: one of signal, count, ratio, "
                   "hold, mode, label, dry, paths",
                   "exp.json: /method/0/params/signal: 99: a signal name (SIGTERM or TERM) or "
                   "number 1-64",
                   "exp.json: /method/0/params/hold: missing: a duration such as \"250ms\", "
                   "\"30s\", \"2m\" (from 100ms to 1h)"}));
}

TEST(ParamsTest, WithDefaultsFillsOnlyAbsentKeys) {
  json filled = WithDefaults(TestDecl(), {{"hold", "1s"}, {"signal", "KILL"}});
  EXPECT_EQ(
      filled,
      (json{{"hold", "1s"}, {"signal", "KILL"}, {"count", 1}, {"mode", "soft"}, {"dry", false}}));
  EXPECT_EQ(WithDefaults(TestDecl(), json::object())["signal"], "SIGTERM");
}

TEST(ParamReaderTest, ReadsGivenValuesElseTheDeclaredDefaults) {
  const FaultDecl decl = TestDecl();
  const json params = {{"hold", "2s"}, {"count", 7}, {"paths", {"/a", "/b"}}};
  const ParamReader read(decl, params);
  EXPECT_EQ(read.Get<int>("count"), 7);
  EXPECT_EQ(read.Get<std::string>("mode"), "soft");
  EXPECT_FALSE(read.Get<bool>("dry"));
  EXPECT_EQ(read.Signal("signal"), SIGTERM);
  EXPECT_EQ(read.OptionalDuration("hold"), Duration(2000));
  EXPECT_EQ(read.Optional<std::vector<std::string>>("paths"),
            (std::vector<std::string>{"/a", "/b"}));
  EXPECT_FALSE(read.Optional<double>("ratio"));
  EXPECT_FALSE(read.Optional<std::string>("label"));
  EXPECT_TRUE(read.Given("count"));
  EXPECT_FALSE(read.Given("mode"));
}

TEST(ParamReaderTest, AnUndeclaredNameOrAMissingValueIsAProgrammingError) {
  const FaultDecl decl = TestDecl();
  const json params = json::object();
  const ParamReader read(decl, params);
  EXPECT_THROW(read.Get<int>("nope"), std::logic_error);
  EXPECT_THROW(read.Get<double>("ratio"), std::logic_error);
}

TEST(ParamsTest, DeclToJsonOmitsAbsentMembers) {
  json j = DeclToJson(TestDecl());
  EXPECT_EQ(j["name"], "test_fault");
  EXPECT_EQ(j["summary"], "A fault for tests.");
  EXPECT_EQ(j["target_kind"], "process");
  ASSERT_EQ(j["params"].size(), 8u);
  EXPECT_EQ(j["params"][0], (json{{"name", "signal"},
                                  {"type", "signal"},
                                  {"required", false},
                                  {"default", "SIGTERM"},
                                  {"doc", "signal to send"}}));
  EXPECT_EQ(j["params"][1], (json{{"name", "count"},
                                  {"type", "integer"},
                                  {"required", false},
                                  {"default", 1},
                                  {"min", 1},
                                  {"max", 100},
                                  {"doc", "how many"}}));
  EXPECT_EQ(j["params"][3], (json{{"name", "hold"},
                                  {"type", "duration"},
                                  {"required", true},
                                  {"min", "100ms"},
                                  {"max", "1h"},
                                  {"doc", "how long"}}));
  EXPECT_EQ(j["params"][4], (json{{"name", "mode"},
                                  {"type", "enum"},
                                  {"required", false},
                                  {"default", "soft"},
                                  {"choices", {"soft", "hard"}}}));
  EXPECT_EQ(j["params"][7]["type"], "string_list");
}

TEST(ParamsTest, ParamTypeNames) {
  EXPECT_STREQ(ParamTypeName(ParamType::kString), "string");
  EXPECT_STREQ(ParamTypeName(ParamType::kInteger), "integer");
  EXPECT_STREQ(ParamTypeName(ParamType::kNumber), "number");
  EXPECT_STREQ(ParamTypeName(ParamType::kBoolean), "boolean");
  EXPECT_STREQ(ParamTypeName(ParamType::kDuration), "duration");
  EXPECT_STREQ(ParamTypeName(ParamType::kSignal), "signal");
  EXPECT_STREQ(ParamTypeName(ParamType::kStringList), "string_list");
  EXPECT_STREQ(ParamTypeName(ParamType::kEnum), "enum");
}

TEST(SignalTest, ParsesNamesAndNumbers) {
  EXPECT_EQ(ParseSignal("SIGTERM"), SIGTERM);
  EXPECT_EQ(ParseSignal("TERM"), SIGTERM);
  EXPECT_EQ(ParseSignal("SIGKILL"), SIGKILL);
  EXPECT_EQ(ParseSignal("STOP"), SIGSTOP);
  EXPECT_EQ(ParseSignal("SIGCONT"), SIGCONT);
  EXPECT_EQ(ParseSignal("SIGIOT"), SIGABRT);
  EXPECT_EQ(ParseSignal(15), 15);
  EXPECT_EQ(ParseSignal("15"), 15);
  EXPECT_EQ(ParseSignal(1), 1);
  EXPECT_EQ(ParseSignal(64), 64);
  EXPECT_EQ(ParseSignal("64"), 64);
}

TEST(SignalTest, RefusesUnknown) {
  for (const json& v :
       {json("sigterm"), json("Term"), json("SIGFOO"), json("SIG"), json(""), json(0), json(65),
        json(-15), json("0"), json("65"), json("-1"), json("015x"), json(15.0), json(nullptr),
        json(true), json("SIGSIGTERM"), json(" TERM")}) {
    EXPECT_EQ(ParseSignal(v), 0) << v.dump();
  }
}

TEST(SignalTest, Names) {
  EXPECT_EQ(SignalName(SIGTERM), "SIGTERM");
  EXPECT_EQ(SignalName(SIGKILL), "SIGKILL");
  EXPECT_EQ(SignalName(SIGABRT), "SIGABRT");
  EXPECT_EQ(SignalName(SIGCHLD), "SIGCHLD");
  EXPECT_EQ(SignalName(40), "SIG40");
}

TEST(FoundValueTest, CompactJsonCutToFortyCharacters) {
  EXPECT_EQ(FoundValue(json("SIGFOO")), "\"SIGFOO\"");
  EXPECT_EQ(FoundValue(json(-5)), "-5");
  EXPECT_EQ(FoundValue(json{{"count", 7}}), "{\"count\":7}");
  EXPECT_EQ(FoundValue(json(std::string(100, 'a'))), "\"" + std::string(38, 'a') + "…");
  EXPECT_EQ(FoundValue(json(std::string(38, 'a'))), "\"" + std::string(38, 'a') + "\"");
  // Multi-byte characters count as one and are never split.
  std::string wide;
  for (int i = 0; i < 50; ++i) wide += "é";
  EXPECT_EQ(FoundValue(json(wide)), "\"" + wide.substr(0, 38 * 2) + "…");
  EXPECT_EQ(FoundValue(json(std::string("\xff"))), "\"\xEF\xBF\xBD\"");
}

}  // namespace
}  // namespace ringfence
