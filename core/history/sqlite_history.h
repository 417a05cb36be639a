#pragma once

#include <memory>
#include <string>

#include "core/history/history.h"

namespace ringfence {

// The history database's name in a state dir.
inline constexpr char kHistoryFileName[] = "history.db";
// The schema version this build writes; older databases are migrated when opened.
inline constexpr int kHistorySchemaVersion = 3;

// Opens (creating it, mode 0600) the SQLite history at `path`: WAL journal, a busy timeout of
// 10 s for concurrent writers, synchronous=FULL so that a committed run survives a crash, and
// the schema migrated to kHistorySchemaVersion (PRAGMA user_version; docs/scheduling.md lists
// the versions). A process killed mid-write leaves the last committed state (SQLite's WAL).
// kRuntime / kUnavailable with SQLite's message on failure. Never throws.
Result<std::unique_ptr<RunHistory>> OpenSqliteHistory(const std::string& path);

// The schema of version 1 (run id, title, started/ended, status, exit code, journal): for the
// migration test, which builds a version 1 database and opens it with this build.
const char* HistorySchemaV1();

}  // namespace ringfence
