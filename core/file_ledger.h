#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/revert_ledger.h"

namespace ringfence {

// The on-disk ledger format (docs/ledger.md). One file per run, `<state>/runs/<run id>.ledger`,
// one record per line: `<crc32 as 8 hex digits> <compact JSON>\n`. Every record carries
// "v" (the format version) and "type": run | watchdog | intent | reverted | end.
inline constexpr int kLedgerVersion = 1;

// One line as written: the checksum prefix and the newline included.
std::string LedgerLine(const nlohmann::json& record);

// What a ledger file says. Reading never guesses: a line that cannot be trusted is listed in
// `problems` and otherwise ignored; a torn last line (a crash mid-write) is noted in `torn_tail`.
struct LedgerContents {
  std::string path;
  nlohmann::json run;       // the "run" record (null if unreadable)
  nlohmann::json watchdog;  // the last "watchdog" record, or null
  nlohmann::json end;       // the "end" record, or null while the run has not finished
  struct Entry {
    uint64_t id = 0;
    UndoRecord undo;
    bool reverted = false;
    std::string reverted_by;  // runner | watchdog | recover
  };
  std::vector<Entry> entries;  // intents, in the order they were recorded
  std::vector<std::string> problems;  // "line 7: checksum mismatch", ...
  bool torn_tail = false;
  std::vector<const Entry*> Outstanding() const;  // not reverted, oldest first
};

// Reads a whole ledger file. kNotFound when it does not exist; other read errors as Status.
Result<LedgerContents> ReadLedger(const std::string& path);

// Appends records to one run's ledger, fsync'ing each before returning, so that a record that
// was acknowledged survives a crash of the process (and of the machine, within what fsync
// promises). Thread-safe.
class FileLedger : public RevertLedger {
 public:
  // Creates `<state_dir>/runs/<run_id>.ledger` (and the directories) with its "run" record.
  static Result<std::unique_ptr<FileLedger>> Create(const std::string& state_dir,
                                                    const std::string& run_id,
                                                    const nlohmann::json& run_record);
  // Opens an existing ledger to append to (recover, the watchdog). A torn last line is closed
  // off with a newline first, so that it stays one unreadable line and never swallows a new one.
  static Result<std::unique_ptr<FileLedger>> OpenForAppend(const std::string& path);
  ~FileLedger() override;

  Result<uint64_t> RecordIntent(const UndoRecord& undo) override;
  Status RecordReverted(uint64_t id) override;
  std::vector<std::pair<uint64_t, UndoRecord>> Outstanding() const override;

  // Marks `id` reverted by someone else than the runner ("watchdog", "recover").
  Status RecordRevertedBy(uint64_t id, const std::string& by);
  // Any other record (watchdog, end). "v" is added.
  Status Append(nlohmann::json record);
  const std::string& path() const { return path_; }

 private:
  FileLedger(std::string path, int fd, uint64_t next_id) : path_(std::move(path)), fd_(fd), next_id_(next_id) {}
  Status AppendLocked(nlohmann::json record);

  std::string path_;
  int fd_ = -1;
  mutable std::mutex mu_;
  uint64_t next_id_ = 1;
  std::vector<std::pair<uint64_t, UndoRecord>> intents_;
  std::vector<uint64_t> reverted_;
};

// The ledger path of a run.
std::string LedgerPath(const std::string& state_dir, const std::string& run_id);
// Every ledger under `<state_dir>/runs`, sorted by name (which sorts by start time).
std::vector<std::string> ListLedgers(const std::string& state_dir);
// /var/lib/ringfence for root, else $XDG_STATE_HOME/ringfence (default ~/.local/state/ringfence).
std::string DefaultStateDir();

}  // namespace ringfence
