#include <gtest/gtest.h>

#include "core/fault/fault.h"
#include "core/sys/system_file_system.h"
#include "faults/memory_stress/memory_stress.h"

namespace ringfence {
namespace {

constexpr uint64_t kMiB = 1 << 20;
constexpr uint64_t kGiB = 1 << 30;

std::vector<std::string> ConfigErrors(const nlohmann::json& params) {
  ValidationErrors errors;
  MemoryStressFactory().ValidateConfig(params, "/method/0/params", errors);
  return errors.Format("exp.json");
}

TEST(MemoryStressTest, IsRegisteredAsHostFault) {
  const FaultFactory* f = FaultRegistry::Global().Find("memory_stress");
  ASSERT_NE(f, nullptr);
  EXPECT_NE(dynamic_cast<const MemoryStressFactory*>(f), nullptr);
  EXPECT_EQ(f->Declaration().target_kind, TargetKind::kHost);
}

TEST(MemoryStressTest, DeclaresLimits) {
  const FaultDecl& decl = MemoryStressFactory().Declaration();
  ASSERT_EQ(decl.params.size(), 4u);
  EXPECT_EQ(decl.params[0].name, "size");
  EXPECT_EQ(decl.params[0].min, 4096);
  EXPECT_EQ(decl.params[1].name, "percent");
  EXPECT_EQ(decl.params[1].min, 1);
  EXPECT_EQ(decl.params[1].max, 100);
  EXPECT_EQ(decl.params[2].name, "rate");
  EXPECT_EQ(decl.params[3].name, "mlock");
  EXPECT_EQ(decl.params[3].default_value, false);
}

TEST(MemoryStressTest, ConfigNeedsExactlyOneAmount) {
  EXPECT_EQ(ConfigErrors({{"mlock", false}}),
            std::vector<std::string>{
                "exp.json: /method/0/params: missing size and percent: exactly one of size, "
                "percent"});
  EXPECT_EQ(ConfigErrors({{"size", 4096}, {"percent", 5}, {"mlock", false}}),
            std::vector<std::string>{
                "exp.json: /method/0/params: size and percent: exactly one of size, percent"});
  EXPECT_TRUE(ConfigErrors({{"size", 4096}, {"mlock", false}}).empty());
}

TEST(MemoryStressTest, MarginIsTheLargerOf128MiBAnd5PercentOfMemory) {
  EXPECT_EQ(MemoryStressMarginBytes({1 * kGiB, 1 * kGiB}), 128 * kMiB);
  EXPECT_EQ(MemoryStressMarginBytes({20 * kGiB, 1 * kGiB}), 1 * kGiB);
}

TEST(MemoryStressTest, ConfigTakesItsDefaultsFromTheDeclaration) {
  const MemoryStressConfig config = MemoryStressConfig::FromParams({{"size", 4096}});
  EXPECT_EQ(config.size, 4096u);
  EXPECT_FALSE(config.percent);
  EXPECT_EQ(config.rate, 0u);
  EXPECT_FALSE(config.mlock);
  const MemoryStressConfig given =
      MemoryStressConfig::FromParams({{"percent", 12.5}, {"rate", 8192}, {"mlock", true}});
  EXPECT_FALSE(given.size);
  EXPECT_EQ(given.percent, 12.5);
  EXPECT_EQ(given.rate, 8192u);
  EXPECT_TRUE(given.mlock);
}

TEST(MemoryStressTest, RefusesMoreThanPhysicalMemoryOrAvailableLessTheMargin) {
  const MemInfo info{4 * kGiB, 2 * kGiB};  // margin 204.8 MiB
  const auto CheckMemoryRequest = [](const nlohmann::json& params, const MemInfo& info) {
    return ringfence::CheckMemoryRequest(MemoryStressConfig::FromParams(params), info);
  };
  EXPECT_EQ(CheckMemoryRequest({{"size", 5 * kGiB}}, info).status().message(),
            "memory_stress: size 5368709120 bytes is more than the physical memory of this host "
            "(4294967296 bytes)");
  EXPECT_EQ(CheckMemoryRequest({{"size", 2 * kGiB - 100 * kMiB}}, info).status().message(),
            "memory_stress: size 2042626048 bytes is more than MemAvailable (2147483648 bytes) "
            "less a safety margin of 214748364 bytes");
  EXPECT_EQ(CheckMemoryRequest({{"percent", 95}}, info).status().message(),
            "memory_stress: percent 95 of MemAvailable is 2040107008 bytes, more than "
            "MemAvailable (2147483648 bytes) less a safety margin of 214748364 bytes");
  EXPECT_EQ(*CheckMemoryRequest({{"size", 1 * kGiB}}, info), 1 * kGiB);
  EXPECT_EQ(*CheckMemoryRequest({{"percent", 50}}, info), 1 * kGiB);
  EXPECT_EQ(*CheckMemoryRequest({{"percent", 12.5}}, info), 256 * kMiB);
}

TEST(MemoryStressTest, ReadsMeminfo) {
  auto info = ReadMemInfo(SystemFileSystem());
  ASSERT_TRUE(info.ok()) << info.status().message();
  EXPECT_GT(info->total_bytes, 0u);
  EXPECT_LE(info->available_bytes, info->total_bytes);
}

}  // namespace
}  // namespace ringfence
