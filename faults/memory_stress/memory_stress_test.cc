#include <gtest/gtest.h>

#include "core/fault/fault.h"
#include "core/sys/system_file_system.h"
#include "faults/memory_stress/memory_stress.h"
#include "tests/support/fake_env.h"

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

// memory_stress driven through the fake Env alone: /proc/meminfo is a file of the fake file
// system, the worker an entry of the fake process table.
class MemoryStressFakeEnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    system_env_.fake_files().AddDirectory("/run");
    // 8 GiB, 4 GiB of them available.
    system_env_.fake_files().AddFile("/proc/meminfo",
                                     "MemTotal:        8388608 kB\nMemFree:         1048576 kB\n"
                                     "MemAvailable:    4194304 kB\n");
  }

  std::unique_ptr<Fault> Create(nlohmann::json params) {
    FaultStep step;
    step.name = "hog";
    step.type = "memory_stress";
    step.params = std::move(params);
    return MemoryStressFactory().Create(step, TargetSpec{});
  }

  testing::FakeEnv system_env_;
  StopSource stop_;
  FaultEnv env_{system_env_, stop_, "run1"};
  Target host_{"local", {}, "host local"};
};

TEST_F(MemoryStressFakeEnvTest, StartsOneRecordedWorkerForAPercentAndRevertKillsIt) {
  auto fault = Create({{"percent", 25}});
  ASSERT_TRUE(fault->Prepare(env_, {host_}).ok());
  auto undo = fault->PlanUndo(env_, host_);
  ASSERT_TRUE(undo.ok());
  const std::string file = undo->data["workers_file"].get<std::string>();
  EXPECT_TRUE(undo->data["cgroup"].is_null());
  ASSERT_TRUE(fault->Inject(env_, host_, *undo).ok());

  const auto started = system_env_.fake_workers().started();
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(started[0].setup.comm, "ringfence-mem");
  EXPECT_EQ(started[0].setup.oom_score_adj, 1000);
  EXPECT_EQ(started[0].setup.cgroup_dir, "");
  EXPECT_EQ(system_env_.fake_files().Content(file), "5000 500000\n");

  system_env_.fake_workers().SetSample(5000, {0, 512 * kMiB, kGiB, 'S'});
  const nlohmann::json observed = fault->Observe(env_);
  EXPECT_EQ(observed["requested_bytes"], kGiB);  // 25 % of MemAvailable
  EXPECT_EQ(observed["pid"], 5000);
  EXPECT_EQ(observed["rss_bytes"], 512 * kMiB);
  EXPECT_EQ(observed["rss_peak_bytes"], kGiB);

  ASSERT_TRUE(MemoryStressFactory().Revert(env_, *undo).ok());
  EXPECT_EQ(system_env_.fake_processes().signals(),
            (std::vector<testing::FakeProcessTable::SignalCall>{{5000, 500000, SIGKILL}}));
  EXPECT_FALSE(system_env_.fake_files().Exists(file));
  EXPECT_TRUE(MemoryStressFactory().Verify(env_, *undo).verified);
  // Once gone, the worker holds nothing; the peak stays.
  const nlohmann::json after = fault->Observe(env_);
  EXPECT_EQ(after["rss_bytes"], 0);
  EXPECT_EQ(after["rss_peak_bytes"], kGiB);
}

TEST_F(MemoryStressFakeEnvTest, RefusesWhatMemAvailableCannotGiveBeforeAnyWorker) {
  auto fault = Create({{"size", 4 * kGiB}});
  EXPECT_EQ(fault->Prepare(env_, {host_}).message(),
            "memory_stress: size 4294967296 bytes is more than MemAvailable (4294967296 bytes) "
            "less a safety margin of 429496729 bytes");
  system_env_.fake_files().Fail("/proc/meminfo", ENOENT);
  EXPECT_EQ(Create({{"size", kGiB}})->Prepare(env_, {host_}).message(),
            "memory_stress: cannot read /proc/meminfo");
  EXPECT_TRUE(system_env_.fake_workers().started().empty());
}

}  // namespace
}  // namespace ringfence
