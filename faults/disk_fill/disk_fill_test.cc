#include <gtest/gtest.h>

#include "core/fault/fault.h"
#include "core/sys/system_env.h"
#include "core/sys/system_process_table.h"
#include "faults/disk_fill/disk_fill.h"
#include "faults/disk_fill/fill_plan.h"
#include "tests/support/fake_clock.h"
#include "tests/support/fake_env.h"
#include "tests/support/processes.h"

namespace ringfence {
namespace {

constexpr uint64_t kMiB = 1 << 20;

FsUsage Usage(uint64_t used, uint64_t avail) {
  FsUsage u;
  u.used_bytes = used;
  u.avail_bytes = avail;
  u.block_bytes = 4096;
  return u;
}

std::vector<std::string> ConfigErrors(const nlohmann::json& params) {
  ValidationErrors errors;
  DiskFillFactory().ValidateConfig(params, "/method/0/params", errors);
  return errors.Format("exp.json");
}

TEST(DiskFillTest, IsRegisteredAsHostFault) {
  const FaultFactory* f = FaultRegistry::Global().Find("disk_fill");
  ASSERT_NE(f, nullptr);
  EXPECT_NE(dynamic_cast<const DiskFillFactory*>(f), nullptr);
  EXPECT_EQ(f->Declaration().target_kind, TargetKind::kHost);
}

TEST(DiskFillTest, DeclaresLimits) {
  const FaultDecl& decl = DiskFillFactory().Declaration();
  ASSERT_EQ(decl.params.size(), 5u);
  EXPECT_EQ(decl.params[0].name, "path");
  EXPECT_TRUE(decl.params[0].required);
  EXPECT_EQ(decl.params[1].name, "percent");
  EXPECT_EQ(decl.params[1].min, 1);
  EXPECT_EQ(decl.params[1].max, 100);
  EXPECT_EQ(decl.params[3].name, "reserve");
  EXPECT_EQ(decl.params[3].min, static_cast<double>(kDiskFillSafetyMarginBytes));
  EXPECT_EQ(decl.params[4].default_value, false);
}

TEST(DiskFillTest, ConfigNeedsExactlyOneAmount) {
  EXPECT_EQ(ConfigErrors({{"path", "/mnt/x"}}),
            std::vector<std::string>{"exp.json: /method/0/params: missing percent, size and "
                                     "reserve: exactly one of percent, size, reserve"});
  EXPECT_EQ(ConfigErrors({{"path", "/mnt/x"}, {"percent", 50}, {"size", 1024}}),
            std::vector<std::string>{
                "exp.json: /method/0/params: percent and size: exactly one of percent, size, "
                "reserve"});
  EXPECT_EQ(ConfigErrors({{"path", "/mnt/x"}, {"percent", 50}, {"size", 1}, {"reserve", 1}}),
            std::vector<std::string>{
                "exp.json: /method/0/params: percent, size and reserve: exactly one of percent, "
                "size, reserve"});
  EXPECT_TRUE(ConfigErrors({{"path", "/mnt/x"}, {"reserve", 8 * kMiB}}).empty());
}

TEST(DiskFillTest, ConfigNeedsAnAbsolutePath) {
  EXPECT_EQ(
      ConfigErrors({{"path", "data"}, {"size", 1}}),
      std::vector<std::string>{"exp.json: /method/0/params/path: \"data\": an absolute path"});
}

TEST(DiskFillTest, RefusesASizeAboveWhatIsFreeLessTheMargin) {
  FillRequest r;
  r.mode = FillRequest::Mode::kSize;
  r.size = 61 * kMiB;
  EXPECT_EQ(CheckFillPossible(r, Usage(0, 64 * kMiB), "/mnt/x").message(),
            "disk_fill: size 63963136 bytes is more than the filesystem of /mnt/x can take: "
            "67108864 bytes free, less a safety margin of 4194304 bytes");
  r.size = 60 * kMiB;
  EXPECT_TRUE(CheckFillPossible(r, Usage(0, 64 * kMiB), "/mnt/x").ok());
  EXPECT_EQ(CheckFillPossible(r, Usage(0, 1 * kMiB), "/mnt/x").code(), StatusCode::kInvalidInput);
}

TEST(DiskFillTest, RefusesAPercentThatIsReachedOrEatsTheMargin) {
  FillRequest r;
  r.mode = FillRequest::Mode::kPercent;
  r.percent = 50;
  EXPECT_EQ(CheckFillPossible(r, Usage(40 * kMiB, 24 * kMiB), "/mnt/x").message(),
            "disk_fill: the filesystem of /mnt/x is already 62.5% used, at or above percent 50");
  r.percent = 99;
  EXPECT_EQ(CheckFillPossible(r, Usage(0, 64 * kMiB), "/mnt/x").message(),
            "disk_fill: percent 99 would leave 671088 bytes free on the filesystem of /mnt/x, "
            "less than the safety margin of 4194304 bytes");
  r.percent = 90;
  EXPECT_TRUE(CheckFillPossible(r, Usage(0, 64 * kMiB), "/mnt/x").ok());
}

TEST(DiskFillTest, RefusesAReserveAlreadyReached) {
  FillRequest r;
  r.mode = FillRequest::Mode::kReserve;
  r.reserve = 8 * kMiB;
  EXPECT_EQ(CheckFillPossible(r, Usage(60 * kMiB, 4 * kMiB), "/mnt/x").message(),
            "disk_fill: the filesystem of /mnt/x has 4194304 bytes free, already no more than "
            "reserve 8388608 bytes");
}

TEST(DiskFillTest, LevelIsRecomputedFromTheCurrentUsage) {
  FillRequest r;
  r.mode = FillRequest::Mode::kPercent;
  r.percent = 50;
  EXPECT_EQ(NextFillBytes(r, Usage(0, 64 * kMiB), 0), 32 * kMiB);
  // Someone else wrote 10 MiB meanwhile: only what is still missing.
  EXPECT_EQ(NextFillBytes(r, Usage(20 * kMiB, 44 * kMiB), 10 * kMiB), 12 * kMiB);
  // Already past the level: nothing, never a negative amount.
  EXPECT_EQ(NextFillBytes(r, Usage(40 * kMiB, 24 * kMiB), 10 * kMiB), 0u);
  // The filesystem grew to 128 MiB: the level follows it.
  EXPECT_EQ(NextFillBytes(r, Usage(32 * kMiB, 96 * kMiB), 32 * kMiB), 32 * kMiB);
}

TEST(DiskFillTest, ReserveAndSizeStopAtTheMargin) {
  FillRequest reserve;
  reserve.mode = FillRequest::Mode::kReserve;
  reserve.reserve = 8 * kMiB;
  EXPECT_EQ(NextFillBytes(reserve, Usage(0, 64 * kMiB), 0), 56 * kMiB);
  FillRequest size;
  size.mode = FillRequest::Mode::kSize;
  size.size = 60 * kMiB + 100;
  EXPECT_EQ(NextFillBytes(size, Usage(0, 64 * kMiB), 0), 60 * kMiB);
  EXPECT_EQ(NextFillBytes(size, Usage(10 * kMiB, 54 * kMiB), 10 * kMiB), 50 * kMiB);
  size.size = 1000;
  EXPECT_EQ(NextFillBytes(size, Usage(0, 64 * kMiB), 0), 1000u);
  EXPECT_EQ(NextFillBytes(size, Usage(0, 64 * kMiB), 1000), 0u);
  // The filesystem shrank under the margin: nothing more.
  EXPECT_EQ(NextFillBytes(size, Usage(0, 3 * kMiB), 0), 0u);
}

TEST(DiskFillTest, PlanUndoNamesTheFileWithoutCreatingIt) {
  testing::TempDir dir;
  FaultStep step;
  step.name = "fill-data";
  step.type = "disk_fill";
  step.params = {{"path", dir.path() + "/"}, {"size", 4096}, {"allow_root_fs", false}};
  auto table = MakeSystemProcessTable();
  testing::FakeClock clock;
  StopSource stop;
  SystemEnv system_env{*table, clock};
  FaultEnv env{system_env, stop, "run/42 x"};
  auto fault = DiskFillFactory().Create(step, TargetSpec{});
  Target host{"local", {}, "host local"};
  auto undo = fault->PlanUndo(env, host);
  ASSERT_TRUE(undo.ok()) << undo.status().message();
  const std::string file = undo->data["file"].get<std::string>();
  EXPECT_EQ(file.rfind(dir.path() + "/.ringfence-fill-run_42_x-", 0), 0u) << file;
  EXPECT_EQ(undo->data["path"], dir.path());
  EXPECT_EQ(undo->manual_undo, "rm -f '" + file + "'");
  EXPECT_EQ(undo->fault_type, "disk_fill");
  EXPECT_EQ(undo->fault_name, "fill-data");
  EXPECT_EQ(undo->target, "host local");
  EXPECT_EQ(testing::ReadFile(file), "");
  EXPECT_NE(::access(file.c_str(), F_OK), 0);
}

TEST(DiskFillTest, RevertOfAMissingFileIsOkAndACorruptRecordIsNot) {
  auto table = MakeSystemProcessTable();
  testing::FakeClock clock;
  StopSource stop;
  SystemEnv system_env{*table, clock};
  FaultEnv env{system_env, stop};
  UndoRecord undo;
  undo.fault_type = "disk_fill";
  undo.data = {{"file", "/nonexistent-ringfence/.ringfence-fill-x-0"}};
  EXPECT_TRUE(DiskFillFactory().Revert(env, undo).ok());
  undo.data = nlohmann::json::object();
  Status s = DiskFillFactory().Revert(env, undo);
  EXPECT_EQ(s.code(), StatusCode::kInvalidInput);
  EXPECT_EQ(s.message(), "disk_fill: undo record has no file: {}");
}

// disk_fill driven through the fake Env alone: a 1 GiB filesystem mounted at /mnt/data (its
// device is not the root's), nothing real touched.
class DiskFillFakeEnvTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kCapacity = 1024 * kMiB;

