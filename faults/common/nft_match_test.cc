#include <gtest/gtest.h>

#include "faults/common/nft_fault.h"
#include "faults/common/nft_match.h"
#include "faults/common/nft_table.h"

namespace ringfence {
namespace {

IpPrefix Prefix(const std::string& text) {
  auto p = ParseIpPrefix(text);
  EXPECT_TRUE(p.ok()) << text << ": " << p.status().message();
  return p.ok() ? *p : IpPrefix{};
}

TEST(IpPrefixTest, ParsesAddressesAndCidrsAndClearsHostBits) {
  EXPECT_EQ(Prefix("10.0.0.5").ToString(), "10.0.0.5");
  EXPECT_EQ(Prefix("10.0.0.5").length, 32);
  EXPECT_EQ(Prefix("10.0.0.7/24").ToString(), "10.0.0.0/24");
  EXPECT_EQ(Prefix("10.1.2.3/12").ToString(), "10.0.0.0/12");
  EXPECT_EQ(Prefix("0.0.0.0/0").ToString(), "0.0.0.0/0");
  EXPECT_EQ(Prefix("fd00::1").ToString(), "fd00::1");
  EXPECT_EQ(Prefix("fd00::1").family, 6);
  EXPECT_EQ(Prefix("fd00:1:2:3::1/64").ToString(), "fd00:1:2:3::/64");
  EXPECT_EQ(Prefix("fd00::/7").ToString(), "fc00::/7");
}

TEST(IpPrefixTest, RefusesEverythingElseWithOneMessage) {
  for (const char* bad : {"10.0.0.300", "10.0.0", "10.0.0.0/33", "fd00::/129", "example.com", "",
                          "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/+8", " 10.0.0.1", "10.0.0.1 ",
                          "10.0.0.0/24/1", "10.0.0.0/0008", "010.0.0.1", "fd00:::1"}) {
    auto p = ParseIpPrefix(bad);
    EXPECT_FALSE(p.ok()) << bad;
  }
  EXPECT_EQ(ParseIpPrefix("10.0.0.300").status().message(),
            "\"10.0.0.300\": an IPv4 or IPv6 address or CIDR, such as 10.0.0.5, 10.0.0.0/24 or "
            "fd00::/64");
}

TEST(IpPrefixTest, ContainsOnlyNarrowerNetworksOfItsFamily) {
  EXPECT_TRUE(Prefix("10.0.0.0/8").Contains(Prefix("10.9.8.7")));
  EXPECT_TRUE(Prefix("10.0.0.0/8").Contains(Prefix("10.9.0.0/16")));
  EXPECT_TRUE(Prefix("10.0.0.5").Contains(Prefix("10.0.0.5")));
  EXPECT_FALSE(Prefix("10.0.0.0/16").Contains(Prefix("10.0.0.0/8")));
  EXPECT_FALSE(Prefix("10.0.0.0/8").Contains(Prefix("11.0.0.1")));
  EXPECT_FALSE(Prefix("0.0.0.0/0").Contains(Prefix("fd00::1")));
  EXPECT_TRUE(Prefix("fd00::/8").Contains(Prefix("fd12::1")));
}

TEST(TrafficMatchTest, MatchesSourceOrDestinationOfAddressAndPort) {
  TrafficMatch m;
  EXPECT_EQ(m.NftExpressions(), std::vector<std::string>{""});
  m.protocol = TransportProtocol::kTcp;
  EXPECT_EQ(m.NftExpressions(), std::vector<std::string>{"meta l4proto tcp"});
  m.protocol = TransportProtocol::kAll;
  m.port = 8080;
  EXPECT_EQ(m.NftExpressions(),
            (std::vector<std::string>{"meta l4proto { tcp, udp } th sport 8080",
                                      "meta l4proto { tcp, udp } th dport 8080"}));
  m.protocol = TransportProtocol::kUdp;
  m.address = Prefix("10.0.0.0/24");
  EXPECT_EQ(m.NftExpressions(),
            (std::vector<std::string>{"ip saddr 10.0.0.0/24 meta l4proto udp th sport 8080",
                                      "ip saddr 10.0.0.0/24 meta l4proto udp th dport 8080",
                                      "ip daddr 10.0.0.0/24 meta l4proto udp th sport 8080",
                                      "ip daddr 10.0.0.0/24 meta l4proto udp th dport 8080"}));
  m.port.reset();
  m.protocol = TransportProtocol::kAll;
  m.address = Prefix("fd00::/64");
  EXPECT_EQ(m.NftExpressions(),
            (std::vector<std::string>{"ip6 saddr fd00::/64", "ip6 daddr fd00::/64"}));
}

TEST(TrafficMatchTest, DescribesItself) {
  TrafficMatch m;
  EXPECT_EQ(m.Describe(), "all protocols, all addresses, both directions");
  m.port = 22;
  m.direction = TrafficDirection::kIngress;
  EXPECT_EQ(m.Describe(), "tcp/udp port 22, all addresses, ingress");
  m.protocol = TransportProtocol::kTcp;
  m.address = Prefix("10.0.0.0/8");
  m.direction = TrafficDirection::kEgress;
  EXPECT_EQ(m.Describe(), "tcp port 22, address 10.0.0.0/8, egress");
  EXPECT_TRUE(m.egress());
  EXPECT_FALSE(m.ingress());
}

Result<TrafficMatch> TrafficMatchFromParams(const nlohmann::json& params) {
  const FaultDecl decl{"traffic", "", TargetKind::kHost, TrafficParamDecls()};
  return ringfence::TrafficMatchFromParams(ParamReader(decl, params));
}

TEST(TrafficMatchTest, FromParamsWithTheDeclaredDefaults) {
  auto m = TrafficMatchFromParams(
      {{"direction", "ingress"}, {"protocol", "tcp"}, {"port", 443}, {"address", "10.1.0.0/16"}});
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->Describe(), "tcp port 443, address 10.1.0.0/16, ingress");
  auto defaults = TrafficMatchFromParams(nlohmann::json::object());
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->Describe(), "all protocols, all addresses, both directions");
  EXPECT_EQ(TrafficMatchFromParams({{"direction", "up"}}).status().message(),
            "direction \"up\": one of ingress, egress, both");
}

