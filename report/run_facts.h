#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "report/journal_model.h"

namespace ringfence {

// What every report (HTML, JUnit, Markdown) says the same way about a run.

// The banner's verdict: key (a CSS class and a word: passed, failed, aborted, error,
// revert-failed, interrupted, incomplete) and its label for people ("REVERT FAILED").
struct VerdictWord {
  std::string key;
  std::string label;
};
VerdictWord VerdictOf(const JournalModel& run);

// The command that replays the run: its command line with `--seed` set to the recorded seed
// (shell words). Without a recorded command line (journal_version < 3): a `ringfence run`
// template, and `known` false.
std::string ReplayCommand(const JournalModel& run, bool* known = nullptr);

// A probe's tolerance for people: "200", "5 … 10", "≥ 5", "matches ^ok$", or its JSON.
std::string ToleranceText(const nlohmann::json& tolerance);
// A JSON value for people: a string as it is, a number as a figure, anything else as JSON.
std::string ValueText(const nlohmann::json& value);

// One undo record of the run, for the revert-proof table.
struct RevertRow {
  const FaultView* fault = nullptr;
  const TargetView* target = nullptr;
  bool failed = false;  // not reverted (and verified): shown first
};
// Every target that has an undo record, the failed ones first, then in journal order.
std::vector<RevertRow> RevertRows(const JournalModel& run);
// "runner", "watchdog", …; what a row shows when the journal does not say.
std::string RevertedByText(const JournalModel& run, const TargetView& target);
// How long a target was active, "" when it is not known.
std::string ActiveFor(const TargetView& target);
// One row of a game day's operator log: an operator action, or a method step an operator's skip
// kept from running (the engine's decision, from the method log).
struct OperatorRow {
  std::optional<double> t;
  std::string at, who;
  std::string action;  // abort, hold, continue, skip, note, refused; "step skipped"
  std::string detail;  // the note's text, what was refused, the step it was before
};
// Every operator action and skipped step, in time order ("" times last, journal order kept).
std::vector<OperatorRow> OperatorRows(const JournalModel& run);

// "T+1.25 s" for a time on the run's axis ("" for none), with the RFC 3339 time when known.
std::string AtText(const std::optional<double>& t, const std::string& at = "");

}  // namespace ringfence
