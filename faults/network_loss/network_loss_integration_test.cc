// network_loss against the real kernel: UDP datagrams between two network namespaces, counted
// by the receiver, with the fault applied inside one of them.
#include <gtest/gtest.h>

#include "core/fault/fault.h"
#include "core/sys/system_clock.h"
#include "core/sys/system_env.h"
#include "faults/network_loss/network_loss.h"
#include "tests/support/fake_process_table.h"
#include "tests/support/netns.h"
#include "tests/support/netns_traffic.h"

namespace ringfence::testing {
namespace {

constexpr int kDatagrams = 400;

Target LocalHost() { return Target{"local", {}, "host local"}; }

// Params with every declared default filled in, as the loader stores them.
nlohmann::json LossParams(nlohmann::json params) {
  params.emplace("direction", "both");
  params.emplace("protocol", "all");
  return params;
}

std::vector<std::string> RingfenceTables(const std::string& ns) {
  std::string out;
  NetnsPair::Run(NetnsPair::In(ns, {"nft", "list", "tables"}), &out);
  std::vector<std::string> found;
  size_t pos = 0;
  while ((pos = out.find("ringfence_", pos)) != std::string::npos) {
    const size_t end = out.find('\n', pos);
    found.push_back(out.substr(pos, end - pos));
    pos = end == std::string::npos ? out.size() : end;
  }
  return found;
}

class NetworkLossTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(pair_.ok()) << pair_.error(); }

  // Prepare → PlanUndo → Inject, as the engine does; the undo record is kept for TearDown.
  void InjectLoss(const nlohmann::json& params) {
    FaultStep step;
    step.name = "loss";
    step.type = "network_loss";
    step.params = LossParams(params);
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
    // Also when an assertion failed half-way: no table may outlive the test.
    if (undo_) {
      EXPECT_TRUE(factory_.Revert(env_, *undo_).ok());
    }
  }

  NetnsPair pair_;
  FakeProcessTable processes_;  // host faults never touch processes
  StopSource stop_;
  SystemEnv system_env_{processes_};
  FaultEnv env_{system_env_, stop_, "loss-test"};
  NetworkLossFactory factory_;
  std::unique_ptr<Fault> fault_;
  std::optional<UndoRecord> undo_;
};

TEST_F(NetworkLossTest, HalfLossDropsAboutHalfAndRevertRestoresEverything) {
  UdpSink sink(pair_.server_ns(), pair_.server_addr());
  ASSERT_TRUE(sink.ok());
  EXPECT_EQ(SendUdp(pair_.client_ns(), pair_.server_addr(), kDatagrams, sink).received, kDatagrams);

  InjectLoss({{"percent", 50}, {"direction", "ingress"}, {"netns", pair_.server_ns()}});
  const UdpDelivery lossy = SendUdp(pair_.client_ns(), pair_.server_addr(), kDatagrams, sink);
  EXPECT_EQ(lossy.sent, kDatagrams);
  EXPECT_GT(lossy.received, kDatagrams * 20 / 100);
  EXPECT_LT(lossy.received, kDatagrams * 80 / 100);

  const nlohmann::json observed = fault_->Observe(env_);
  ASSERT_EQ(observed["tables"].size(), 1u) << observed.dump();
  EXPECT_EQ(observed["tables"][0]["active"], true);
  EXPECT_GE(observed["tables"][0]["packets_matched"].get<int>(), kDatagrams);
  // Other packets (IPv6 neighbour discovery on the veth) may be dropped too.
  EXPECT_GE(observed["tables"][0]["packets_dropped"].get<int>(), kDatagrams - lossy.received)
      << observed.dump();
  EXPECT_EQ(observed["percent"], 50);

  ASSERT_TRUE(factory_.Revert(env_, *undo_).ok());
  EXPECT_EQ(SendUdp(pair_.client_ns(), pair_.server_addr(), kDatagrams, sink).received, kDatagrams);
  EXPECT_EQ(RingfenceTables(pair_.server_ns()), std::vector<std::string>{});
  EXPECT_EQ(fault_->Observe(env_)["tables"][0]["active"], false);
}

