#include <fcntl.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/fault/fault.h"
#include "core/sys/system_clock.h"
#include "core/sys/system_env.h"
#include "core/sys/system_process_table.h"
#include "faults/disk_fill/disk_fill.h"
#include "faults/disk_fill/fill_plan.h"
#include "tests/support/processes.h"

namespace ringfence {
namespace {

using testing::Eventually;

constexpr uint64_t kMiB = 1 << 20;

// A 64 MiB tmpfs mounted on a temp dir for one test, unmounted (and the dir removed) after it,
// even when the test fails.
class DiskFillIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::mount("tmpfs", dir_.path().c_str(), "tmpfs", 0, "size=64m"), 0)
        << "mount tmpfs: " << std::strerror(errno);
    mounted_ = true;
    mount_ = dir_.path();
  }
  void TearDown() override {
    if (mounted_ && ::umount2(mount_.c_str(), 0) != 0) ::umount2(mount_.c_str(), MNT_DETACH);
  }

  struct statvfs Vfs() {
    struct statvfs v {};
    EXPECT_EQ(::statvfs(mount_.c_str(), &v), 0);
    return v;
  }
  uint64_t UsedBytes() {
    auto v = Vfs();
    return (v.f_blocks - v.f_bfree) * v.f_frsize;
  }
  uint64_t AvailBytes() {
    auto v = Vfs();
    return v.f_bavail * v.f_frsize;
  }
  size_t Entries() {
    size_t n = 0;
    for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(mount_)) ++n;
    return n;
  }

  std::unique_ptr<Fault> Make(nlohmann::json params) {
    params["path"] = mount_;
    if (!params.contains("allow_root_fs")) params["allow_root_fs"] = false;
    FaultStep step;
    step.name = "fill";
    step.type = "disk_fill";
    step.params = params;
    return factory_.Create(step, TargetSpec{});
  }

  // Prepare, PlanUndo, Inject as the engine does; the undo record in *undo.
  Status Run(Fault& fault, UndoRecord* undo) {
    Status s = fault.Prepare(env_, {host_});
    if (!s.ok()) return s;
    auto planned = fault.PlanUndo(env_, host_);
    if (!planned.ok()) return planned.status();
    *undo = *planned;
    return fault.Inject(env_, host_, *undo);
  }

  testing::TempDir dir_;
  std::string mount_;
  bool mounted_ = false;
  DiskFillFactory factory_;
  std::unique_ptr<ProcessTable> table_ = MakeSystemProcessTable();
  StopSource stop_;
  SystemEnv system_env_{*table_};
  FaultEnv env_{system_env_, stop_, "disk-it-" + std::to_string(::getpid())};
  Target host_{"local", {}, "host local"};
};

TEST_F(DiskFillIntegrationTest, FillsToAPercentAndRevertGivesItBack) {
  const uint64_t before = UsedBytes();
  auto fault = Make({{"percent", 50}});
  UndoRecord undo;
  ASSERT_TRUE(Run(*fault, &undo).ok());
  const uint64_t capacity = UsedBytes() + AvailBytes();
  // 50 % as df shows it, to the page.
  EXPECT_GE(UsedBytes(), capacity / 2);
  EXPECT_LT(UsedBytes(), capacity / 2 + 4096);
  nlohmann::json observed = fault->Observe(env_);
  EXPECT_EQ(observed["usage_before"]["used_bytes"], before);
  EXPECT_EQ(observed["usage_peak"]["used_bytes"], UsedBytes());
  EXPECT_EQ(observed["usage_now"]["percent"], 50);
  EXPECT_EQ(observed["bytes_written"], UsedBytes() - before);
  EXPECT_EQ(observed["method"], "fallocate");
  EXPECT_EQ(observed["file"], undo.data["file"]);

  ASSERT_TRUE(factory_.Revert(env_, undo).ok());
  EXPECT_EQ(UsedBytes(), before);
  EXPECT_EQ(Entries(), 0u);
  observed = fault->Observe(env_);
  EXPECT_EQ(observed["usage_now"]["used_bytes"], before);
  EXPECT_EQ(observed["usage_peak"]["percent"], 50);
}

TEST_F(DiskFillIntegrationTest, FillsBySize) {
  const uint64_t before = UsedBytes();
  auto fault = Make({{"size", 16 * kMiB}});
  UndoRecord undo;
  ASSERT_TRUE(Run(*fault, &undo).ok());
  EXPECT_EQ(UsedBytes(), before + 16 * kMiB);
  EXPECT_EQ(std::filesystem::file_size(undo.data["file"].get<std::string>()), 16 * kMiB);
  ASSERT_TRUE(factory_.Revert(env_, undo).ok());
  EXPECT_EQ(UsedBytes(), before);
}

