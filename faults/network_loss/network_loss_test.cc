#include <gtest/gtest.h>

#include "core/fault/fault.h"
#include "faults/network_loss/network_loss.h"
#include "tests/support/fake_env.h"
#include "tests/support/fake_nft.h"

namespace ringfence {
namespace {

// What the experiment loader does with a method step's params: the generic checks, then (when
// they pass) the fault's own on the params with defaults filled in.
std::vector<std::string> Validate(const nlohmann::json& params) {
  NetworkLossFactory factory;
  ValidationErrors errors;
  ValidateParams(factory.Declaration(), params, "/method/0/params", errors);
  if (errors.empty()) {
    factory.ValidateConfig(WithDefaults(factory.Declaration(), params), "/method/0/params", errors);
  }
  return errors.Format("exp.json");
}

TEST(NetworkLossConfigTest, IsARegisteredHostFault) {
  const FaultFactory* factory = FaultRegistry::Global().Find("network_loss");
  ASSERT_NE(factory, nullptr);
  EXPECT_EQ(factory->Declaration().target_kind, TargetKind::kHost);
}

TEST(NetworkLossConfigTest, AcceptsValidParams) {
  EXPECT_EQ(Validate({{"percent", 50}}), std::vector<std::string>{});
  EXPECT_EQ(Validate({{"percent", 0.01},
                      {"direction", "egress"},
                      {"protocol", "udp"},
                      {"port", 53},
                      {"address", "fd00::/64"},
                      {"netns", "blue"}}),
            std::vector<std::string>{});
  EXPECT_EQ(Validate({{"percent", 100}, {"port", 65535}, {"address", "10.0.0.5"}}),
            std::vector<std::string>{});
}

TEST(NetworkLossConfigTest, RefusesBadInputWordForWord) {
  EXPECT_EQ(Validate({{"percent", 150}}),
            std::vector<std::string>{
                "exp.json: /method/0/params/percent: 150: a number from 0.01 to 100"});
  EXPECT_EQ(
      Validate({{"percent", 0}}),
      std::vector<std::string>{"exp.json: /method/0/params/percent: 0: a number from 0.01 to 100"});
  EXPECT_EQ(Validate({{"percent", -5}}),
            std::vector<std::string>{
                "exp.json: /method/0/params/percent: -5: a number from 0.01 to 100"});
  EXPECT_EQ(Validate(nlohmann::json::object()),
            std::vector<std::string>{
                "exp.json: /method/0/params/percent: missing: a number from 0.01 to 100"});
  EXPECT_EQ(Validate({{"percent", 10}, {"port", 70000}}),
            std::vector<std::string>{
                "exp.json: /method/0/params/port: 70000: an integer from 1 to 65535"});
  EXPECT_EQ(
      Validate({{"percent", 10}, {"port", 0}}),
      std::vector<std::string>{"exp.json: /method/0/params/port: 0: an integer from 1 to 65535"});
  EXPECT_EQ(
      Validate({{"percent", 10}, {"direction", "sideways"}}),
      std::vector<std::string>{
          "exp.json: /method/0/params/direction: \"sideways\": one of ingress, egress, both"});
  EXPECT_EQ(Validate({{"percent", 10}, {"protocol", "icmp"}}),
            std::vector<std::string>{
                "exp.json: /method/0/params/protocol: \"icmp\": one of all, tcp, udp"});
}

TEST(NetworkLossConfigTest, RefusesMalformedAddressesAndNamespacesWordForWord) {
  EXPECT_EQ(Validate({{"percent", 10}, {"address", "10.0.0.300"}}),
            std::vector<std::string>{
                "exp.json: /method/0/params/address: \"10.0.0.300\": an IPv4 or IPv6 address or "
                "CIDR, such as 10.0.0.5, 10.0.0.0/24 or fd00::/64"});
  EXPECT_EQ(Validate({{"percent", 10}, {"address", "10.0.0.0/33"}, {"netns", "../etc"}}),
            (std::vector<std::string>{
                "exp.json: /method/0/params/address: \"10.0.0.0/33\": an IPv4 or IPv6 address or "
                "CIDR, such as 10.0.0.5, 10.0.0.0/24 or fd00::/64",
                "exp.json: /method/0/params/netns: \"../etc\": a network namespace name as listed "
                "by ip netns list (no \"/\", not \".\" or \"..\")"}));
}

TEST(NetworkLossConfigTest, ObservesNothingBeforeInjecting) {
  FaultStep step;
  step.name = "loss";
  step.params = {{"percent", 12.5}, {"direction", "both"}, {"protocol", "all"}};
  auto fault = NetworkLossFactory().Create(step, TargetSpec{});
  StopSource stop;
  testing::FakeEnv system_env;
  FaultEnv env{system_env, stop, "r"};
  EXPECT_EQ(fault->Observe(env),
            (nlohmann::json{{"match", "all protocols, all addresses, both directions"},
                            {"percent", 12.5},
                            {"tables", nlohmann::json::array()}}));
}

// The whole life of an injection on a fake Env: the nft commands it runs (and nothing real),
// the table its undo record names, and the revert that deletes exactly that table.
TEST(NetworkLossFakeEnvTest, InjectsAndRevertsThroughTheEnvsNft) {
  testing::FakeEnv system_env;
  testing::FakeNft nft;
  nft.AnswerFor(system_env);
  StopSource stop;
  FaultEnv env{system_env, stop, "r"};
  NetworkLossFactory factory;
  FaultStep step;
  step.name = "loss";
  step.params = WithDefaults(factory.Declaration(), {{"percent", 12.5}, {"port", 8080}});
  auto fault = factory.Create(step, TargetSpec{});
  const Target host{"local", {}, "host local"};

  ASSERT_TRUE(fault->Prepare(env, {host}).ok());
  auto undo = fault->PlanUndo(env, host);
  ASSERT_TRUE(undo.ok()) << undo.status().message();
  const std::string table = undo->data.value("table", "");
  EXPECT_EQ(table.rfind("ringfence_r_", 0), 0u) << table;
  EXPECT_EQ(undo->manual_undo, "nft delete table inet " + table);
  ASSERT_TRUE(fault->Inject(env, host, *undo).ok());
  EXPECT_EQ(nft.tables(), std::set<std::string>{table});
  ASSERT_TRUE(factory.Revert(env, *undo).ok());
  EXPECT_EQ(nft.tables(), std::set<std::string>{});
  EXPECT_TRUE(factory.Verify(env, *undo).verified);
  // Reverting again is Ok (the table is already gone), and deletes nothing else.
  EXPECT_TRUE(factory.Revert(env, *undo).ok());

  const std::vector<std::string> calls = testing::FakeNft::NftCalls(system_env);
  ASSERT_EQ(calls.size(), 7u);
  EXPECT_EQ(calls[0].rfind("--check create table inet ringfence_scratch_", 0), 0u) << calls[0];
  EXPECT_EQ(calls[1].rfind("--check create table inet ringfence_check_", 0), 0u) << calls[1];
  EXPECT_EQ(calls[2], "list tables inet");
  EXPECT_EQ(calls[3], "create table inet " + table);
  EXPECT_EQ(calls[4], "delete table inet " + table);
  EXPECT_EQ(calls[5], "list tables inet");
  EXPECT_EQ(calls[6], "delete table inet " + table);
  // The rules hold the loss and the match.
  const std::string ruleset = system_env.commands()[3].argv.back();
  EXPECT_NE(ruleset.find("numgen random mod 10000 < 1250"), std::string::npos) << ruleset;
  EXPECT_NE(ruleset.find("8080"), std::string::npos) << ruleset;
}

}  // namespace
}  // namespace ringfence
