#include <gtest/gtest.h>

#include "core/fault/fault.h"
#include "core/sys/system_clock.h"
#include "faults/network_loss/network_loss.h"

namespace ringfence {
namespace {

// Host faults never touch processes.
class NoProcessTable : public ProcessTable {
 public:
  Result<std::vector<ProcessInfo>> List() override { return Status::Runtime("unused"); }
  Result<ProcessInfo> Get(pid_t) override { return Status::Runtime("unused"); }
  Status Signal(pid_t, unsigned long long, int) override { return Status::Runtime("unused"); }
  bool WaitExit(pid_t, unsigned long long, std::chrono::milliseconds) override { return false; }
  std::chrono::system_clock::time_point StartTime(unsigned long long) override { return {}; }
};

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
  NoProcessTable processes;
  StopSource stop;
  FaultEnv env{processes, SystemClock(), stop, "r"};
  EXPECT_EQ(fault->Observe(env),
            (nlohmann::json{{"match", "all protocols, all addresses, both directions"},
                            {"percent", 12.5},
                            {"tables", nlohmann::json::array()}}));
}

}  // namespace
}  // namespace ringfence
