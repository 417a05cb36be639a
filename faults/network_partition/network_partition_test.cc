#include <gtest/gtest.h>

#include "core/fault/fault.h"
#include "faults/network_partition/network_partition.h"
#include "tests/support/fake_env.h"
#include "tests/support/fake_nft.h"

namespace ringfence {
namespace {

// What the experiment loader does with a method step's params: the generic checks, then (when
// they pass) the fault's own on the params with defaults filled in.
std::vector<std::string> Validate(const nlohmann::json& params) {
  NetworkPartitionFactory factory;
  ValidationErrors errors;
  ValidateParams(factory.Declaration(), params, "/method/0/params", errors);
  if (errors.empty()) {
    factory.ValidateConfig(WithDefaults(factory.Declaration(), params), "/method/0/params", errors);
  }
  return errors.Format("exp.json");
}

TEST(NetworkPartitionConfigTest, IsARegisteredHostFault) {
  const FaultFactory* factory = FaultRegistry::Global().Find("network_partition");
  ASSERT_NE(factory, nullptr);
  EXPECT_EQ(factory->Declaration().target_kind, TargetKind::kHost);
}

TEST(NetworkPartitionConfigTest, AcceptsAPortAnAddressOrBoth) {
  EXPECT_EQ(Validate({{"port", 8080}}), std::vector<std::string>{});
  EXPECT_EQ(Validate({{"address", "10.0.0.0/24"}, {"action", "reject"}}),
            std::vector<std::string>{});
  EXPECT_EQ(Validate({{"address", "fd00::1"},
                      {"port", 443},
                      {"direction", "ingress"},
                      {"protocol", "tcp"},
                      {"netns", "blue"}}),
            std::vector<std::string>{});
}

TEST(NetworkPartitionConfigTest, RefusesBadInputWordForWord) {
  EXPECT_EQ(Validate(nlohmann::json::object()),
            std::vector<std::string>{
                "exp.json: /method/0/params: no port or address: a port, an address or both (a "
                "partition of all traffic is refused)"});
  EXPECT_EQ(Validate({{"port", 8080}, {"action", "block"}}),
            std::vector<std::string>{
                "exp.json: /method/0/params/action: \"block\": one of drop, reject"});
  EXPECT_EQ(
      Validate({{"port", -1}}),
      std::vector<std::string>{"exp.json: /method/0/params/port: -1: an integer from 1 to 65535"});
  EXPECT_EQ(Validate({{"address", "10.0.0.0/24"}, {"direction", "inbound"}}),
            std::vector<std::string>{
                "exp.json: /method/0/params/direction: \"inbound\": one of ingress, egress, both"});
  EXPECT_EQ(Validate({{"address", "db.example.com"}}),
            std::vector<std::string>{
                "exp.json: /method/0/params/address: \"db.example.com\": an IPv4 or IPv6 address "
                "or CIDR, such as 10.0.0.5, 10.0.0.0/24 or fd00::/64"});
}

// On a fake Env: the nft commands of a reject partition (and nothing real), and the revert that
// deletes exactly the table its undo record names.
TEST(NetworkPartitionFakeEnvTest, InjectsAndRevertsThroughTheEnvsNft) {
  testing::FakeEnv system_env;
  testing::FakeNft nft;
  nft.AnswerFor(system_env);
  StopSource stop;
  FaultEnv env{system_env, stop, "p"};
  NetworkPartitionFactory factory;
  FaultStep step;
  step.name = "cut";
  step.params = WithDefaults(factory.Declaration(), {{"port", 5432}, {"action", "reject"}});
  auto fault = factory.Create(step, TargetSpec{});
  const Target host{"local", {}, "host local"};

  auto undo = fault->PlanUndo(env, host);
  ASSERT_TRUE(undo.ok()) << undo.status().message();
  const std::string table = undo->data.value("table", "");
  ASSERT_TRUE(fault->Inject(env, host, *undo).ok());
  EXPECT_EQ(nft.tables(), std::set<std::string>{table});
  ASSERT_TRUE(factory.Revert(env, *undo).ok());
  EXPECT_TRUE(factory.Verify(env, *undo).verified);
  EXPECT_EQ(nft.tables(), std::set<std::string>{});
  EXPECT_EQ(testing::FakeNft::NftCalls(system_env),
            (std::vector<std::string>{"list tables inet", "create table inet " + table,
                                      "delete table inet " + table, "list tables inet"}));
  const std::string ruleset = system_env.commands()[1].argv.back();
  EXPECT_NE(ruleset.find("meta l4proto tcp reject with tcp reset"), std::string::npos) << ruleset;
  EXPECT_NE(ruleset.find("5432"), std::string::npos) << ruleset;
}

}  // namespace
}  // namespace ringfence