ProtectedEndpoint Endpoint(const std::string& address, int port) {
  return ProtectedEndpoint{Prefix(address), port, TransportProtocol::kTcp};
}

TEST(ProtectedEndpointsTest, NothingIsProtectedWhileFaultsRunOnlyLocally) {
  EXPECT_TRUE(RunnerControlEndpoints().empty());
  EXPECT_TRUE(CheckProtectedEndpoints(TrafficMatch{}, {}).ok());
}

TEST(ProtectedEndpointsTest, RefusesARuleThatWouldCutTheControlConnection) {
  const std::vector<ProtectedEndpoint> control = {Endpoint("192.0.2.10", 22),
                                                  Endpoint("fd00::7", 2222)};
  Status s = CheckProtectedEndpoints(TrafficMatch{}, control);
  EXPECT_EQ(s.code(), StatusCode::kInvalidInput);
  EXPECT_EQ(s.message(),
            "refused: the rule (all protocols, all addresses, both directions) would cut the "
            "runner's control connection to 192.0.2.10:22/tcp; narrow address, port or protocol");

  TrafficMatch cidr;
  cidr.address = Prefix("fd00::/64");
  cidr.direction = TrafficDirection::kIngress;
  EXPECT_EQ(CheckProtectedEndpoints(cidr, control).message(),
            "refused: the rule (all protocols, address fd00::/64, ingress) would cut the "
            "runner's control connection to [fd00::7]:2222/tcp; narrow address, port or protocol");

  TrafficMatch port;
  port.port = 22;
  port.protocol = TransportProtocol::kTcp;
  EXPECT_FALSE(CheckProtectedEndpoints(port, control).ok());
}

