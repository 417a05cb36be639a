#include "faults/latency/latency_config.h"

#include <gtest/gtest.h>

#include "faults/common/nft_table.h"
#include "faults/latency/latency_redirect.h"

namespace ringfence {
namespace {

nlohmann::json Filled(nlohmann::json params) {
  for (const ParamDecl& p : LatencyDeclaration().params) {
    if (!params.contains(p.name) && !p.default_value.is_null()) params[p.name] = p.default_value;
  }
  return params;
}

std::vector<std::string> Errors(const nlohmann::json& params) {
  ValidationErrors errors;
  ValidateLatencyConfig(Filled(params), "/method/0/params", errors);
  return errors.Format("exp.json");
}

TEST(LatencyConfigTest, DeclarationIsAHostFaultWithEveryParameter) {
  const FaultDecl& decl = LatencyDeclaration();
  EXPECT_EQ(decl.name, "latency");
  EXPECT_EQ(decl.target_kind, TargetKind::kHost);
  std::vector<std::string> names;
  for (const auto& p : decl.params) names.push_back(p.name);
  EXPECT_EQ(names, (std::vector<std::string>{"backend", "listen", "upstream", "port", "address",
                                             "netns", "interface", "delay", "jitter", "direction",
                                             "rate_kbit", "reset_percent", "blackhole", "seed",
                                             "in_flight", "finish_timeout", "max_connections"}));
}

TEST(LatencyConfigTest, ValidModesHaveNoErrors) {
  EXPECT_TRUE(Errors({{"listen", "127.0.0.1:0"}, {"upstream", "127.0.0.1:80"}}).empty());
  EXPECT_TRUE(Errors({{"listen", "[::1]:8443"}, {"upstream", "[::1]:443"}}).empty());
  EXPECT_TRUE(Errors({{"port", 80}, {"address", "10.0.0.1"}, {"delay", "100ms"}}).empty());
  EXPECT_TRUE(Errors({{"backend", "netem"}, {"interface", "eth0"}}).empty());
  EXPECT_TRUE(Errors({{"port", 80}, {"interface", "eth0"}}).empty());  // auto: either backend
}

TEST(LatencyConfigTest, ExplicitAndTransparentModeErrorsWordForWord) {
  EXPECT_EQ(
      Errors(nlohmann::json::object()),
      (std::vector<std::string>{"exp.json: /method/0/params/port: missing: a port "
                                "(transparent mode) or listen and upstream (explicit mode)"}));
  EXPECT_EQ(Errors({{"listen", "localhost:80"}, {"upstream", "127.0.0.1:0"}}),
            (std::vector<std::string>{
                "exp.json: /method/0/params/listen: \"localhost:80\": an IP address and port such "
                "as \"127.0.0.1:8080\" or \"[::1]:8080\" (port 0 picks a free port)",
                "exp.json: /method/0/params/upstream: \"127.0.0.1:0\": an IP address and port "
                "1-65535 such as \"127.0.0.1:8080\" or \"[::1]:8080\""}));
  EXPECT_EQ(Errors({{"listen", "127.0.0.1:1"}, {"port", 80}}),
            (std::vector<std::string>{
                "exp.json: /method/0/params/port: 80: absent when listen is set (explicit mode "
                "uses listen and upstream, transparent mode uses port)",
                "exp.json: /method/0/params/upstream: missing: the real server's address such as "
                "\"127.0.0.1:8080\" (required with listen)"}));
  EXPECT_EQ(Errors({{"upstream", "127.0.0.1:80"}, {"address", "::1"}}),
            (std::vector<std::string>{
                "exp.json: /method/0/params/address: \"::1\": an IPv4 address such as "
                "\"10.0.0.1\" (transparent mode is IPv4 only)",
                "exp.json: /method/0/params/upstream: \"127.0.0.1:80\": absent unless listen is "
                "set",
                "exp.json: /method/0/params/address: \"::1\": absent unless port is set"}));
  EXPECT_EQ(Errors({{"port", 80}, {"blackhole", true}, {"reset_percent", 10}, {"netns", "a/b"}}),
            (std::vector<std::string>{
                "exp.json: /method/0/params/netns: \"a/b\": the name of a network namespace in "
                "/run/netns (no \"/\"), or \"\"",
                "exp.json: /method/0/params/reset_percent: 10: 0 when blackhole is true (a "
                "blackholed connection is never reset)"}));
  EXPECT_EQ(Errors({{"backend", "proxy"}, {"port", 80}, {"interface", "eth0"}}),
            (std::vector<std::string>{"exp.json: /method/0/params/interface: \"eth0\": absent "
                                      "with backend proxy (netem only)"}));
}

TEST(LatencyConfigTest, NetemErrorsWordForWord) {
  EXPECT_EQ(Errors({{"backend", "netem"},
                    {"port", 80},
                    {"reset_percent", 5},
                    {"blackhole", true},
                    {"direction", "both"}}),
            (std::vector<std::string>{
                "exp.json: /method/0/params/port: 80: absent with backend netem (proxy only)",
                "exp.json: /method/0/params/interface: missing: a network interface such as "
                "\"eth0\" (required with backend netem)",
                "exp.json: /method/0/params/reset_percent: 5: 0 with backend netem (proxy only)",
                "exp.json: /method/0/params/blackhole: true: false with backend netem (proxy only)",
                "exp.json: /method/0/params/direction: \"both\": \"downstream\" with backend netem "
                "(netem delays what leaves the interface)"}));
}

TEST(LatencyConfigTest, LongValuesAreCutInErrors) {
  EXPECT_EQ(Errors({{"listen", std::string(60, '1')}, {"upstream", "127.0.0.1:1"}}),
            (std::vector<std::string>{
                "exp.json: /method/0/params/listen: \"" + std::string(38, '1') +
                "\xE2\x80\xA6: an IP address and port such as \"127.0.0.1:8080\" or "
                "\"[::1]:8080\" (port 0 picks a free port)"}));
}

TEST(LatencyConfigTest, ParsesIntoTheTypedConfig) {
  auto c = ParseLatencyConfig(Filled({{"port", 8080},
                                      {"delay", "100ms"},
                                      {"jitter", "5ms"},
                                      {"direction", "both"},
                                      {"rate_kbit", 800},
                                      {"seed", 42},
                                      {"in_flight", "reset"},
                                      {"finish_timeout", "2s"}}));
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_TRUE(c->transparent());
  EXPECT_EQ(*c->port, 8080);
  EXPECT_EQ(c->delay, Duration(100));
  EXPECT_EQ(c->jitter, Duration(5));
  EXPECT_EQ(c->direction, LatencyDirection::kBoth);
  EXPECT_EQ(c->rate_kbit, 800u);
  EXPECT_EQ(c->seed, 42u);
  EXPECT_EQ(c->in_flight, InFlightPolicy::kReset);
  EXPECT_EQ(c->finish_timeout, Duration(2000));
  EXPECT_EQ(c->max_connections, 512);
  EXPECT_EQ(c->backend, LatencyBackend::kAuto);
}

TEST(LatencyConfigTest, SocketAddresses) {
  auto v4 = ParseSocketAddress("10.1.2.3:65535");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->ip, "10.1.2.3");
  EXPECT_EQ(v4->port, 65535);
  EXPECT_EQ(v4->ToString(), "10.1.2.3:65535");
  auto v6 = ParseSocketAddress("[::1]:80");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->ipv6);
  EXPECT_EQ(v6->ToString(), "[::1]:80");
  for (const char* bad : {"", "1.2.3.4", "1.2.3.4:", "1.2.3.4:65536", "1.2.3.4:-1", "::1:80",
                          "[::1]80", "[nope]:80", "host:80", "1.2.3.4:80x"}) {
    EXPECT_FALSE(ParseSocketAddress(bad)) << bad;
  }
}

