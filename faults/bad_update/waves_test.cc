#include "faults/bad_update/waves.h"

#include <gtest/gtest.h>

#include "core/sys/system_file_system.h"

namespace ringfence {
namespace {

std::vector<FleetHost> Fleet(int n, const std::vector<std::string>& zones = {}) {
  std::vector<FleetHost> fleet;
  for (int i = 0; i < n; ++i) {
    FleetHost h;
    h.name = "h" + std::to_string(i);
    h.path = "/tmp/h" + std::to_string(i);
    h.health_url = "http://127.0.0.1:1/health";
    if (!zones.empty()) h.tags["zone"] = zones[i % zones.size()];
    fleet.push_back(h);
  }
  return fleet;
}

std::vector<WaveSize> Waves(const std::vector<std::string>& texts) {
  std::vector<WaveSize> out;
  for (const auto& t : texts) {
    auto w = ParseWaveSize(t);
    EXPECT_TRUE(w.ok()) << t;
    if (w.ok()) out.push_back(*w);
  }
  return out;
}

TEST(WavesTest, ParsesCountsAndPercentages) {
  auto count = ParseWaveSize("3");
  ASSERT_TRUE(count.ok());
  EXPECT_FALSE(count->percent);
  EXPECT_EQ(count->value, 3);
  auto percent = ParseWaveSize("12.5%");
  ASSERT_TRUE(percent.ok());
  EXPECT_TRUE(percent->percent);
  EXPECT_EQ(percent->value, 12.5);
  for (const char* bad : {"0", "0%", "101%", "-5%", "1.5", "", "%", "ten", "5 %", ".5%"}) {
    auto w = ParseWaveSize(bad);
    ASSERT_FALSE(w.ok()) << bad;
    EXPECT_EQ(w.status().message(), kWaveAllowed);
  }
}

TEST(WavesTest, PercentagesRoundUpAndAreAtLeastOne) {
  EXPECT_EQ(CumulativeHosts({true, 10}, 20), 2);
  EXPECT_EQ(CumulativeHosts({true, 50}, 20), 10);
  EXPECT_EQ(CumulativeHosts({true, 100}, 20), 20);
  EXPECT_EQ(CumulativeHosts({true, 10}, 25), 3);  // 2.5 → 3
  EXPECT_EQ(CumulativeHosts({true, 1}, 20), 1);   // 0.2 → at least 1
  EXPECT_EQ(CumulativeHosts({false, 4}, 20), 4);
}

TEST(WavesTest, TheChannelFileRolloutOfTwenty) {
  auto plan = PlanWaves(Waves({"1", "10%", "50%", "100%"}), Fleet(20), "");
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_EQ(plan->cumulative, (std::vector<int>{1, 2, 10, 20}));
  EXPECT_EQ(plan->waves[0], (std::vector<int>{0}));
  EXPECT_EQ(plan->waves[1], (std::vector<int>{1}));
  EXPECT_EQ(plan->waves[2].size(), 8u);
  EXPECT_EQ(plan->waves[3].size(), 10u);
}

TEST(WavesTest, WavesMustGrow) {
  auto plan = PlanWaves(Waves({"2", "5%", "100%"}), Fleet(20), "");
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().message(),
            "wave 2 (1 host) does not grow: it must expose more hosts than wave 1 (2)");
  plan = PlanWaves(Waves({"3", "3"}), Fleet(20), "");
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().message(),
            "wave 2 (3 hosts) does not grow: it must expose more hosts than wave 1 (3)");
}

