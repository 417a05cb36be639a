// Host replies are read through checked accessors: a host that answers with the wrong types is
// an error naming the host, never an exception (issue 11: `"ok":"yes"` aborted a fleet
// --dry-run with exit 134).
#include <random>

#include <gtest/gtest.h>

#include "core/base/json_fields.h"
#include "core/fleet/host_protocol.h"
#include "core/fleet/ssh_executor.h"
#include "tests/support/fake_env.h"

namespace ringfence {
namespace {

using nlohmann::json;

TEST(HostRepliesTest, StatusOfMalformedReplies) {
  EXPECT_TRUE(StatusOfReply(json{{"ok", true}}).ok());
  EXPECT_EQ(StatusOfReply(json{{"ok", "yes"}}).message(),
            "the host's reply is malformed: \"ok\" is \"yes\", not true or false");
  EXPECT_EQ(StatusOfReply(json{{"ok", false}, {"code", 5}}).message(),
            "the host's reply is malformed: \"code\" is 5, not a string");
  EXPECT_EQ(StatusOfReply(json{{"ok", false}, {"error", json::array()}}).message(),
            "the host's reply is malformed: \"error\" is [], not a string");
  const Status failed = StatusOfReply(json{{"ok", false}, {"code", "not_found"}, {"error", "x"}});
  EXPECT_EQ(failed.code(), StatusCode::kNotFound);
  EXPECT_EQ(failed.message(), "x");
  EXPECT_EQ(StatusOfReply(json::array()).message(), "the host sent no reply object");
}

TEST(HostRepliesTest, ProcessesAndTargetsAreChecked) {
  auto p = ProcessInfoFromJson(json{{"pid", 42}, {"name", "sleep"}, {"state", "S"}});
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->pid, 42);
  EXPECT_EQ(p->state, 'S');
  EXPECT_EQ(ProcessInfoFromJson(json{{"pid", "42"}}).status().message(),
            "process: \"pid\" is \"42\", not an integer from 0 to 2147483647");
  EXPECT_EQ(ProcessInfoFromJson(json{{"pid", 1e300}}).status().message(),
            "process: \"pid\" is 1e+300, not an integer from 0 to 2147483647");
  EXPECT_EQ(ProcessInfoFromJson(json{{"uid", -1}}).status().message(),
            "process: \"uid\" is -1, not an integer from 0 to 4294967295");
  EXPECT_EQ(ProcessInfoFromJson(json{{"start_ticks", "x"}}).status().message(),
            "process: \"start_ticks\" is \"x\", not an integer of at least 0");
  EXPECT_EQ(ProcessInfoFromJson(json("x")).status().message(),
            "process: not a JSON object but \"x\"");
  EXPECT_EQ(TargetFromWire(json{{"host", 1}}).status().message(),
            "target: \"host\" is 1, not a string");
  EXPECT_EQ(TargetFromWire(json{{"process", {{"name", 1}}}}).status().message(),
            "target: process: \"name\" is 1, not a string");
  EXPECT_EQ(UndoRecordFromWire(json{{"deadline_ms", "soon"}}).status().message(),
            "undo record: \"deadline_ms\" is \"soon\", not an integer from "
            "-9223372036854775808 to 9223372036854775807");
  EXPECT_EQ(UndoRecordFromWire(json{{"data", 1}}).status().message(),
            "undo record: \"data\" is 1, not an object");
  auto undo = UndoRecordFromWire(json{{"fault_type", "process_pause"}, {"data", {{"a", 1}}}});
  ASSERT_TRUE(undo.ok());
  EXPECT_EQ(undo->fault_type, "process_pause");
}

// A transport whose host answers every action with `reply` (one command per action).
class ScriptedTransport : public SshTransport {
 public:
  explicit ScriptedTransport(json version_reply, json match_reply)
      : version_(std::move(version_reply)), match_(std::move(match_reply)) {}
  Result<SshCommandResult> Run(const std::vector<std::string>& argv, const std::string&,
                               std::chrono::milliseconds) override {
    SshCommandResult r;
    r.exit_code = 0;
    const std::string& remote = argv.back();
    if (remote.find(" version") != std::string::npos) r.out = version_.dump() + "\n";
    if (remote.find(" match") != std::string::npos) r.out = match_.dump() + "\n";
    return r;
  }

 private:
  json version_, match_;
};

Inventory OneHost() {
  Inventory inventory;
  inventory.source = "inv.json";
  inventory.ssh.multiplex = false;
  InventoryHost h;
  h.name = "h1";
  h.address = "192.0.2.1";
  inventory.hosts.push_back(h);
  return inventory;
}

Result<std::vector<Target>> ResolveThrough(json version_reply, json match_reply) {
  FleetOptions options;
  options.host_sessions = false;
  testing::FakeEnv system;
  SshFleet fleet(
      system, OneHost(), options,
      std::make_unique<ScriptedTransport>(std::move(version_reply), std::move(match_reply)));
  TargetSpec spec;
  spec.name = "web";
  spec.pointer = "/targets/web";
  spec.process.name = "sleep";
  spec.hosts.emplace();
  spec.hosts->names = {"h1"};
  std::mt19937_64 rng(1);
  return fleet.ResolveTargets(spec, rng);
}

TEST(HostRepliesTest, AFleetResolvesThroughMalformedRepliesWithoutThrowing) {
  const json version = {{"ok", true}, {"version", RINGFENCE_VERSION}, {"protocol", 1}};
  auto ok =
      ResolveThrough(version, {{"ok", true}, {"processes", {{{"pid", 7}, {"name", "sleep"}}}}});
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->size(), 1u);

  auto yes = ResolveThrough(version, {{"ok", "yes"}, {"processes", json::array()}});
  ASSERT_FALSE(yes.ok());
  EXPECT_NE(yes.status().message().find(
                "host h1: the host's reply is malformed: \"ok\" is \"yes\", not true or false"),
            std::string::npos)
      << yes.status().message();

  auto processes = ResolveThrough(version, {{"ok", true}, {"processes", "many"}});
  ASSERT_FALSE(processes.ok());
  EXPECT_NE(processes.status().message().find(
                "host h1: malformed match reply: \"processes\" is \"many\", not an array"),
            std::string::npos)
      << processes.status().message();

  auto pid = ResolveThrough(version, {{"ok", true}, {"processes", {{{"pid", "7"}}}}});
  ASSERT_FALSE(pid.ok());
  EXPECT_NE(pid.status().message().find("host h1: malformed match reply: process: \"pid\" is "
                                        "\"7\", not an integer from 0 to 2147483647"),
            std::string::npos)
      << pid.status().message();

  auto bad_version = ResolveThrough({{"ok", true}, {"version", 1}}, {{"ok", true}});
  ASSERT_FALSE(bad_version.ok());
  EXPECT_NE(bad_version.status().message().find("malformed version reply: \"version\" is 1, not "
                                                "a string"),
            std::string::npos)
      << bad_version.status().message();
}

}  // namespace
}  // namespace ringfence