TEST(LatencyConfigTest, BackendResolution) {
  LatencyConfig proxy_only;
  proxy_only.port = 80;
  LatencyConfig with_interface = proxy_only;
  with_interface.interface = "eth0";
  LatencyConfig netem;
  netem.backend = LatencyBackend::kNetem;
  netem.interface = "eth0";

  EXPECT_EQ(*ResolveLatencyBackend(proxy_only, true), LatencyBackend::kProxy);
  EXPECT_EQ(*ResolveLatencyBackend(with_interface, true), LatencyBackend::kNetem);
  EXPECT_EQ(*ResolveLatencyBackend(with_interface, false), LatencyBackend::kProxy);
  with_interface.reset_percent = 5;  // netem cannot reset connections
  EXPECT_EQ(*ResolveLatencyBackend(with_interface, true), LatencyBackend::kProxy);
  EXPECT_EQ(*ResolveLatencyBackend(netem, true), LatencyBackend::kNetem);
  auto refused = ResolveLatencyBackend(netem, false);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(refused.status().message(),
            "backend netem: this kernel has no netem qdisc (CONFIG_NET_SCH_NETEM): `tc qdisc add "
            "dev lo root netem delay 1ms` fails in a scratch network namespace; use \"backend\": "
            "\"proxy\"");
}