TEST_F(DiskFillIntegrationTest, FillsUntilAReserveIsLeft) {
  auto fault = Make({{"reserve", 8 * kMiB}});
  UndoRecord undo;
  ASSERT_TRUE(Run(*fault, &undo).ok());
  EXPECT_EQ(AvailBytes(), 8 * kMiB);
  ASSERT_TRUE(factory_.Revert(env_, undo).ok());
  EXPECT_EQ(AvailBytes(), 64 * kMiB);
}

TEST_F(DiskFillIntegrationTest, TakesIntoAccountWhatIsAlreadyThere) {
  // Someone else's 20 MiB: the fill adds only what is missing to 50 %.
  {
    auto other = Make({{"size", 20 * kMiB}});
    UndoRecord other_undo;
    ASSERT_TRUE(Run(*other, &other_undo).ok());
    auto fault = Make({{"percent", 50}});
    UndoRecord undo;
    ASSERT_TRUE(Run(*fault, &undo).ok());
    EXPECT_EQ(fault->Observe(env_)["bytes_written"], 12 * kMiB);
    EXPECT_EQ(UsedBytes(), 32 * kMiB);
    ASSERT_TRUE(factory_.Revert(env_, undo).ok());
    ASSERT_TRUE(factory_.Revert(env_, other_undo).ok());
  }
  EXPECT_EQ(Entries(), 0u);
}

TEST_F(DiskFillIntegrationTest, RefusesMoreThanTheFilesystemHasAndWritesNothing) {
  const uint64_t before = UsedBytes();
  auto fault = Make({{"size", 100 * kMiB}});
  Status s = fault->Prepare(env_, {host_});
  EXPECT_EQ(s.code(), StatusCode::kInvalidInput);
  EXPECT_EQ(s.message(), "disk_fill: size 104857600 bytes is more than the filesystem of " +
                             mount_ + " can take: 67108864 bytes free, less a safety margin of " +
                             "4194304 bytes");
  // Inject checks again (the filesystem may change after Prepare) and still writes nothing.
  auto undo = fault->PlanUndo(env_, host_);
  ASSERT_TRUE(undo.ok());
  EXPECT_EQ(fault->Inject(env_, host_, *undo).message(), s.message());
  EXPECT_EQ(UsedBytes(), before);
  EXPECT_EQ(Entries(), 0u);
}

TEST_F(DiskFillIntegrationTest, RefusesAPercentThatLeavesLessThanTheMargin) {
  auto fault = Make({{"percent", 95}});
  Status s = fault->Prepare(env_, {host_});
  EXPECT_EQ(s.message(),
            "disk_fill: percent 95 would leave 3355443 bytes free on the "
            "filesystem of " +
                mount_ + ", less than the safety margin of 4194304 bytes");
  EXPECT_EQ(Entries(), 0u);
}

TEST_F(DiskFillIntegrationTest, RefusesTheRootFilesystem) {
  FaultStep step;
  step.name = "fill";
  step.type = "disk_fill";
  step.params = {{"path", "/"}, {"size", 4096}, {"allow_root_fs", false}};
  auto fault = factory_.Create(step, TargetSpec{});
  Status s = fault->Prepare(env_, {host_});
  EXPECT_EQ(s.code(), StatusCode::kInvalidInput);
  EXPECT_EQ(s.message(),
            "disk_fill: / is on the root filesystem; set allow_root_fs: true to fill it");
  // A directory on the root filesystem is refused alike (same st_dev as /).
  step.params["path"] = dir_.path() + "/..";
  EXPECT_EQ(factory_.Create(step, TargetSpec{})->Prepare(env_, {host_}).message(),
            "disk_fill: " + dir_.path() +
                "/.. is on the root filesystem; set allow_root_fs: true to fill it");
}

TEST_F(DiskFillIntegrationTest, RefusesAMissingPathAFileAndAReadOnlyFilesystem) {
  FaultStep step;
  step.name = "fill";
  step.type = "disk_fill";
  step.params = {{"path", mount_ + "/nope"}, {"size", 4096}, {"allow_root_fs", false}};
  Status s = factory_.Create(step, TargetSpec{})->Prepare(env_, {host_});
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "disk_fill: path " + mount_ + "/nope does not exist");

  testing::TempDir other;
  other.Write("file", "x");
  step.params["path"] = other.File("file");
  EXPECT_EQ(factory_.Create(step, TargetSpec{})->Prepare(env_, {host_}).message(),
            "disk_fill: path " + other.File("file") + " is not a directory");

  ASSERT_EQ(::mount(nullptr, mount_.c_str(), nullptr, MS_REMOUNT | MS_RDONLY, "size=64m"), 0);
  step.params["path"] = mount_;
  EXPECT_EQ(factory_.Create(step, TargetSpec{})->Prepare(env_, {host_}).message(),
            "disk_fill: the filesystem of " + mount_ + " is mounted read-only");
}

