#include "core/ledger/file_ledger.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

#include "core/fault/executor.h"
#include "core/ledger/recovery.h"
#include "core/ledger/state_dir.h"
#include "tests/support/fake_clock.h"
#include "tests/support/fake_process_table.h"
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
  // The state dir's ledger key (made by Make()).
  std::string Key() {
    auto dir = StateDir::Open(dir_.path(), false);
    EXPECT_TRUE(dir.ok()) << dir.status().message();
    auto key = dir->LedgerKey(false);
    EXPECT_TRUE(key.ok()) << key.status().message();
    return key.ok() ? *key : "";
  }
  // A line as this state dir's ledger writes it for run1.
  std::string Line(const nlohmann::json& record) { return LedgerLine(record, Key(), "run1"); }
  void Put(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::trunc) << text;
  }

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
  // Every line is "<HMAC-SHA256 hex> <json>".
  std::string first = Text(path).substr(0, Text(path).find('\n'));
  EXPECT_EQ(first[64], ' ');
  EXPECT_EQ(Line(nlohmann::json::parse(first.substr(65))), first + "\n");
  // The same record under another key, or as another run's, is not the same line.
  EXPECT_NE(LedgerLine(nlohmann::json::parse(first.substr(65)), std::string(32, 'k'), "run1"),
            first + "\n");
  EXPECT_NE(LedgerLine(nlohmann::json::parse(first.substr(65)), Key(), "run2"), first + "\n");
}

TEST_F(FileLedgerTest, TornLastLineIsDetectedAndNeverMisread) {
  std::string path = Make(2, 0);
  std::string text = Text(path);
  Put(path, text + Line({{"v", 2}, {"type", "reverted"}, {"id", 1}}).substr(0, 80));
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
  EXPECT_EQ(again->problems,
            (std::vector<std::string>{"line 4: authentication failed: not written with this "
                                      "state dir's ledger key; not trusted"}));
  ASSERT_EQ(again->Outstanding().size(), 1u);
  EXPECT_EQ(again->Outstanding()[0]->undo.fault_name, "f1");
}

TEST_F(FileLedgerTest, CorruptMiddleLineIsReportedAndTheRestRead) {
  std::string path = Make(3, 0);
  std::string text = Text(path);
  size_t line3 = text.find('\n', text.find('\n') + 1) + 1;  // the second intent
  text[line3 + 90] = text[line3 + 90] == 'x' ? 'y' : 'x';   // in its JSON
  Put(path, text);
  auto c = ReadLedger(path);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->problems,
            (std::vector<std::string>{"line 3: authentication failed: not written "
                                      "with this state dir's ledger key; not trusted"}));
  EXPECT_EQ(c->entries.size(), 2u);
}

TEST_F(FileLedgerTest, LedgerFromANewerVersionIsRefusedLineByLine) {
  std::string path = Make(1, 0);
  Put(path, Text(path) + Line({{"v", 3}, {"type", "intent"}, {"id", 9}}));
  auto c = ReadLedger(path);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(
      c->problems,
      (std::vector<std::string>{
          "line 3: written by a newer ringfence (ledger version 3); this one reads version 2"}));
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

  Put(path, Text(path) + "deadbeef {\"v\":1}\n" + Line({{"v", 2}, {"type", "end"}}));
  RecoveryReport third = RecoverRun(path, executor, clock_, "recover");
  EXPECT_FALSE(third.ok());
  EXPECT_EQ(third.left, (std::vector<std::string>{
                            path + ": line 8: not authenticated: a ledger version 1 line (CRC-32 "
                                   "only); not trusted: unreadable; if it recorded an injection, "
                                   "check and undo it by hand"}));
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
  EXPECT_EQ(second.status().message(),
            "another run is active on state dir " + dir_.path() + " (its lock is held)");
}

TEST_F(FileLedgerTest, UnwritableStateDirIsAClearError) {
  dir_.Write("file", "x");
  auto ledger = FileLedger::Create(dir_.File("file") + "/state", "run1", {});
  ASSERT_FALSE(ledger.ok());
  EXPECT_EQ(ledger.status().message(), "state dir " + dir_.File("file") + "/state: cannot create " +
                                           dir_.File("file") + "/state: Not a directory");
}

