#include "core/history/sqlite_history.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <type_traits>

#include "core/history/history_summary.h"

namespace ringfence {

namespace {

// Version 1: the first history (run, verdict, journal).
constexpr char kSchemaV1[] = R"(
CREATE TABLE runs (
  run_id TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  started_ms INTEGER NOT NULL,
  ended_ms INTEGER NOT NULL,
  status TEXT NOT NULL,
  exit_code INTEGER NOT NULL,
  journal TEXT NOT NULL DEFAULT ''
);
CREATE INDEX runs_by_title ON runs (title, started_ms);
)";

// Each migration takes the database from version i + 1 to i + 2, inside one transaction.
const char* const kMigrations[] = {
    // 1 → 2: the file and its hash, the reason, detection and revert times, the blast radius,
    // how the run was started and by which schedule entry.
    R"(
ALTER TABLE runs ADD COLUMN file TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN file_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN reason TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN time_to_detect_ms INTEGER;
ALTER TABLE runs ADD COLUMN time_to_revert_ms INTEGER;
ALTER TABLE runs ADD COLUMN faults INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN targets INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN hosts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN trigger TEXT NOT NULL DEFAULT 'manual';
ALTER TABLE runs ADD COLUMN entry TEXT NOT NULL DEFAULT '';
CREATE INDEX runs_by_start ON runs (started_ms);
CREATE INDEX runs_by_entry ON runs (entry, started_ms);
)",
    // 2 → 3: what `ringfence history` aggregates, read from indexes alone (Summarize): the
    // counts, the last runs and the streak in start order, the median in detection order.
    R"(
CREATE INDEX runs_summary ON runs (title, started_ms, run_id, status, time_to_detect_ms);
CREATE INDEX runs_by_detect ON runs (title, time_to_detect_ms, status);
)",
};
static_assert(sizeof(kMigrations) / sizeof(kMigrations[0]) + 1 == kHistorySchemaVersion);

class SqliteHistory : public RunHistory {
 public:
  explicit SqliteHistory(sqlite3* db) : db_(db) {}
  ~SqliteHistory() override { sqlite3_close_v2(db_); }

  Status Record(const RunRecord& r) override {
    std::lock_guard<std::mutex> lock(mu_);
    sqlite3_stmt* stmt = nullptr;
    const char* sql =
        "INSERT OR REPLACE INTO runs (run_id, title, started_ms, ended_ms, status, exit_code, "
        "journal, file, file_hash, reason, time_to_detect_ms, time_to_revert_ms, faults, "
        "targets, hosts, trigger, entry) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
    if (sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr) != SQLITE_OK) return Error("prepare");
    int i = 0;
    auto text = [&](const std::string& s) {
      sqlite3_bind_text(stmt, ++i, s.c_str(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    };
    auto integer = [&](int64_t v) { sqlite3_bind_int64(stmt, ++i, v); };
    auto optional = [&](const std::optional<int64_t>& v) {
      if (v)
        sqlite3_bind_int64(stmt, ++i, *v);
      else
        sqlite3_bind_null(stmt, ++i);
    };
    text(r.run_id);
    text(r.title);
    integer(r.started_ms);
    integer(r.ended_ms);
    text(r.status);
    integer(r.exit_code);
    text(r.journal);
    text(r.file);
    text(r.file_hash);
    text(r.reason);
    optional(r.time_to_detect_ms);
    optional(r.time_to_revert_ms);
    integer(r.faults);
    integer(r.targets);
    integer(r.hosts);
    text(r.trigger);
    text(r.entry);
    const int rc = sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) return Error("insert");
    return Status::Ok();
  }