  void SetUp() override { files_.AddMount("/mnt/data", kCapacity, 100 * kMiB); }

  std::unique_ptr<Fault> Create(nlohmann::json params) {
    FaultStep step;
    step.name = "fill";
    step.type = "disk_fill";
    params["path"] = "/mnt/data";
    params["allow_root_fs"] = false;
    step.params = params;
    return DiskFillFactory().Create(step, TargetSpec{});
  }

  // Prepare, PlanUndo and Inject; the undo record.
  UndoRecord Inject(Fault& fault) {
    EXPECT_TRUE(fault.Prepare(env_, {host_}).ok());
    auto undo = fault.PlanUndo(env_, host_);
    EXPECT_TRUE(undo.ok());
    Status injected = fault.Inject(env_, host_, *undo);
    EXPECT_TRUE(injected.ok()) << injected.message();
    return *undo;
  }

  FsUsage UsageNow() { return *ReadFsUsage(files_, "/mnt/data"); }

  testing::FakeEnv system_env_;
  testing::FakeFileSystem& files_ = system_env_.fake_files();
  StopSource stop_;
  FaultEnv env_{system_env_, stop_, "run1"};
  Target host_{"local", {}, "host local"};
};

TEST_F(DiskFillFakeEnvTest, FillsBySizeInOneNewFileAndRevertRemovesIt) {
  auto fault = Create({{"size", 64 * kMiB}});
  const UndoRecord undo = Inject(*fault);
  const std::string file = undo.data["file"].get<std::string>();
  EXPECT_EQ(file.rfind("/mnt/data/.ringfence-fill-run1-", 0), 0u) << file;
  EXPECT_EQ(files_.Mode(file), 0600u);
  EXPECT_EQ(files_.Allocated(file), 64 * kMiB);
  EXPECT_EQ(files_.log(), (std::vector<std::string>{"create " + file + " 0600",
                                                    "allocate " + file + " 67108864"}));
  EXPECT_EQ(UsageNow().used_bytes, 164 * kMiB);

  const nlohmann::json observed = fault->Observe(env_);
  EXPECT_EQ(observed["file"], file);
  EXPECT_EQ(observed["bytes_written"], 64 * kMiB);
  EXPECT_EQ(observed["method"], "fallocate");
  EXPECT_EQ(observed["usage_before"]["used_bytes"], 100 * kMiB);
  EXPECT_EQ(observed["usage_peak"]["used_bytes"], 164 * kMiB);
  EXPECT_EQ(observed["margin"]["shrinks"], 0);

  const Verification before = DiskFillFactory().Verify(env_, undo);
  EXPECT_FALSE(before.verified);
  EXPECT_EQ(before.found, "fill file " + file + " still exists (67108864 bytes allocated)");

  ASSERT_TRUE(DiskFillFactory().Revert(env_, undo).ok());
  EXPECT_FALSE(files_.Exists(file));
  EXPECT_EQ(files_.log().back(), "remove " + file);
  const Verification after = DiskFillFactory().Verify(env_, undo);
  EXPECT_TRUE(after.verified);
  EXPECT_EQ(after.found, "fill file " + file + " is gone; 968884224 bytes available on /mnt/data");
  // Idempotent: the file already gone is Ok.
  EXPECT_TRUE(DiskFillFactory().Revert(env_, undo).ok());
}

TEST_F(DiskFillFakeEnvTest, FillsToAPercentInChunks) {
  auto fault = Create({{"percent", 50}});
  const UndoRecord undo = Inject(*fault);
  EXPECT_EQ(UsageNow().used_bytes, 512 * kMiB);
  // 412 MiB in 64 MiB steps, the filesystem measured before each.
  const std::string file = undo.data["file"].get<std::string>();
  int allocations = 0;
  for (const std::string& line : files_.log()) allocations += line.rfind("allocate ", 0) == 0;
  EXPECT_EQ(allocations, 7);
  EXPECT_EQ(files_.Allocated(file), 412 * kMiB);
  EXPECT_EQ(fault->Observe(env_)["usage_now"]["percent"], 50.0);
  ASSERT_TRUE(DiskFillFactory().Revert(env_, undo).ok());
  EXPECT_EQ(UsageNow().used_bytes, 100 * kMiB);
}

TEST_F(DiskFillFakeEnvTest, WritesZerosWhereTheFilesystemHasNoFallocate) {
  files_.DisableAllocate("/mnt/data");
  auto fault = Create({{"size", 2 * kMiB}});
  const UndoRecord undo = Inject(*fault);
  const std::string file = undo.data["file"].get<std::string>();
  EXPECT_EQ(files_.log(),
            (std::vector<std::string>{"create " + file + " 0600", "write " + file + " 1048576",
                                      "write " + file + " 1048576", "sync " + file}));
  EXPECT_EQ(files_.Content(file), std::string(2 * kMiB, '\0'));
  EXPECT_EQ(fault->Observe(env_)["method"], "write");
  ASSERT_TRUE(DiskFillFactory().Revert(env_, undo).ok());
  EXPECT_FALSE(files_.Exists(file));
}

TEST_F(DiskFillFakeEnvTest, GivesSpaceBackWhenSomeoneElseEatsTheMargin) {
  auto fault = Create({{"reserve", 8 * kMiB}});
  const UndoRecord undo = Inject(*fault);
  const std::string file = undo.data["file"].get<std::string>();
  EXPECT_EQ(UsageNow().avail_bytes, 8 * kMiB);
  // Another writer takes 6 MiB: 2 MiB are left, 2 MiB less than the margin.
  files_.SetOtherUse("/mnt/data", 106 * kMiB);
  const nlohmann::json observed = fault->Observe(env_);
  EXPECT_GE(observed["margin"]["shrinks"].get<int>(), 1);
  EXPECT_EQ(observed["margin"]["shrunk_bytes"], 2 * kMiB);
  EXPECT_EQ(UsageNow().avail_bytes, kDiskFillSafetyMarginBytes);
  EXPECT_EQ(files_.Size(file), kCapacity - 100 * kMiB - 8 * kMiB - 2 * kMiB);
  ASSERT_TRUE(DiskFillFactory().Revert(env_, undo).ok());
}

TEST_F(DiskFillFakeEnvTest, RefusesTheRootFilesystemAReadOnlyOneAndAMissingPath) {
  files_.AddDirectory("/var/tmp");
  FaultStep step;
  step.name = "fill";
  step.type = "disk_fill";
  step.params = {{"path", "/var/tmp"}, {"size", 4096}, {"allow_root_fs", false}};
  auto on_root = DiskFillFactory().Create(step, TargetSpec{});
  EXPECT_EQ(on_root->Prepare(env_, {host_}).message(),
            "disk_fill: /var/tmp is on the root filesystem; set allow_root_fs: true to fill it");
  step.params["path"] = "/nonexistent";
  EXPECT_EQ(DiskFillFactory().Create(step, TargetSpec{})->Prepare(env_, {host_}).message(),
            "disk_fill: path /nonexistent does not exist");
  files_.SetReadOnly("/mnt/data");
  EXPECT_EQ(Create({{"size", 4096}})->Prepare(env_, {host_}).message(),
            "disk_fill: the filesystem of /mnt/data is mounted read-only");
  EXPECT_TRUE(files_.log().empty());
}

TEST_F(DiskFillFakeEnvTest, NeverReusesAPlantedFile) {
  auto fault = Create({{"size", 4096}});
  ASSERT_TRUE(fault->Prepare(env_, {host_}).ok());
  auto undo = fault->PlanUndo(env_, host_);
  ASSERT_TRUE(undo.ok());
  const std::string file = (*undo).data["file"].get<std::string>();
  files_.AddFile(file, "planted");
  const Status s = fault->Inject(env_, host_, *undo);
  EXPECT_EQ(s.message(), "disk_fill: create " + file + ": File exists");
  EXPECT_EQ(files_.Content(file), "planted");
}

}  // namespace
}  // namespace ringfence