// Records of the wrong type (with valid MACs, so they get past authentication) are reported
// with their line and pointer and skipped; nothing throws, the other records still count.
TEST_F(FileLedgerTest, RecordsOfTheWrongTypeAreReportedNotThrown) {
  std::string path = Make(1, 0);
  Put(path, Text(path) + Line({{"v", "1"}, {"type", "end"}}) +
                Line({{"v", 2}, {"type", "intent"}, {"id", "x"}, {"undo", Undo("g", 7).ToJson()}}) +
                Line({{"v", 2}, {"type", "intent"}, {"id", 5}, {"undo", {{"fault_type", 3}}}}) +
                Line({{"v", 2}, {"type", "intent"}, {"id", 6}, {"undo", "kill"}}) +
                Line({{"v", 2}, {"type", "intent"}, {"id", 8}, {"undo", {{"data", {1, 2}}}}}) +
                Line({{"v", 2}, {"type", "reverted"}, {"id", -1}}) +
                Line({{"v", 2}, {"type", "watchdog"}, {"pid", "12"}, {"start_ticks", 1}}) +
                Line({{"v", 2}, {"type", "run"}, {"runner_pid", 1ULL << 40}}) +
                Line({{"v", 2}, {"type", 7}}) + Line(nlohmann::json::array({1})) +
                Line({{"v", 2}, {"type", "end"}, {"reverted_cleanly", "yes"}}));
  auto c = ReadLedger(path);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->problems, (std::vector<std::string>{
                             "line 3: /v: found \"1\": expected an unsigned integer",
                             "line 4: /id: found \"x\": expected an unsigned integer",
                             "line 5: /undo/fault_type: found 3: expected a string",
                             "line 6: /undo: found \"kill\": expected an object",
                             "line 7: /undo/data: found [1,2]: expected an object",
                             "line 8: /id: found -1: expected an unsigned integer",
                             "line 9: /pid: found \"12\": expected an unsigned integer",
                             "line 10: /runner_pid: found 1099511627776: expected a process id",
                             "line 11: /type: found 7: expected a string",
                             "line 12: /: found [1]: expected an object",
                             "line 13: /reverted_cleanly: found \"yes\": expected true or false"}));
  ASSERT_EQ(c->entries.size(), 1u);
  EXPECT_TRUE(c->end.is_null());
  EXPECT_EQ(c->run["title"], "t");  // the first, good run record
  // recover reports them and still reverts the good entry.
  RecordingExecutor executor;
  RecoveryReport r = RecoverRun(path, executor, clock_, "recover");
  EXPECT_EQ(executor.reverted, (std::vector<std::string>{"f1"}));
  EXPECT_EQ(r.left.size(), 11u);
  testing::FakeProcessTable processes;
  auto summary = SummarizeRun(path, processes);
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->state, RunState::kLeftFaults);
}

// A line forged without the key, or copied from another run's ledger, is never acted on.
TEST_F(FileLedgerTest, ForgedAndCopiedLinesAreNotTrusted) {
  std::string path = Make(1, 1);
  const nlohmann::json forged = {
      {"v", 2}, {"type", "intent"}, {"id", 2}, {"undo", Undo("evil", 9).ToJson()}};
  Put(path, Text(path) + LedgerLine(forged, std::string(32, 'x'), "run1") +
                LedgerLine(forged, Key(), "run2") + "0badc0de {\"v\":1,\"type\":\"intent\"}\n");
  auto c = ReadLedger(path);
  ASSERT_TRUE(c.ok());
  const std::string failed =
      "authentication failed: not written with this state dir's ledger key; not trusted";
  EXPECT_EQ(c->problems,
            (std::vector<std::string>{
                "line 4: " + failed, "line 5: " + failed,
                "line 6: not authenticated: a ledger version 1 line (CRC-32 only); not trusted"}));
  RecordingExecutor executor;
  RecoveryReport r = RecoverRun(path, executor, clock_, "recover");
  EXPECT_TRUE(executor.reverted.empty());
  EXPECT_EQ(r.left.size(), 3u);
}