  Result<std::vector<RunRecord>> Query(const HistoryQuery& q) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::string sql =
        q.summary_fields_only
            ? "SELECT run_id, title, started_ms, ended_ms, status, time_to_detect_ms FROM runs "
              "WHERE 1"
            : "SELECT run_id, title, started_ms, ended_ms, status, exit_code, journal, file, "
              "file_hash, reason, time_to_detect_ms, time_to_revert_ms, faults, targets, hosts, "
              "trigger, entry FROM runs WHERE 1";
    sql += Filters(q) + " ORDER BY started_ms DESC, run_id DESC";
    if (q.limit > 0) sql += " LIMIT " + std::to_string(q.limit);
    sqlite3_stmt* stmt = Prepare(sql, q);
    if (stmt == nullptr) return Error("prepare");
    std::vector<RunRecord> out;
    auto text = [&](int col) {
      const auto* p = sqlite3_column_text(stmt, col);
      return p ? std::string(reinterpret_cast<const char*>(p)) : std::string();
    };
    auto optional = [&](int col) -> std::optional<int64_t> {
      if (sqlite3_column_type(stmt, col) == SQLITE_NULL) return std::nullopt;
      return sqlite3_column_int64(stmt, col);
    };
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      RunRecord r;
      r.run_id = text(0);
      r.title = text(1);
      r.started_ms = sqlite3_column_int64(stmt, 2);
      r.ended_ms = sqlite3_column_int64(stmt, 3);
      r.status = text(4);
      if (q.summary_fields_only) {
        r.time_to_detect_ms = optional(5);
        out.push_back(std::move(r));
        continue;
      }
      r.exit_code = sqlite3_column_int(stmt, 5);
      r.journal = text(6);
      r.file = text(7);
      r.file_hash = text(8);
      r.reason = text(9);
      r.time_to_detect_ms = optional(10);
      r.time_to_revert_ms = optional(11);
      r.faults = sqlite3_column_int(stmt, 12);
      r.targets = sqlite3_column_int(stmt, 13);
      r.hosts = sqlite3_column_int(stmt, 14);
      r.trigger = text(15);
      r.entry = text(16);
      out.push_back(std::move(r));
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) return Error("query");
    std::reverse(out.begin(), out.end());
    return out;
  }

  // SQL does the work, from the indexes of schema 3: one GROUP BY for the counts, then per
  // experiment the median time to detect (LIMIT/OFFSET in detection order), the last ten runs
  // and the streak (newest first, read only as far as it goes). The statuses mean what
  // core/history/history_summary.cc says.
  Result<std::vector<ExperimentSummary>> Summarize(const HistoryQuery& q) override {
    std::lock_guard<std::mutex> lock(mu_);
    const std::string ran = " AND status IN ('passed', 'failed', 'aborted', 'not_steady')";
    const std::string newest_first = " ORDER BY started_ms DESC, run_id DESC";
    std::vector<ExperimentSummary> out;
    std::vector<int64_t> detected;  // per summary: runs that tested it with a time to detect
    Status st = Rows(
        "SELECT title, MAX(started_ms), SUM(status = 'skipped'), SUM(status IN ('passed', "
        "'failed', 'aborted', 'not_steady')), SUM(status = 'passed'), SUM(status IN ('failed', "
        "'not_steady')), SUM(status = 'aborted'), COUNT(*), SUM(status IN ('passed', 'failed', "
        "'aborted', 'not_steady') AND time_to_detect_ms IS NOT NULL) FROM runs WHERE 1" +
            Filters(q) + " GROUP BY title ORDER BY title",
        q, [&](sqlite3_stmt* s) {
          ExperimentSummary e;
          e.title = Text(s, 0);
          e.last_started_ms = sqlite3_column_int64(s, 1);
          e.skipped = sqlite3_column_int(s, 2);
          e.runs = sqlite3_column_int(s, 3);
          e.passed = sqlite3_column_int(s, 4);
          e.failed = sqlite3_column_int(s, 5);
          e.aborted = sqlite3_column_int(s, 6);
          e.errors = sqlite3_column_int(s, 7) - e.runs - e.skipped;
          SetPassRateAndScore(e);
          out.push_back(std::move(e));
          detected.push_back(sqlite3_column_int64(s, 8));
        });
    if (!st.ok()) return st;
    for (size_t i = 0; i < out.size(); ++i) {
      ExperimentSummary& e = out[i];
      HistoryQuery one = q;
      one.title = e.title;
      const std::string where = " FROM runs WHERE 1" + Filters(one);
      if (const int64_t n = detected[i]; n > 0) {
        std::vector<int64_t> middle;  // the middle one (n odd) or two (n even)
        st = Rows("SELECT time_to_detect_ms" + where + ran +
                      " AND time_to_detect_ms IS NOT NULL ORDER BY time_to_detect_ms LIMIT " +
                      std::to_string(2 - n % 2) + " OFFSET " + std::to_string((n - 1) / 2),
                  one, [&](sqlite3_stmt* s) { middle.push_back(sqlite3_column_int64(s, 0)); });
        if (!st.ok()) return st;
        if (!middle.empty()) {
          e.median_time_to_detect_ms = middle.size() == 1 ? middle[0] : (middle[0] + middle[1]) / 2;
        }
      }
      std::vector<std::string> last;
      st = Rows("SELECT status" + where + newest_first + " LIMIT 10", one,
                [&](sqlite3_stmt* s) { last.push_back(Text(s, 0)); });
      if (!st.ok()) return st;
      for (auto it = last.rbegin(); it != last.rend(); ++it) e.trend += TrendMark(*it);
      if (e.runs == 0) continue;
      int streak = 0;
      std::optional<bool> latest;
      st = Rows("SELECT status = 'passed'" + where + ran + newest_first, one, [&](sqlite3_stmt* s) {
        const bool passed = sqlite3_column_int(s, 0) != 0;
        if (!latest) latest = passed;
        if (passed != *latest) return false;
        ++streak;
        return true;
      });
      if (!st.ok()) return st;
      e.streak = StreakText(streak, *latest);
    }
    return out;
  }

 private:
  // The WHERE conditions of `q` (after "WHERE 1"), bound by Prepare as ?1, ?2, ?3.
  static std::string Filters(const HistoryQuery& q) {
    std::string sql;
    if (q.title) sql += " AND title = ?1";
    if (q.since_ms) sql += " AND started_ms >= ?2";
    if (q.entry) sql += " AND entry = ?3";
    return sql;
  }
  // `sql` prepared with `q`'s filters bound; nullptr when SQLite refuses it.
  sqlite3_stmt* Prepare(const std::string& sql, const HistoryQuery& q) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) return nullptr;
    if (q.title) sqlite3_bind_text(stmt, 1, q.title->c_str(), -1, SQLITE_TRANSIENT);
    if (q.since_ms) sqlite3_bind_int64(stmt, 2, *q.since_ms);
    if (q.entry) sqlite3_bind_text(stmt, 3, q.entry->c_str(), -1, SQLITE_TRANSIENT);
    return stmt;
  }
  // Runs `sql` with `q`'s filters and hands each row to `row`, until it returns false (when it
  // returns bool at all).
  template <typename F>
  Status Rows(const std::string& sql, const HistoryQuery& q, F row) {
    sqlite3_stmt* stmt = Prepare(sql, q);
    if (stmt == nullptr) return Error("prepare");
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      if constexpr (std::is_same_v<decltype(row(stmt)), bool>) {
        if (!row(stmt)) {
          rc = SQLITE_DONE;
          break;
        }
      } else {
        row(stmt);
      }
    }
    sqlite3_finalize(stmt);
    return rc == SQLITE_DONE ? Status::Ok() : Error("query");
  }
  static std::string Text(sqlite3_stmt* stmt, int col) {
    const auto* p = sqlite3_column_text(stmt, col);
    return p ? std::string(reinterpret_cast<const char*>(p)) : std::string();
  }

  Status Error(const std::string& what) {
    return Status::Runtime("history: " + what + ": " + sqlite3_errmsg(db_));
  }

  std::mutex mu_;
  sqlite3* db_;
};