TEST(ProtectedEndpointsTest, AllowsRulesThatMissTheControlConnection) {
  const std::vector<ProtectedEndpoint> control = {Endpoint("192.0.2.10", 22)};
  TrafficMatch other_port;
  other_port.port = 8080;
  EXPECT_TRUE(CheckProtectedEndpoints(other_port, control).ok());
  TrafficMatch other_network;
  other_network.address = Prefix("198.51.100.0/24");
  EXPECT_TRUE(CheckProtectedEndpoints(other_network, control).ok());
  TrafficMatch udp_only;
  udp_only.protocol = TransportProtocol::kUdp;
  EXPECT_TRUE(CheckProtectedEndpoints(udp_only, control).ok());
  TrafficMatch ipv6_only;
  ipv6_only.address = Prefix("::/0");
  EXPECT_TRUE(CheckProtectedEndpoints(ipv6_only, control).ok());
}

TEST(NftTableTest, RendersOneAtomicTableThatRefusesToExistTwice) {
  TrafficMatch m;
  m.port = 80;
  m.protocol = TransportProtocol::kTcp;
  m.direction = TrafficDirection::kIngress;
  EXPECT_EQ(RenderNftTable("ringfence_r_1", {"blocked"}, {"counter name \"blocked\" drop"},
                           m.NftExpressions(), m.ingress(), m.egress()),
            "create table inet ringfence_r_1\n"
            "table inet ringfence_r_1 {\n"
            "  counter blocked {\n"
            "  }\n"
            "  chain verdict {\n"
            "    counter name \"blocked\" drop\n"
            "  }\n"
            "  chain ingress {\n"
            "    type filter hook input priority -10; policy accept;\n"
            "    meta l4proto tcp th sport 80 goto verdict\n"
            "    meta l4proto tcp th dport 80 goto verdict\n"
            "  }\n"
            "}\n");
  EXPECT_EQ(RenderNftTable("ringfence_r_2", {}, {"drop"}, {""}, false, true),
            "create table inet ringfence_r_2\n"
            "table inet ringfence_r_2 {\n"
            "  chain verdict {\n"
            "    drop\n"
            "  }\n"
            "  chain egress {\n"
            "    type filter hook output priority -10; policy accept;\n"
            "    goto verdict\n"
            "  }\n"
            "}\n");
}

TEST(NftTableTest, NamesAndManualUndo) {
  EXPECT_EQ(SanitizeForNft("2026-11-21T17:00:00Z-ab12"), "2026_11_21T17_00_00Z_ab12");
  EXPECT_EQ(SanitizeForNft(""), "run");
  EXPECT_EQ(SanitizeForNft(std::string(100, 'x')), std::string(64, 'x'));
  EXPECT_EQ((NftTable{"ringfence_r_1", ""}).ManualUndo(), "nft delete table inet ringfence_r_1");
  EXPECT_EQ((NftTable{"ringfence_r_1", "blue"}).ManualUndo(),
            "ip netns exec blue nft delete table inet ringfence_r_1");
  EXPECT_EQ((NftTable{"ringfence_r_1", "blue"}).ToJson(),
            (nlohmann::json{{"family", "inet"}, {"table", "ringfence_r_1"}, {"netns", "blue"}}));
}

TEST(NftTableTest, AnUndoRecordMayNameOnlyRingfenceTables) {
  auto table = NftTable::FromJson({{"family", "inet"}, {"table", "ringfence_r_1"}, {"netns", "b"}});
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(table->name, "ringfence_r_1");
  EXPECT_EQ(table->netns, "b");
  EXPECT_EQ(
      NftTable::FromJson({{"table", "filter"}}).status().message(),
      "undo record names \"filter\", which is not a ringfence table (ringfence_[A-Za-z0-9_]*)");
  EXPECT_FALSE(NftTable::FromJson({{"table", "ringfence_x; flush ruleset"}}).ok());
  EXPECT_FALSE(NftTable::FromJson({{"family", "ip"}, {"table", "ringfence_r_1"}}).ok());
  EXPECT_FALSE(NftTable::FromJson({{"table", "ringfence_r_1"}, {"netns", "../x"}}).ok());
  EXPECT_EQ(NftTable::FromJson(nlohmann::json::object()).status().message(),
            "undo record without a table name: {}");
}

}  // namespace
}  // namespace ringfence