TEST_F(DiskFillIntegrationTest, RevertTwiceAndRevertOfAFileAlreadyGoneAreOk) {
  auto fault = Make({{"size", 8 * kMiB}});
  UndoRecord undo;
  ASSERT_TRUE(Run(*fault, &undo).ok());
  ASSERT_TRUE(factory_.Revert(env_, undo).ok());
  EXPECT_TRUE(factory_.Revert(env_, undo).ok());

  auto again = Make({{"size", 8 * kMiB}});
  UndoRecord undo2;
  ASSERT_TRUE(Run(*again, &undo2).ok());
  ASSERT_EQ(::unlink(undo2.data["file"].get<std::string>().c_str()), 0);
  EXPECT_TRUE(factory_.Revert(env_, undo2).ok());
  EXPECT_EQ(Entries(), 0u);
  EXPECT_EQ(UsedBytes(), 0u);
}

TEST_F(DiskFillIntegrationTest, RevertWorksFromTheRecordAlone) {
  auto fault = Make({{"size", 8 * kMiB}});
  UndoRecord undo;
  ASSERT_TRUE(Run(*fault, &undo).ok());
  fault.reset();
  // As `recover` would: from the record's JSON, with another factory object.
  UndoRecord restored = UndoRecord::FromJson(nlohmann::json::parse(undo.ToJson().dump()));
  ASSERT_TRUE(DiskFillFactory().Revert(env_, restored).ok());
  EXPECT_EQ(Entries(), 0u);
}

// Writes `bytes` of zeros to a new file `path` (someone else's), stopping at ENOSPC; the bytes
// written.
uint64_t OutsideWrite(const std::string& path, uint64_t bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return 0;
  static const std::vector<char> zeros(1 << 20, 0);
  uint64_t written = 0;
  while (written < bytes) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(bytes - written, zeros.size()));
    const ssize_t w = ::write(fd, zeros.data(), n);
    if (w <= 0) break;  // ENOSPC: the filesystem is full
    written += static_cast<uint64_t>(w);
  }
  ::close(fd);
  return written;
}

// Issue 11, point 8: an outside writer fills the filesystem while the fault is active. The fill
// file shrinks so that the margin is available again once the writer is done, and the
// observation says when and by how much.
TEST_F(DiskFillIntegrationTest, AnOutsideWriterDuringTheFaultGetsTheMarginBack) {
  auto fault = Make({{"size", 40 * kMiB}});
  UndoRecord undo;
  ASSERT_TRUE(Run(*fault, &undo).ok());
  ASSERT_EQ(AvailBytes(), 24 * kMiB);
  // More than is left: it ends at ENOSPC, with the filesystem full.
  std::thread writer([&] { OutsideWrite(mount_ + "/outside", 40 * kMiB); });
  writer.join();
  EXPECT_TRUE(Eventually([&] { return AvailBytes() >= kDiskFillSafetyMarginBytes; }))
      << AvailBytes();
  // And it stays so (no one else writes now).
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_GE(AvailBytes(), kDiskFillSafetyMarginBytes);
  const nlohmann::json observed = fault->Observe(env_);
  const nlohmann::json margin = observed["margin"];
  EXPECT_EQ(margin["bytes"], kDiskFillSafetyMarginBytes);
  EXPECT_GE(margin["shrinks"].get<int>(), 1) << observed.dump();
  EXPECT_GE(margin["shrunk_bytes"].get<uint64_t>(), kDiskFillSafetyMarginBytes) << observed.dump();
  ASSERT_FALSE(margin["events"].empty());
  EXPECT_TRUE(margin["events"][0]["at"].is_string());
  EXPECT_LT(margin["events"][0]["avail_before"].get<uint64_t>(), kDiskFillSafetyMarginBytes);
  EXPECT_FALSE(margin.contains("lost"));
  EXPECT_EQ(observed["bytes_written"], 40 * kMiB - margin["shrunk_bytes"].get<uint64_t>());

  ASSERT_TRUE(factory_.Revert(env_, undo).ok());
  Verification v = factory_.Verify(env_, undo);
  EXPECT_TRUE(v.verified) << v.found;
  ASSERT_EQ(::unlink((mount_ + "/outside").c_str()), 0);
  EXPECT_EQ(Entries(), 0u);
}

