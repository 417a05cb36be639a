#include "core/file_ledger.h"

#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

#include "core/executor.h"
#include "core/recovery.h"
#include "tests/support/fake_clock.h"
#include "tests/support/processes.h"

namespace ringfence {
namespace {

using testing::TempDir;

UndoRecord Undo(const std::string& name, int pid) {
  UndoRecord u;
  u.fault_type = "fake";
  u.fault_name = name;
  u.target = "pid " + std::to_string(pid);
  u.manual_undo = "kill -CONT " + std::to_string(pid);
  u.data = {{"pid", pid}};
  return u;
}

// Records the reverts it is asked for; fails those whose pid is in `failing`.
class RecordingExecutor : public Executor {
 public:
  const std::string& host() const override { return host_; }
  Status Prepare(Fault&, const std::vector<Target>&) override { return Status::Ok(); }
  Result<UndoRecord> PlanUndo(Fault&, const Target&) override { return UndoRecord{}; }
  Status Inject(Fault&, const Target&, const UndoRecord&) override { return Status::Ok(); }
  nlohmann::json Observe(Fault&) override { return {}; }
  Status Revert(const UndoRecord& undo) override {
    reverted.push_back(undo.fault_name);
    if (failing.count(undo.data["pid"].get<int>())) return Status::Runtime("still stuck");
    return Status::Ok();
  }
  Verification Verify(const UndoRecord& undo) override {
    if (unverified.count(undo.data["pid"].get<int>())) return Verification::NotReverted("stopped");
    return Verification::Reverted("resumed");
  }
  std::set<int> unverified;
  std::vector<std::string> reverted;
  std::set<int> failing;

 private:
  std::string host_ = "local";
};

class FileLedgerTest : public ::testing::Test {
 protected:
  std::string Make(int intents, int reverted) {
    auto ledger = FileLedger::Create(dir_.path(), "run1", {{"title", "t"}});
    EXPECT_TRUE(ledger.ok()) << ledger.status().message();
    for (int i = 1; i <= intents; ++i) {
      auto id = (*ledger)->RecordIntent(Undo("f" + std::to_string(i), 100 + i));
      EXPECT_TRUE(id.ok());
      if (i <= reverted) {
        EXPECT_TRUE((*ledger)->RecordReverted(*id).ok());
      }
    }
    return (*ledger)->path();
  }
  std::string Text(const std::string& path) { return testing::ReadFile(path); }
  void Put(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::trunc) << text; }

  TempDir dir_;
  testing::FakeClock clock_;
};

TEST_F(FileLedgerTest, RoundTripsIntentsAndReverts) {
  std::string path = Make(3, 1);
  EXPECT_EQ(path, dir_.path() + "/runs/run1.ledger");
  auto c = ReadLedger(path);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->run["title"], "t");
  ASSERT_EQ(c->entries.size(), 3u);
  EXPECT_TRUE(c->entries[0].reverted);
  EXPECT_EQ(c->entries[0].reverted_by, "runner");
  EXPECT_EQ(c->Outstanding().size(), 2u);
  EXPECT_TRUE(c->problems.empty());
  EXPECT_FALSE(c->torn_tail);
  // Every line is "<crc32 hex> <json>".
  std::string first = Text(path).substr(0, Text(path).find('\n'));
  EXPECT_EQ(first[8], ' ');
  EXPECT_EQ(LedgerLine(nlohmann::json::parse(first.substr(9))), first + "\n");
}

TEST_F(FileLedgerTest, TornLastLineIsDetectedAndNeverMisread) {
  std::string path = Make(2, 0);
  std::string text = Text(path);
  Put(path, text + LedgerLine({{"v", 1}, {"type", "reverted"}, {"id", 1}}).substr(0, 20));
  auto c = ReadLedger(path);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->torn_tail);
  EXPECT_TRUE(c->problems.empty());
  EXPECT_EQ(c->Outstanding().size(), 2u);  // the torn "reverted" does not count
  // Appending after a torn line starts a new line, so new records stay readable.
  auto appender = FileLedger::OpenForAppend(path);
  ASSERT_TRUE(appender.ok());
  ASSERT_TRUE((*appender)->RecordRevertedBy(2, "recover").ok());
  auto again = ReadLedger(path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->problems, (std::vector<std::string>{"line 4: checksum mismatch"}));
  ASSERT_EQ(again->Outstanding().size(), 1u);
  EXPECT_EQ(again->Outstanding()[0]->undo.fault_name, "f1");
}

