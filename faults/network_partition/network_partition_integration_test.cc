// network_partition against the real kernel: TCP connects between two network namespaces with
// the fault applied inside one of them.
#include <gtest/gtest.h>

#include "core/fault/fault.h"
#include "core/sys/system_clock.h"
#include "core/sys/system_env.h"
#include "faults/network_partition/network_partition.h"
#include "tests/support/fake_process_table.h"
#include "tests/support/netns.h"
#include "tests/support/netns_traffic.h"

namespace ringfence::testing {
namespace {

// Bounds a blackholed connect; a refused or accepted one ends long before.
constexpr std::chrono::milliseconds kConnectTimeout{700};

Target LocalHost() { return Target{"local", {}, "host local"}; }

// Params with every declared default filled in, as the loader stores them.
nlohmann::json PartitionParams(nlohmann::json params) {
  params.emplace("action", "drop");
  params.emplace("direction", "both");
  params.emplace("protocol", "all");
  return params;
}

bool HasRingfenceTable(const std::string& ns) {
  std::string out;
  NetnsPair::Run(NetnsPair::In(ns, {"nft", "list", "tables"}), &out);
  return out.find("ringfence_") != std::string::npos;
}

class NetworkPartitionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(pair_.ok()) << pair_.error();
    ASSERT_TRUE(listener_.ok());
    ASSERT_EQ(Connect(listener_.port()), "connected");
  }

  void Inject(const nlohmann::json& params) {
    FaultStep step;
    step.name = "partition";
    step.type = "network_partition";
    step.params = PartitionParams(params);
    fault_ = factory_.Create(step, TargetSpec{});
    Status prepared = fault_->Prepare(env_, {LocalHost()});
    ASSERT_TRUE(prepared.ok()) << prepared.message();
    auto undo = fault_->PlanUndo(env_, LocalHost());
    ASSERT_TRUE(undo.ok()) << undo.status().message();
    undo_ = *undo;
    Status injected = fault_->Inject(env_, LocalHost(), *undo_);
    ASSERT_TRUE(injected.ok()) << injected.message();
  }

  void TearDown() override {
    if (undo_) {
      EXPECT_TRUE(factory_.Revert(env_, *undo_).ok());
    }
  }

  // From the client namespace to the server's address.
  std::string Connect(int port) {
    auto outcome = ConnectFrom(pair_.client_ns(), pair_.server_addr(), port, kConnectTimeout);
    listener_.DiscardPending();
    return ConnectOutcomeName(outcome);
  }

  NetnsPair pair_;
  TcpListener listener_{pair_.server_ns(), pair_.server_addr()};
  FakeProcessTable processes_;  // host faults never touch processes
  StopSource stop_;
  SystemEnv system_env_{processes_};
  FaultEnv env_{system_env_, stop_, "partition-test"};
  NetworkPartitionFactory factory_;
  std::unique_ptr<Fault> fault_;
  std::optional<UndoRecord> undo_;
};

TEST_F(NetworkPartitionTest, RejectRefusesConnectsUntilReverted) {
  Inject({{"action", "reject"}, {"port", listener_.port()}, {"netns", pair_.server_ns()}});
  EXPECT_EQ(Connect(listener_.port()), "refused");
  const nlohmann::json observed = fault_->Observe(env_);
  EXPECT_EQ(observed["action"], "reject");
  EXPECT_GE(observed["tables"][0]["packets_blocked"].get<int>(), 1) << observed.dump();

  ASSERT_TRUE(factory_.Revert(env_, *undo_).ok());
  EXPECT_EQ(Connect(listener_.port()), "connected");
  EXPECT_FALSE(HasRingfenceTable(pair_.server_ns()));
}

TEST_F(NetworkPartitionTest, DropBlackholesConnectsUntilReverted) {
  Inject({{"action", "drop"}, {"port", listener_.port()}, {"netns", pair_.server_ns()}});
  EXPECT_EQ(Connect(listener_.port()), "timed out");
  ASSERT_TRUE(factory_.Revert(env_, *undo_).ok());
  EXPECT_EQ(Connect(listener_.port()), "connected");
}

TEST_F(NetworkPartitionTest, APortPartitionLeavesOtherPortsOpen) {
  TcpListener other(pair_.server_ns(), pair_.server_addr());
  ASSERT_TRUE(other.ok());
  Inject({{"action", "reject"}, {"port", listener_.port()}, {"netns", pair_.server_ns()}});
  EXPECT_EQ(Connect(listener_.port()), "refused");
  EXPECT_EQ(Connect(other.port()), "connected");
  other.DiscardPending();
}

TEST_F(NetworkPartitionTest, AnAddressPartitionOnEgressCutsThatPeer) {
  Inject({{"action", "reject"},
          {"direction", "egress"},
          {"address", pair_.server_addr() + "/32"},
          {"netns", pair_.client_ns()}});
  EXPECT_EQ(Connect(listener_.port()), "refused");
}

TEST_F(NetworkPartitionTest, ACidrPartitionOfAnotherNetworkSparesThisPeer) {
  Inject({{"action", "reject"}, {"address", "192.0.2.0/24"}, {"netns", pair_.server_ns()}});
  EXPECT_EQ(Connect(listener_.port()), "connected");
}

TEST_F(NetworkPartitionTest, PrepareAcceptsAnIpv6Cidr) {
  FaultStep step;
  step.name = "partition";
  step.params = PartitionParams({{"address", "fd00:1::/64"}, {"netns", pair_.server_ns()}});
  Status prepared = factory_.Create(step, TargetSpec{})->Prepare(env_, {LocalHost()});
  EXPECT_TRUE(prepared.ok()) << prepared.message();
  EXPECT_FALSE(HasRingfenceTable(pair_.server_ns()));
}

TEST_F(NetworkPartitionTest, RevertIsIdempotent) {
  Inject({{"action", "reject"}, {"port", listener_.port()}, {"netns", pair_.server_ns()}});
  EXPECT_TRUE(factory_.Revert(env_, *undo_).ok());
  EXPECT_TRUE(factory_.Revert(env_, *undo_).ok());
  EXPECT_EQ(Connect(listener_.port()), "connected");
}

TEST_F(NetworkPartitionTest, RevertAfterTheTableWasDeletedByHandIsOk) {
  Inject({{"action", "reject"}, {"port", listener_.port()}, {"netns", pair_.server_ns()}});
  const std::string table = undo_->data["table"];
  ASSERT_EQ(
      NetnsPair::Run(NetnsPair::In(pair_.server_ns(), {"nft", "delete", "table", "inet", table})),
      0);
  EXPECT_TRUE(factory_.Revert(env_, *undo_).ok());
}

TEST_F(NetworkPartitionTest, RevertAfterTheNamespaceIsGoneIsOk) {
  UndoRecord undo;
  undo.fault_type = "network_partition";
  undo.data = {{"family", "inet"}, {"table", "ringfence_gone_1"}, {"netns", "rf-gone-ns"}};
  EXPECT_TRUE(factory_.Revert(env_, undo).ok());
}

TEST_F(NetworkPartitionTest, RevertRefusesATableThatIsNotOurs) {
  UndoRecord undo;
  undo.fault_type = "network_partition";
  undo.data = {{"family", "inet"}, {"table", "filter"}};
  Status s = factory_.Revert(env_, undo);
  EXPECT_EQ(s.code(), StatusCode::kInvalidInput);
  EXPECT_EQ(
      s.message(),
      "undo record names \"filter\", which is not a ringfence table (ringfence_[A-Za-z0-9_]*)");
}

}  // namespace
}  // namespace ringfence::testing