TEST_F(NetworkLossTest, FullLossOnEgressLetsNothingThrough) {
  UdpSink sink(pair_.server_ns(), pair_.server_addr());
  ASSERT_TRUE(sink.ok());
  InjectLoss({{"percent", 100}, {"direction", "egress"}, {"netns", pair_.client_ns()}});
  const UdpDelivery lossy = SendUdp(pair_.client_ns(), pair_.server_addr(), kDatagrams, sink);
  EXPECT_EQ(lossy.received, 0);
  // The kernel tells a local sender that its packet was dropped on output.
  EXPECT_EQ(lossy.send_errors, kDatagrams);

  ASSERT_TRUE(factory_.Revert(env_, *undo_).ok());
  EXPECT_EQ(SendUdp(pair_.client_ns(), pair_.server_addr(), kDatagrams, sink).received, kDatagrams);
  EXPECT_EQ(RingfenceTables(pair_.client_ns()), std::vector<std::string>{});
}

TEST_F(NetworkLossTest, LossOnOnePortSparesTheOthers) {
  UdpSink lossy_sink(pair_.server_ns(), pair_.server_addr());
  UdpSink other_sink(pair_.server_ns(), pair_.server_addr());
  ASSERT_TRUE(lossy_sink.ok() && other_sink.ok());
  InjectLoss({{"percent", 100},
              {"protocol", "udp"},
              {"port", lossy_sink.port()},
              {"netns", pair_.server_ns()}});
  EXPECT_EQ(SendUdp(pair_.client_ns(), pair_.server_addr(), 100, lossy_sink).received, 0);
  EXPECT_EQ(SendUdp(pair_.client_ns(), pair_.server_addr(), 100, other_sink).received, 100);
}

TEST_F(NetworkLossTest, LossFromAnotherAddressSparesThisPeer) {
  UdpSink sink(pair_.server_ns(), pair_.server_addr());
  ASSERT_TRUE(sink.ok());
  InjectLoss({{"percent", 100}, {"address", "192.0.2.0/24"}, {"netns", pair_.server_ns()}});
  EXPECT_EQ(SendUdp(pair_.client_ns(), pair_.server_addr(), 100, sink).received, 100);
}

TEST_F(NetworkLossTest, UndoRecordNamesTheTableBeforeItExists) {
  FaultStep step;
  step.name = "loss";
  step.params = LossParams({{"percent", 10}, {"netns", pair_.server_ns()}});
  auto fault = factory_.Create(step, TargetSpec{});
  ASSERT_TRUE(fault->Prepare(env_, {LocalHost()}).ok());
  auto undo = fault->PlanUndo(env_, LocalHost());
  ASSERT_TRUE(undo.ok()) << undo.status().message();
  const std::string table = undo->data["table"];
  EXPECT_EQ(table.rfind("ringfence_loss_test_", 0), 0u) << table;
  EXPECT_EQ(undo->data["netns"], pair_.server_ns());
  EXPECT_EQ(undo->fault_type, "network_loss");
  EXPECT_EQ(undo->manual_undo,
            "ip netns exec " + pair_.server_ns() + " nft delete table inet " + table);
  // Prepare's scratch table is gone, and PlanUndo created nothing.
  EXPECT_EQ(RingfenceTables(pair_.server_ns()), std::vector<std::string>{});

  undo_ = *undo;
  ASSERT_TRUE(fault->Inject(env_, LocalHost(), *undo).ok());
  EXPECT_EQ(RingfenceTables(pair_.server_ns()), std::vector<std::string>{table});
  // A revert from the record alone, as another process would do after a crash.
  const UndoRecord from_ledger = UndoRecord::FromJson(undo->ToJson());
  EXPECT_TRUE(NetworkLossFactory().Revert(env_, from_ledger).ok());
  EXPECT_EQ(RingfenceTables(pair_.server_ns()), std::vector<std::string>{});
}

TEST_F(NetworkLossTest, PrepareRefusesAMissingNamespace) {
  FaultStep step;
  step.name = "loss";
  step.params = LossParams({{"percent", 10}, {"netns", "rf-no-such-ns"}});
  auto fault = factory_.Create(step, TargetSpec{});
  Status s = fault->Prepare(env_, {LocalHost()});
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(),
            "network namespace \"rf-no-such-ns\" not found (no /run/netns/rf-no-such-ns)");
}

}  // namespace
}  // namespace ringfence::testing