Status Exec(sqlite3* db, const std::string& sql) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message ? message : sqlite3_errmsg(db);
    sqlite3_free(message);
    return Status::Runtime(text);
  }
  return Status::Ok();
}

Result<int> UserVersion(sqlite3* db) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, nullptr) != SQLITE_OK) {
    return Status::Runtime(sqlite3_errmsg(db));
  }
  int version = 0;
  if (sqlite3_step(stmt) == SQLITE_ROW) version = sqlite3_column_int(stmt, 0);
  sqlite3_finalize(stmt);
  return version;
}

// Brings the schema to kHistorySchemaVersion, each step in a transaction of its own (taken
// with BEGIN IMMEDIATE, so that two processes opening a new database migrate it once).
Status Migrate(sqlite3* db) {
  while (true) {
    Status begun = Exec(db, "BEGIN IMMEDIATE");
    if (!begun.ok()) return begun;
    auto version = UserVersion(db);
    if (!version.ok()) {
      (void)Exec(db, "ROLLBACK");
      return version.status();
    }
    if (*version >= kHistorySchemaVersion) return Exec(db, "COMMIT");
    const std::string step = *version == 0 ? kSchemaV1 : kMigrations[*version - 1];
    Status applied = Exec(db, step + "PRAGMA user_version = " + std::to_string(*version + 1) + ";");
    if (!applied.ok()) {
      (void)Exec(db, "ROLLBACK");
      return Status::Runtime("migrating the history from version " + std::to_string(*version) +
                             ": " + applied.message());
    }
    Status committed = Exec(db, "COMMIT");
    if (!committed.ok()) return committed;
  }
}

}  // namespace

const char* HistorySchemaV1() { return kSchemaV1; }

Result<std::unique_ptr<RunHistory>> OpenSqliteHistory(const std::string& path) {
  // Created owner-only before SQLite opens it (SQLite would follow the umask).
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Status::FromErrno(errno, "history " + path);
  ::close(fd);
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return Status::Unavailable("history " + path + ": " + message);
  }
  sqlite3_busy_timeout(db, 10000);
  // Two processes opening a new database at once: switching it to WAL takes an exclusive lock,
  // and SQLite answers SQLITE_BUSY at once (without its busy handler) when waiting could
  // deadlock. Try again for as long as the busy timeout, in 20 ms steps.
  Status s;
  for (int attempt = 0; attempt < 500; ++attempt) {
    s = Exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
    if (s.ok()) s = Migrate(db);
    const int code = sqlite3_errcode(db) & 0xff;
    if (s.ok() || (code != SQLITE_BUSY && code != SQLITE_LOCKED)) break;
    ::usleep(20000);
  }
  if (!s.ok()) {
    sqlite3_close_v2(db);
    return Status::Runtime("history " + path + ": " + s.message());
  }
  return std::unique_ptr<RunHistory>(std::make_unique<SqliteHistory>(db));
}

}  // namespace ringfence