TEST_F(FileLedgerTest, CorruptMiddleLineIsReportedAndTheRestRead) {
  std::string path = Make(3, 0);
  std::string text = Text(path);
  size_t line3 = text.find('\n', text.find('\n') + 1) + 1;  // the second intent
  text[line3 + 30] = text[line3 + 30] == 'x' ? 'y' : 'x';
  Put(path, text);
  auto c = ReadLedger(path);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->problems, (std::vector<std::string>{"line 3: checksum mismatch"}));
  EXPECT_EQ(c->entries.size(), 2u);
}

TEST_F(FileLedgerTest, LedgerFromANewerVersionIsRefusedLineByLine) {
  std::string path = Make(1, 0);
  Put(path, Text(path) + LedgerLine({{"v", 2}, {"type", "intent"}, {"id", 9}}));
  auto c = ReadLedger(path);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->problems, (std::vector<std::string>{
                             "line 3: written by a newer ringfence (ledger version 2); this one reads version 1"}));
}

TEST_F(FileLedgerTest, RecoverRevertsNewestFirstOnceAndReportsWhatItCannotRead) {
  std::string path = Make(3, 1);
  RecordingExecutor executor;
  RecoveryReport first = RecoverRun(path, executor, clock_, "recover");
  EXPECT_TRUE(first.ok());
  EXPECT_EQ(executor.reverted, (std::vector<std::string>{"f3", "f2"}));
  EXPECT_EQ(first.actions,
            (std::vector<std::string>{"reverted f3 (fake) on pid 103 (verified: resumed)",
                                      "reverted f2 (fake) on pid 102 (verified: resumed)"}));
  auto c = ReadLedger(path);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->Outstanding().empty());
  EXPECT_EQ(c->entries[2].reverted_by, "recover");

  RecoveryReport second = RecoverRun(path, executor, clock_, "recover");
  EXPECT_TRUE(second.ok());
  EXPECT_TRUE(second.actions.empty());
  EXPECT_EQ(executor.reverted.size(), 2u);

  Put(path, Text(path) + "deadbeef {\"v\":1}\n" + LedgerLine({{"v", 1}, {"type", "end"}}));
  RecoveryReport third = RecoverRun(path, executor, clock_, "recover");
  EXPECT_FALSE(third.ok());
  EXPECT_EQ(third.left, (std::vector<std::string>{
                            path + ": line 8: checksum mismatch: unreadable; if it recorded an "
                                   "injection, check and undo it by hand"}));
}

TEST_F(FileLedgerTest, RecoverKeepsWhatItCannotRevertWithTheManualUndo) {
  std::string path = Make(2, 0);
  RecordingExecutor executor;
  executor.failing = {102};
  RecoveryReport r = RecoverRun(path, executor, clock_, "recover", 2);
  EXPECT_EQ(r.left, (std::vector<std::string>{
                        "f2 (fake) on pid 102: still stuck; undo by hand: kill -CONT 102"}));
  EXPECT_EQ(executor.reverted, (std::vector<std::string>{"f2", "f2", "f1"}));
  auto c = ReadLedger(path);
  ASSERT_EQ(c->Outstanding().size(), 1u);
}

TEST_F(FileLedgerTest, RecoverCountsAnUnverifiedRevertAsLeftWithTheManualUndo) {
  std::string path = Make(2, 0);
  RecordingExecutor executor;
  executor.unverified = {102};
  RecoveryReport r = RecoverRun(path, executor, clock_, "recover", 2);
  EXPECT_EQ(r.left, (std::vector<std::string>{
                        "f2 (fake) on pid 102: reverted, but the state is not back: stopped; "
                        "undo by hand: kill -CONT 102"}));
  EXPECT_EQ(r.actions, (std::vector<std::string>{"reverted f1 (fake) on pid 101 (verified: "
                                                 "resumed)"}));
  auto c = ReadLedger(path);
  ASSERT_EQ(c->Outstanding().size(), 1u);
  EXPECT_EQ(c->Outstanding()[0]->undo.fault_name, "f2");
}

TEST_F(FileLedgerTest, StateDirLockIsExclusive) {
  auto first = StateDirLock::TryAcquire(dir_.path());
  ASSERT_TRUE(first.ok());
  auto second = StateDirLock::TryAcquire(dir_.path());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().message(), "another run is active on state dir " + dir_.path() +
                                           " (its lock is held); wait for it, or pass --allow-concurrent");
}

TEST_F(FileLedgerTest, UnwritableStateDirIsAClearError) {
  dir_.Write("file", "x");
  auto ledger = FileLedger::Create(dir_.File("file") + "/state", "run1", {});
  ASSERT_FALSE(ledger.ok());
  EXPECT_EQ(ledger.status().message(), "state dir " + dir_.File("file") + "/state: Not a directory");
}

}  // namespace
}  // namespace ringfence
