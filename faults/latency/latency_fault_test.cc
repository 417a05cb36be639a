// The latency fault's netem backend on a fake Env: the tc commands it runs, its undo record and
// its revert, with no real side effect.
#include <gtest/gtest.h>

#include "core/fault/fault.h"
#include "faults/latency/latency_config.h"
#include "faults/latency/latency_netem.h"
#include "tests/support/fake_env.h"

namespace ringfence {
namespace {

// A `tc` that knows whether ringfence's netem qdisc is on eth0 (and that the kernel has netem).
class FakeTc {
 public:
  explicit FakeTc(testing::FakeEnv& env) {
    env.OnCommand([this](const testing::FakeEnv::CommandCall& call) { return Answer(call); });
  }
  bool netem_on() const { return netem_on_; }

 private:
  Result<CommandResult> Answer(const testing::FakeEnv::CommandCall& call) {
    CommandResult r;
    r.exit_code = 0;
    std::vector<std::string> args(call.argv.begin() + 1, call.argv.end());
    if (!args.empty() && args[0] == "--net") args.erase(args.begin(), args.begin() + 2);  // unshare
    const std::string line = Join(args);
    if (line == "qdisc add dev eth0 root handle 5246: netem delay 100ms") {
      netem_on_ = true;
    } else if (line == "qdisc del dev eth0 root handle 5246:") {
      netem_on_ = false;
    } else if (line == "qdisc show dev eth0 root") {
      r.out = netem_on_ ? "qdisc netem 5246: root refcnt 2 limit 1000 delay 100ms\n"
                        : "qdisc noqueue 0: root refcnt 2\n";
    }
    return r;
  }
  static std::string Join(const std::vector<std::string>& args) {
    std::string out;
    for (const auto& a : args) out += (out.empty() ? "" : " ") + a;
    return out;
  }

  bool netem_on_ = false;
};

// What each command ran, without the absolute path of its program.
std::vector<std::string> Commands(const testing::FakeEnv& env) {
  std::vector<std::string> out;
  for (const auto& call : env.commands()) {
    std::string line;
    for (size_t i = 0; i < call.argv.size(); ++i) {
      std::string arg = call.argv[i];
      if (i == 0 || (i == 2 && call.argv[1] == "--net")) arg = arg.substr(arg.rfind('/') + 1);
      line += (line.empty() ? "" : " ") + arg;
    }
    out.push_back(line);
  }
  return out;
}

TEST(LatencyFakeEnvTest, NetemInjectsAndRevertsThroughTheEnvsTc) {
  testing::FakeEnv system_env;
  FakeTc tc(system_env);
  StopSource stop;
  FaultEnv env{system_env, stop, "lat"};
  const FaultFactory* factory = FaultRegistry::Global().Find("latency");
  ASSERT_NE(factory, nullptr);
  FaultStep step;
  step.name = "slow";
  step.type = "latency";
  step.params = WithDefaults(LatencyDeclaration(),
                             {{"backend", "netem"}, {"interface", "eth0"}, {"delay", "100ms"}});
  auto fault = factory->Create(step, TargetSpec{});
  const Target host{"local", {}, "host local"};

  ASSERT_TRUE(fault->Prepare(env, {host}).ok());
  auto undo = fault->PlanUndo(env, host);
  ASSERT_TRUE(undo.ok()) << undo.status().message();
  EXPECT_EQ(undo->data.value("backend", ""), "netem");
  EXPECT_EQ(undo->data.value("interface", ""), "eth0");
  EXPECT_EQ(undo->manual_undo, "tc qdisc del dev eth0 root handle 5246:");
  ASSERT_TRUE(fault->Inject(env, host, *undo).ok());
  EXPECT_TRUE(tc.netem_on());
  EXPECT_FALSE(factory->Verify(env, *undo).verified);  // still on: not reverted
  ASSERT_TRUE(factory->Revert(env, *undo).ok());
  EXPECT_FALSE(tc.netem_on());
  EXPECT_TRUE(factory->Verify(env, *undo).verified);
  EXPECT_TRUE(factory->Revert(env, *undo).ok());  // idempotent: nothing of ours is left

  EXPECT_EQ(
      Commands(system_env),
      (std::vector<std::string>{
          "unshare --net tc qdisc add dev lo root netem delay 1ms",  // does the kernel have it?
          "tc qdisc show dev eth0",                                  // the interface exists
          "tc qdisc add dev eth0 root handle 5246: netem delay 100ms",
          "tc qdisc show dev eth0 root",  // Verify: still there
          "tc qdisc show dev eth0 root",  // Revert: ours?
          "tc qdisc del dev eth0 root handle 5246:",
          "tc qdisc show dev eth0 root",  // Verify: gone
          "tc qdisc show dev eth0 root",  // Revert again: nothing of ours
      }));
}

}  // namespace
}  // namespace ringfence