TEST(LatencyConfigTest, SeedsAndInstanceNames) {
  EXPECT_EQ(LatencySeedFor("run-1", "latency-0"), LatencySeedFor("run-1", "latency-0"));
  EXPECT_NE(LatencySeedFor("run-1", "latency-0"), LatencySeedFor("run-2", "latency-0"));
  EXPECT_LT(LatencySeedFor("run-1", "latency-0"), uint64_t{1} << 53);
  EXPECT_EQ(LatencyInstanceName("2026-11-21T16:27Z.Run", 3), "ringfence_2026_11_21t16_27z_run_3");
  EXPECT_EQ(LatencyInstanceName(std::string(50, 'a'), 1),
            "ringfence_" + std::string(40, 'a') + "_1");
}

TEST(LatencyConfigTest, RedirectRulesetSkipsTheProxysOwnConnections) {
  const std::string script = RedirectRuleset({"ringfence_r_1", "", 8080, "10.0.0.1", 40000});
  EXPECT_EQ(script,
            "create table inet ringfence_r_1\n"
            "table inet ringfence_r_1 {\n"
            "  set ports {\n    type inet_service\n    flags timeout\n  }\n"
            "  chain output {\n    type nat hook output priority -100; policy accept;\n"
            "    meta mark 0x52460001 accept\n"
            "    meta nfproto ipv4 ip daddr 10.0.0.1 tcp dport @ports redirect to :40000\n  }\n"
            "  chain prerouting {\n    type nat hook prerouting priority -100; policy accept;\n"
            "    meta mark 0x52460001 accept\n"
            "    meta nfproto ipv4 ip daddr 10.0.0.1 tcp dport @ports redirect to :40000\n  }\n"
            "}\n"
            "add element inet ringfence_r_1 ports { 8080 timeout 3s }\n");
  EXPECT_EQ((NftTable{"ringfence_r_1", "ns1"}.ManualUndo()),
            "ip netns exec ns1 nft delete table inet ringfence_r_1");
}

}  // namespace
}  // namespace ringfence

namespace ringfence {
namespace {

TEST(LatencyConfigTest, GenericValidationAppliesTheDeclaredLimits) {
  const FaultDecl& decl = LatencyDeclaration();
  ValidationErrors ok;
  ValidateParams(decl, Filled({{"port", 80}}), "/method/0/params", ok);
  EXPECT_TRUE(ok.empty());
  ValidationErrors errors;
  ValidateParams(decl,
                 {{"port", 70000}, {"delay", "-5ms"}, {"reset_percent", 101}, {"backend", "tc"}},
                 "/method/0/params", errors);
  // The generic validator's texts (core/model/params.cc), in declaration order.
  EXPECT_EQ(errors.Format("exp.json"),
            (std::vector<std::string>{
                "exp.json: /method/0/params/backend: \"tc\": one of auto, proxy, netem",
                "exp.json: /method/0/params/delay: \"-5ms\": a duration such as \"250ms\", "
                "\"30s\", \"2m\" (from 0s to 1m)",
                "exp.json: /method/0/params/port: 70000: an integer from 1 to 65535",
                "exp.json: /method/0/params/reset_percent: 101: a number from 0 to 100"}));
}

}  // namespace
}  // namespace ringfence
