#include <gtest/gtest.h>

#include "core/fault/fault.h"
#include "faults/network_partition/network_partition.h"

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

}  // namespace
}  // namespace ringfence
