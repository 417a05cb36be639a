#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/clock.h"
#include "core/base/status.h"
#include "core/engine/lifecycle.h"
#include "core/engine/run_observer.h"
#include "core/model/experiment.h"

namespace ringfence {

struct LedgerContents;  // core/ledger/file_ledger.h

// The journal: a stable, documented JSON interface (docs/journal.md).
// 3: who ran it where (`host`, `platform`, `user`, `command_line`), `duration_ms`, and each
// target's `reverted_by`.
inline constexpr int kJournalVersion = 3;

// Who ran a run, where and how (journal v3): read by the runner (core/sys/system_info.h), shown
// by reports. Empty fields are written as they are.
struct RunOrigin {
  std::string host;                       // the runner's host name
  std::string platform;                   // "Linux 6.1.0-18-amd64 x86_64"
  std::string user;                       // the effective user's name ("uid N" when it has none)
  std::vector<std::string> command_line;  // argv, program name first
};

// The journal of `report` (complete: `incomplete` is false; each guard's `samples` are the ones
// the report holds, i.e. GuardMonitor::ToJson()'s window).
nlohmann::json JournalJson(const RunReport& report, const Experiment& experiment,
                           const RunOrigin& origin = {});
// Writes `journal` to `path` atomically (temporary file, fsync, rename), mode 0644.
Status WriteJournal(const std::string& path, const nlohmann::json& journal);

// After the runner of `run_id` died: rewrites the checkpoint at `path` with every guard sample of
// `<path>.events` streamed in (it stays `incomplete`; `completed_after_crash` says `by` whom and
// when). Refuses (kInvalidInput) anything at `path` that is not an incomplete journal of that
// run with its event log, so a path read from a ledger cannot make it overwrite another file.
// kNotFound when it was completed already (once is enough: the watchdog, else `recover`).
// Each target the dead runner left unreverted gets its `reverted_by` from the run's `ledger`
// (read after the revert): whoever the ledger says reverted it (`by`, or "host watchdog" for
// what a remote host's watchdog had reverted), null while it is outstanding; without a ledger,
// or for a target the ledger does not hold, `by`.
Status CompleteJournalAfterCrash(const std::string& path, const std::string& run_id,
                                 const std::string& by, WallTime at,
                                 const LedgerContents* ledger = nullptr);
// The same for the journal a ledger's run record names (`journal`, `run_id`; checked reads).
// kNotFound when the record names none. On success `*path` (when not null) is the journal's.
Status CompleteJournalOfRun(const nlohmann::json& run_record, const std::string& by, WallTime at,
                            std::string* path = nullptr, const LedgerContents* ledger = nullptr);
// After a later revert of a crashed run (`recover` confirming what a host's watchdog did): the
// journal the ledger's run record names, completed already, gets the `reverted_by` of every
// target still without one that `ledger` now records as reverted. kNotFound when there is no such
// journal or nothing to add.
Status AddRevertedByToJournal(const LedgerContents& ledger);

// Writes the journal while the run goes, so that a runner that dies (SIGKILL included) leaves one:
//  - `<path>.events`: an append-only log, one JSON object a line — the run's header, every phase
//    change, every guard sample — written as each happens and fsync'd at phase changes and every
//    `flush_every`;
//  - `<path>` itself: an atomic checkpoint (temporary file + rename) at every phase change, every
//    operator action (OperatorActed) and every `flush_every`, marked `"incomplete": true, "status":
//    "incomplete"`, with each guard's last kGuardSampleWindow samples.
// Finish() writes the complete journal, with every guard sample streamed back from the event log
// (never all in memory), and removes the event log. Guard samples are not kept by the writer.
class JournalWriter : public RunJournal {
 public:
  // Applied to every JSON value before it reaches the disk (secrets redacted).
  using Redact = std::function<nlohmann::json(const nlohmann::json&)>;
  struct Options {
    Clock& clock;
    Redact redact;  // null: nothing redacted
    Duration flush_every = std::chrono::seconds(2);
    bool background = true;  // a thread of its own for the periodic flush and checkpoint
    RunOrigin origin;        // written into every checkpoint
  };

  // Truncates or creates `<path>.events` (mode 0644) and writes its header and a first
  // checkpoint. `experiment` must outlive the writer.
  static Result<std::unique_ptr<JournalWriter>> Open(const std::string& path,
                                                     const Experiment& experiment,
                                                     const std::string& run_id, Options options);
  ~JournalWriter() override;

  // The guards' live view (GuardMonitor::ToJson) for periodic checkpoints between phases.
  void SetLiveGuards(std::function<nlohmann::json()> guards);

  void GuardSampled(const std::string& guard, const GuardSample& sample) override;
  void Checkpoint(const RunReport& report, const std::string& phase) override;
  // Rewrites the checkpoint (fsync'd) with `actions` as its `operator_actions` at once; when
  // the newest is a `refused` request (anyone can send those), at the next periodic flush, so
  // that a flood of them cannot make the writer rewrite the file for each. A list no longer
  // than the one kept (an older copy that lost a race) is ignored.
  void OperatorActed(const nlohmann::json& actions) override;
  // The periodic work, also when `background` is false (tests, benches): fsync the event log
  // and rewrite the checkpoint if anything happened since the last one.
  void Flush();

  // The complete journal: `journal` (JournalJson of the final report) with each guard's
  // `samples` replaced by every sample of that guard in the event log, `samples_dropped` by those
  // that could not be logged. Then the event log is removed. Stops the periodic thread.
  Status Finish(nlohmann::json journal);

  // For a run that did not happen (its input was wrong): removes the checkpoint and the log.
  void Discard();

  const std::string& path() const { return path_; }
  std::string events_path() const { return path_ + ".events"; }
  uint64_t samples_logged() const { return samples_logged_.load(); }

 private:
  JournalWriter(std::string path, const Experiment& experiment, std::string run_id, Options options,
                int events_fd);
  bool AppendLine(const std::string& line);  // events_mu_ held; false when it was not written
  Status WriteCheckpoint(bool sync);         // checkpoint_mu_ held
  void Loop();

  const std::string path_;
  const Experiment& experiment_;
  const std::string run_id_;
  Options options_;
  int events_fd_ = -1;
  std::mutex events_mu_;                          // events_fd_ writes, samples_lost_
  std::map<std::string, uint64_t> samples_lost_;  // by guard name (as redacted)
  bool append_failed_ = false;                    // warned once
  std::atomic<uint64_t> samples_logged_{0};
  std::atomic<bool> dirty_{false};
  std::mutex checkpoint_mu_;                                   // everything below
  nlohmann::json head_;                                        // the last phase's journal
  nlohmann::json operator_actions_ = nlohmann::json::array();  // the longest list seen
  std::function<nlohmann::json()> live_guards_;
  bool finished_ = false;
  StopSource stop_;
  std::thread thread_;
};

}  // namespace ringfence