// Issue 11: the default waves on 10 hosts round to 1, 1, 5, 10; the second wave asks for no
// smaller a share (10 % vs 1 of 10) and is merged with a note instead of refused.
TEST(WavesTest, WavesThatRoundToNoGrowthOnASmallFleetAreMerged) {
  auto plan = PlanWaves(Waves({"1", "10%", "50%", "100%"}), Fleet(10), "");
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_EQ(plan->cumulative, (std::vector<int>{1, 5, 10}));
  EXPECT_EQ(plan->waves.size(), 3u);
  EXPECT_EQ(plan->waves[1].size(), 4u);
  EXPECT_EQ(plan->notes, (std::vector<std::string>{
                             "wave 2 (10% of 10 hosts) rounds to 1 host, no more than wave 1 (1): "
                             "merged into it"}));
  // A wave that asks for no more than the one before it is still refused.
  EXPECT_FALSE(PlanWaves(Waves({"50%", "10%"}), Fleet(10), "").ok());
  EXPECT_TRUE(PlanWaves(Waves({"2", "10%", "100%"}), Fleet(20), "").ok());
  EXPECT_FALSE(PlanWaves(Waves({"3", "2"}), Fleet(10), "").ok());
}

TEST(WavesTest, AWaveLargerThanTheFleet) {
  auto plan = PlanWaves(Waves({"1", "6"}), Fleet(5), "");
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().message(), "wave 2 needs 6 hosts; the fleet has 5");
}

TEST(WavesTest, StratificationPutsEveryStratumInTheCanary) {
  // Zones a, a, b, b, c, c, ... in file order would put two "a" hosts first without strata.
  std::vector<FleetHost> fleet = Fleet(6);
  const char* zones[] = {"a", "a", "b", "b", "c", "c"};
  for (int i = 0; i < 6; ++i) fleet[i].tags["zone"] = zones[i];
  auto plan = PlanWaves(Waves({"3", "100%"}), fleet, "zone");
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_EQ(plan->waves[0], (std::vector<int>{0, 2, 4}));
  EXPECT_EQ(plan->waves[1], (std::vector<int>{1, 3, 5}));
}

TEST(WavesTest, ACanarySmallerThanTheStrata) {
  auto plan = PlanWaves(Waves({"1", "100%"}), Fleet(6, {"a", "b", "c"}), "zone");
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().message(),
            "the first wave (1 host) is smaller than the 3 strata of tag zone");
}

TEST(WavesTest, HostsFileErrors) {
  EXPECT_EQ(ParseHostsText("[]", "h.json").status().message(),
            "h.json: expected a non-empty array of hosts");
  EXPECT_EQ(
      ParseHostsText(R"([{"name":"a","health_url":"http://x"}])", "h.json").status().message(),
      "h.json: /0/path: missing: a non-empty string");
  EXPECT_EQ(ParseHostsText(R"([{"name":"a","path":"/p","health_url":"u"},)"
                           R"({"name":"a","path":"/q","health_url":"u"}])",
                           "h.json")
                .status()
                .message(),
            "h.json: /1/name: \"a\": a name not used by an earlier host");
  auto ok = ParseHostsText(
      R"([{"name":"a","path":"/p","health_url":"u","tags":{"zone":"x"},"vars":{"port":"1"}}])",
      "h.json");
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ((*ok)[0].tags.at("zone"), "x");
  EXPECT_EQ((*ok)[0].vars.at("port"), "1");
  EXPECT_EQ((*ok)[0].host, "local");
}

// Issue 11: a hosts file is checked before it is read, and parsed with bounded nesting.
TEST(WavesTest, HostsFilesThatAreNotRegularOrTooDeepAreRefused) {
  EXPECT_EQ(ReadHostsFile(SystemFileSystem(), "/dev/zero").status().message(),
            "/dev/zero: a character device: a regular JSON file");
  EXPECT_EQ(ReadHostsFile(SystemFileSystem(), "/nonexistent/h.json").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(ParseHostsText(std::string(100000, '['), "h.json").status().message(),
            "h.json: nesting deeper than 64 levels");
  EXPECT_EQ(ParseHostsText("[1e400]", "h.json").status().message(),
            "h.json: not JSON (number overflow parsing '1e400')");
}

}  // namespace
}  // namespace ringfence