// A writer that keeps writing empties the fill file: the fault can give back no more, and says
// so.
TEST_F(DiskFillIntegrationTest, AWriterThatTakesEverythingIsReportedAsMarginLost) {
  auto fault = Make({{"size", 8 * kMiB}});
  UndoRecord undo;
  ASSERT_TRUE(Run(*fault, &undo).ok());
  const std::string file = undo.data["file"].get<std::string>();
  // Writes whatever becomes free, until the fill file is empty and the filesystem full.
  for (int round = 0; round < 100; ++round) {
    OutsideWrite(mount_ + "/outside", 64 * kMiB);
    if (std::filesystem::file_size(file) == 0 && AvailBytes() < kDiskFillSafetyMarginBytes) break;
    Eventually([&] { return AvailBytes() >= kDiskFillSafetyMarginBytes; });
  }
  ASSERT_EQ(std::filesystem::file_size(file), 0u);
  const nlohmann::json margin = fault->Observe(env_)["margin"];
  EXPECT_EQ(margin["shrunk_bytes"], 8 * kMiB) << margin.dump();
  ASSERT_TRUE(margin.contains("lost")) << margin.dump();
  EXPECT_NE(margin["lost"].get<std::string>().find("the fault cannot give back more"),
            std::string::npos);
  ASSERT_TRUE(factory_.Revert(env_, undo).ok());
  ASSERT_EQ(::unlink((mount_ + "/outside").c_str()), 0);
  EXPECT_EQ(Entries(), 0u);
}

// The same end to end: `ringfence run` with a disk_fill step, a writer filling the filesystem
// during the window (as `dd` did in the issue); the margin is back before the run ends and the
// journal shows the shrink.
TEST_F(DiskFillIntegrationTest, ARunKeepsTheMarginAgainstAnOutsideWriterAndJournalsIt) {
  testing::TempDir work;
  const nlohmann::json experiment = {{"version", 1},
                                     {"title", "disk_fill margin"},
                                     {"steady_state", nlohmann::json::array()},
                                     {"guards", nlohmann::json::array()},
                                     {"method",
                                      {{{"type", "disk_fill"},
                                        {"name", "fill"},
                                        {"params", {{"path", mount_}, {"size", 40 * kMiB}}},
                                        {"duration", "3s"}}}}};
  work.Write("fill.json", experiment.dump(2));
  testing::ChildRun run({RINGFENCE_BINARY, "run", work.File("fill.json"), "--journal",
                         work.File("journal.json"), "--state-dir", work.File("state")},
                        work.path());
  ASSERT_TRUE(Eventually([&] { return AvailBytes() == 24 * kMiB; })) << AvailBytes();
  OutsideWrite(mount_ + "/outside", 40 * kMiB);  // to ENOSPC
  EXPECT_TRUE(Eventually([&] { return AvailBytes() >= kDiskFillSafetyMarginBytes; }));
  ASSERT_EQ(run.Wait(), 0) << run.out() << run.err();
  const nlohmann::json j = nlohmann::json::parse(testing::ReadFile(work.File("journal.json")));
  const nlohmann::json margin = j["faults"][0]["observed"]["margin"];
  EXPECT_GE(margin["shrinks"].get<int>(), 1) << j["faults"][0]["observed"].dump();
  EXPECT_GE(margin["shrunk_bytes"].get<uint64_t>(), kDiskFillSafetyMarginBytes);
  EXPECT_EQ(j["faults"][0]["targets"][0]["verified"], true);
  ASSERT_EQ(::unlink((mount_ + "/outside").c_str()), 0);
  EXPECT_EQ(Entries(), 0u);
}

TEST_F(DiskFillIntegrationTest, AStopRequestEndsTheFillEarly) {
  stop_.RequestStop("test");
  auto fault = Make({{"size", 8 * kMiB}});
  UndoRecord undo;
  ASSERT_TRUE(Run(*fault, &undo).ok());
  nlohmann::json observed = fault->Observe(env_);
  EXPECT_EQ(observed["bytes_written"], 0);
  EXPECT_EQ(observed["stopped_early"], "stop requested");
  ASSERT_TRUE(factory_.Revert(env_, undo).ok());
  EXPECT_EQ(Entries(), 0u);
}

}  // namespace
}  // namespace ringfence
