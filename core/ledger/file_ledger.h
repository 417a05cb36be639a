#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/clock.h"
#include "core/base/secret_values.h"
#include "core/ledger/revert_ledger.h"
#include "core/sys/system_clock.h"

namespace ringfence {

// The on-disk ledger format (docs/ledger.md; docs/crash-safety.md, docs/security.md). One file per
// run, `<state>/runs/<run id>.ledger` (mode 0600 in a 0700 state dir, core/ledger/state_dir.h), one
// record per line: `<MAC> <compact JSON>\n`, where MAC is HMAC-SHA256 under the state dir's ledger
// key of
// "<run id>\n<compact JSON>", as 64 hex digits. A line is trusted only when its MAC verifies;
// version 1 lines (a CRC-32 prefix, no key) are reported as not authenticated and never acted on.
// Every record carries "v" (the format version) and "type": run | watchdog | intent | reverted |
// end; every member is type-checked when read. Secret values are never written: records are
// concealed ("[redacted:<name>]") with the SecretValues the writer was given.
inline constexpr int kLedgerVersion = 2;

// One line as written for run `run_id` under `key`: the MAC prefix and the newline included.
std::string LedgerLine(const nlohmann::json& record, const std::string& key,
                       const std::string& run_id);
// The same for a record already serialized (`json`: one line of text, whatever it holds), without
// the newline: what the fuzz harness seals its inputs with, so that they reach the parser.
std::string SealedLedgerText(const std::string& json, const std::string& key,
                             const std::string& run_id);

// What a ledger file says. Reading never guesses: a line that cannot be trusted is listed in
// `problems` and otherwise ignored; a torn last line (a crash mid-write) is noted in `torn_tail`.
struct LedgerContents {
  std::string path;
  nlohmann::json run;                           // the "run" record (null if unreadable)
  nlohmann::json watchdog;                      // the last "watchdog" record, or null
  std::vector<nlohmann::json> watchdog_events;  // every "watchdog" record, in order
  nlohmann::json end;  // the "end" record, or null while the run has not finished
  struct Entry {
    uint64_t id = 0;
    UndoRecord undo;
    bool reverted = false;
    std::string reverted_by;  // runner | watchdog | host watchdog | recover
  };
  std::vector<Entry> entries;  // intents, in the order they were recorded
  // "line 7: authentication failed: ...", "line 9: /id: found \"x\": expected an unsigned integer"
  std::vector<std::string> problems;
  bool torn_tail = false;
  std::vector<const Entry*> Outstanding() const;  // not reverted, oldest first
};

// Reads a whole ledger file, `<state dir>/runs/<run id>.ledger`, after checking the state dir,
// runs/, the ledger key and the file itself against the rules of core/ledger/state_dir.h (a
// failure: kPermission "ledger P: is a symbolic link; not followed" and the like: the whole ledger
// is not trusted). kNotFound when it does not exist. Lines that fail authentication or the type
// checks are listed in `problems`, never acted on. Never throws.
Result<LedgerContents> ReadLedger(const std::string& path);
// ReadLedger's parsing half, without the file checks: `text` as read from `path`, the ledger of
// run `run_id`, its lines authenticated under `key`. Never throws (the fuzz harness calls it).
Result<LedgerContents> ParseLedgerText(const std::string& text, const std::string& path,
                                       const std::string& key, const std::string& run_id);

// Appends records to one run's ledger, fsync'ing each before returning, so that a record that
// was acknowledged survives a crash of the process (and of the machine, within what fsync
// promises). Thread-safe.
class FileLedger : public RevertLedger {
 public:
  // Creates `<state_dir>/runs/<run_id>.ledger` (and the directories, 0700, and the ledger key)
  // with its "run" record. Every record written is concealed with `secrets`; Outstanding()
  // returns the records as given, unconcealed (kept by this object, never read back). Records
  // without an "at" get `clock`'s wall time (Unix ms); `clock` must outlive the ledger.
  static Result<std::unique_ptr<FileLedger>> Create(const std::string& state_dir,
                                                    const std::string& run_id,
                                                    const nlohmann::json& run_record,
                                                    const SecretValues& secrets = SecretValues(),
                                                    Clock& clock = SystemClock());
  // Opens an existing ledger to append to (recover, the watchdog), with ReadLedger's checks. A
  // torn last line is closed off with a newline first, so that it stays one unreadable line and
  // never swallows a new one.
  static Result<std::unique_ptr<FileLedger>> OpenForAppend(
      const std::string& path, const SecretValues& secrets = SecretValues(),
      Clock& clock = SystemClock());
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
  FileLedger(std::string path, int fd, uint64_t next_id, std::string key, std::string run_id,
             SecretValues secrets, Clock& clock)
      : clock_(clock),
        path_(std::move(path)),
        fd_(fd),
        next_id_(next_id),
        key_(std::move(key)),
        run_id_(std::move(run_id)),
        secrets_(std::move(secrets)) {}
  Status AppendLocked(nlohmann::json record);

  Clock& clock_;
  std::string path_;
  int fd_ = -1;
  mutable std::mutex mu_;
  uint64_t next_id_ = 1;
  std::string key_;
  std::string run_id_;
  SecretValues secrets_;
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
