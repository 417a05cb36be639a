#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/clock.h"
#include "core/base/status.h"

namespace ringfence {

// A journal (docs/journal.md), read back for reports: every field the reports use, checked
// (a journal is input: a wrong type is an error naming its JSON pointer, never an exception).
// Times are seconds since the run's start (`t`), for the one time axis of the timeline.

struct ProbeView {
  std::string name, type, detail;
  nlohmann::json value, tolerance;
  bool met = false;
};

struct MethodEntryView {
  int64_t step = 0;
  std::optional<double> t;
  std::string at;
  std::string wait;                // "5s" for a wait
  std::optional<ProbeView> probe;  // for a method probe
  bool skipped = false;            // an operator skipped the step (game days)
  std::string name, skipped_by;    // the skipped step's name, and who skipped it
};

struct TargetView {
  std::string label, host, error, verification, manual_undo;
  std::string injected_at, reverted_at;  // RFC 3339, "" when it did not happen
  std::optional<double> injected_t, reverted_t;
  bool inject_ok = false, revert_ok = false, has_undo = false;
  std::optional<bool> verified;
  std::string reverted_by;  // runner | watchdog | host watchdog | recover; "" unknown or none
};

struct FaultView {
  std::string name, type, target, duration, start_after, expectation_detail;
  nlohmann::json params, observed, observed_after_revert;
  bool expectation_met = true, revert_ok = true;
  std::vector<TargetView> targets;
};

struct SampleView {
  double t = 0;
  std::optional<double> value;
  std::string verdict;  // ok | breach | no_data | error | warming_up
  std::string detail;
};

struct GuardView {
  std::string name, source, threshold, interval;
  nlohmann::json condition = nlohmann::json::object();
  std::optional<double> baseline;
  std::vector<SampleView> samples;
  uint64_t samples_total = 0, samples_dropped = 0;
  std::map<std::string, uint64_t> verdicts;  // count per verdict, over `samples`
  bool breached = false;
  std::string breach_reason;
};

struct RollbackView {
  std::string name, started_at, error, stderr_text;
  std::vector<std::string> argv;
  std::optional<double> t;
  std::optional<int64_t> exit_code;
  bool timed_out = false, ok = false;
};

struct AbortView {
  std::string guard, reason, threshold;
  std::optional<double> value;
  std::optional<double> sampled_t, detected_t, all_reverted_t;
  // An operator's abort (game days): `by` is "operator", `who` acted, when they asked.
  std::string by, who;
  std::optional<double> requested_t;
  bool by_operator() const { return by == "operator"; }
};

// One operator action of a game day (the journal's `operator_actions`).
struct OperatorActionView {
  std::string at, who, action, text;  // action: abort, hold, continue, skip, note, refused
  std::optional<double> t;
  std::optional<int64_t> before_step;  // the method step the engine waited before (0-based)
  std::string step;                    // that step's name, when the journal has it
};

struct JournalModel {
  int64_t version = 0;
  bool incomplete = false;
  std::string phase;                  // where a checkpoint's run was
  std::string completed_after_crash;  // "watchdog" / "recover" / ""
  std::string status, reason, run_id, ringfence_version;
  std::string title, description, file;
  std::vector<std::string> tags;
  uint64_t seed = 0;
  std::string started_at, ended_at;
  WallTime start{};
  std::optional<double> duration_s;  // end - start
  std::string host, platform, user;
  std::vector<std::string> command_line;
  std::vector<ProbeView> before;
  std::optional<std::vector<ProbeView>> after;  // nullopt: not checked
  std::optional<double> before_t, after_t;
  std::vector<MethodEntryView> method;
  std::vector<FaultView> faults;
  std::vector<GuardView> guards;
  std::vector<RollbackView> rollbacks;
  bool reverted_cleanly = true;
  std::vector<std::string> manual_undo;
  std::optional<AbortView> abort;
  std::vector<OperatorActionView> operator_actions;
  // What this journal (an older version, or a checkpoint) does not hold, one line each, for the
  // report to say so.
  std::vector<std::string> lacks;

  // The end of the time axis: the run's end, else the latest time the journal holds.
  double span_s() const;
};

// Reads a journal file (at most 1 GiB, checked first like any input file). Errors, each naming
// the file: "<path>: not JSON (<parser's message>)", "<path>: truncated: the JSON ends before
// its last value does (a journal cut short)", "<path>: not a ringfence journal (no
// journal_version)", "<path>: journal_version 9 is newer than this ringfence reads (at most
// 3); use a newer ringfence", "<path>: <pointer>: found <value>: expected <what>".
Result<JournalModel> ReadJournalFile(const std::string& path);
// The same from parsed JSON; `source` names it in errors.
Result<JournalModel> JournalModelFromJson(const nlohmann::json& journal, const std::string& source);

}  // namespace ringfence
