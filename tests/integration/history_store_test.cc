// The SQLite history (core/history/sqlite_history.h) with real processes: two writers at once,
// a writer killed with SIGKILL in the middle of its writes, and a database of schema version 1.

#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "core/history/sqlite_history.h"
#include "tests/support/processes.h"

namespace ringfence::testing {
namespace {

RunRecord Record(const std::string& id, int64_t at) {
  RunRecord r;
  r.run_id = id;
  r.title = "history test";
  r.started_ms = at;
  r.ended_ms = at + 5;
  r.status = at % 3 ? "passed" : "aborted";
  r.time_to_detect_ms = at % 3 ? std::nullopt : std::optional<int64_t>(at);
  r.reason = std::string(2000, 'x');  // longer writes: more chances to be killed inside one
  return r;
}

// A child process that writes `count` records (forever when count < 0), then exits 0.
pid_t Writer(const std::string& path, const std::string& prefix, int count) {
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  auto history = OpenSqliteHistory(path);
  if (!history.ok()) ::_exit(3);
  for (int i = 0; count < 0 || i < count; ++i) {
    if (!(*history)->Record(Record(prefix + std::to_string(i), i)).ok()) ::_exit(4);
  }
  ::_exit(0);
}

int WaitFor(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

size_t Count(const std::string& path) {
  auto history = OpenSqliteHistory(path);
  EXPECT_TRUE(history.ok()) << history.status().message();
  if (!history.ok()) return 0;
  auto runs = (*history)->Query({});
  EXPECT_TRUE(runs.ok());
  return runs.ok() ? runs->size() : 0;
}

std::string IntegrityCheck(const std::string& path) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, nullptr);
  std::string result;
  if (sqlite3_step(stmt) == SQLITE_ROW) {
    result = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return result;
}

TEST(HistoryStore, TwoProcessesWriteAtOnce) {
  TempDir dir;
  const std::string path = dir.File("history.db");
  const pid_t a = Writer(path, "a-", 300);
  const pid_t b = Writer(path, "b-", 300);
  EXPECT_EQ(WaitFor(a), 0);
  EXPECT_EQ(WaitFor(b), 0);
  EXPECT_EQ(Count(path), 600u);
  EXPECT_EQ(IntegrityCheck(path), "ok");
}

TEST(HistoryStore, SurvivesSigkillDuringWrites) {
  TempDir dir;
  const std::string path = dir.File("history.db");
  const pid_t writer = Writer(path, "k-", -1);
  // Killed once it has committed some records, in the middle of its endless writes.
  ASSERT_TRUE(Eventually([&] { return Count(path) >= 50; }, std::chrono::seconds(30)));
  ::kill(writer, SIGKILL);
  EXPECT_EQ(WaitFor(writer), 128 + SIGKILL);
  EXPECT_EQ(IntegrityCheck(path), "ok");
  const size_t before = Count(path);
  EXPECT_GE(before, 50u);
  auto history = OpenSqliteHistory(path);
  ASSERT_TRUE(history.ok());
  ASSERT_TRUE((*history)->Record(Record("after", 1)).ok());
  EXPECT_EQ(Count(path), before + 1);
}

TEST(HistoryStore, MigratesFromVersion1) {
  TempDir dir;
  const std::string path = dir.File("history.db");
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    const std::string v1 = std::string(HistorySchemaV1()) +
                           "PRAGMA user_version = 1;"
                           "INSERT INTO runs VALUES ('old-run', 'old title', 1000, 2000, "
                           "'passed', 0, '/tmp/j.json');";
    ASSERT_EQ(sqlite3_exec(db, v1.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  auto history = OpenSqliteHistory(path);
  ASSERT_TRUE(history.ok()) << history.status().message();
  auto runs = (*history)->Query({});
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ((*runs)[0].run_id, "old-run");
  EXPECT_EQ((*runs)[0].journal, "/tmp/j.json");
  EXPECT_EQ((*runs)[0].trigger, "manual");
  EXPECT_FALSE((*runs)[0].time_to_detect_ms);
  RunRecord r = Record("new-run", 3000);
  r.entry = "nightly";
  r.trigger = "scheduled";
  ASSERT_TRUE((*history)->Record(r).ok());
  HistoryQuery q;
  q.entry = "nightly";
  auto nightly = (*history)->Query(q);
  ASSERT_TRUE(nightly.ok());
  ASSERT_EQ(nightly->size(), 1u);
  EXPECT_EQ((*nightly)[0].trigger, "scheduled");
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, nullptr);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), kHistorySchemaVersion);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

}  // namespace
}  // namespace ringfence::testing