TEST_F(FileLedgerTest, LedgerFilesAreOwnerOnly) {
  std::string path = Make(1, 0);
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  ASSERT_EQ(::stat(dir_.File("ledger.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_size, 32);
  ASSERT_EQ(::stat(dir_.File("runs").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
}

UndoRecord SecretUndo() {
  UndoRecord u = Undo("kill-api", 104);
  u.target = "pid 104 (api)";
  u.manual_undo = "/usr/bin/start-api --token tok-5ecret-value";
  u.data["restart_command"] = {"/usr/bin/start-api", "--token", "tok-5ecret-value"};
  return u;
}

// Secrets never reach the ledger; recover asks for them and uses them.
TEST_F(FileLedgerTest, SecretsAreConcealedOnDiskAndRevealedForTheRevert) {
  SecretValues secrets;
  secrets.Add("api_token", "tok-5ecret-value");
  auto ledger =
      FileLedger::Create(dir_.path(), "run1", {{"title", "kill tok-5ecret-value"}}, secrets);
  ASSERT_TRUE(ledger.ok()) << ledger.status().message();
  ASSERT_TRUE((*ledger)->RecordIntent(SecretUndo()).ok());
  // In memory (the runner's own revert), the record is whole.
  ASSERT_EQ((*ledger)->Outstanding().size(), 1u);
  EXPECT_EQ((*ledger)->Outstanding()[0].second.manual_undo, SecretUndo().manual_undo);
  const std::string path = (*ledger)->path();
  ledger->reset();
  const std::string text = Text(path);
  EXPECT_EQ(text.find("tok-5ecret-value"), std::string::npos) << text;
  EXPECT_NE(text.find("kill [redacted:api_token]"), std::string::npos) << text;

  // Without the secret: left, with the redacted manual undo and the flag to pass.
  class CapturingExecutor : public RecordingExecutor {
   public:
    Status Revert(const UndoRecord& undo) override {
      seen.push_back(undo);
      return RecordingExecutor::Revert(undo);
    }
    std::vector<UndoRecord> seen;
  } executor;
  RecoveryReport without = RecoverRun(path, executor, clock_, "recover");
  EXPECT_TRUE(executor.seen.empty());
  EXPECT_EQ(without.left,
            (std::vector<std::string>{
                "kill-api (fake) on pid 104 (api): needs secret api_token (its value is never on "
                "disk): pass ringfence recover --secret api_token=VALUE; undo by hand: "
                "/usr/bin/start-api --token [redacted:api_token]"}));
  // With it: reverted with the value in place, and the ledger still holds none.
  RecoveryReport with = RecoverRun(path, executor, clock_, "recover", 3, secrets);
  EXPECT_TRUE(with.ok());
  ASSERT_EQ(executor.seen.size(), 1u);
  EXPECT_EQ(executor.seen[0].data["restart_command"][2], "tok-5ecret-value");
  EXPECT_EQ(executor.seen[0].manual_undo, SecretUndo().manual_undo);
  EXPECT_EQ(
      with.actions,
      (std::vector<std::string>{"reverted kill-api (fake) on pid 104 (api) (verified: resumed)"}));
  EXPECT_EQ(Text(path).find("tok-5ecret-value"), std::string::npos);
}

TEST(SecretValuesTest, ConcealAndRevealAreInverse) {
  SecretValues s;
  s.Add("a", "alpha-value");
  s.Add("ab", "alpha-value-long");
  s.Add("short", "abc");  // too short: kept in clear
  const nlohmann::json doc = {{"x alpha-value", {"alpha-value-long", "abc", 3}}};
  const nlohmann::json concealed = s.Conceal(doc);
  EXPECT_EQ(concealed, (nlohmann::json{{"x [redacted:a]", {"[redacted:ab]", "abc", 3}}}));
  std::set<std::string> missing;
  EXPECT_EQ(s.Reveal(concealed, missing), doc);
  EXPECT_TRUE(missing.empty());
  SecretValues none;
  EXPECT_EQ(none.Reveal(std::string("[redacted:a] [redacted:] [redacted:b"), missing),
            "[redacted:a] [redacted:] [redacted:b");
  EXPECT_EQ(missing, (std::set<std::string>{"a"}));
  auto back = SecretValues::FromJson(s.ToJson());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->Conceal(std::string("alpha-value")), "[redacted:a]");
  EXPECT_FALSE(SecretValues::FromJson({{"a", 1}}).ok());
}

}  // namespace
}  // namespace ringfence
