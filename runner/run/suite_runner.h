#pragma once

#include <map>
#include <string>
#include <vector>

#include "report/suite_report.h"  // SuiteMember: the suite's result list
#include "runner/base/run_request.h"

namespace ringfence {

// One experiment to run, with its placeholders' values (every source already merged in the
// order of docs/suites.md: --var, --var-file, the experiment's vars and var files, the suite's).
struct SuiteEntry {
  std::string file;
  std::map<std::string, std::string> vars;
};

// A suite (`ringfence run A B DIR/`, `ringfence suite FILE`; docs/suites.md).
struct SuiteRequest {
  std::vector<SuiteEntry> experiments;  // in the order they run
  // Shared by every run: state dir, secrets, seed, progress, watchdog grace, … Its `file`,
  // `journal` and `vars` are replaced per experiment.
  RunRequest run;
  std::string journal_dir = ".";       // one journal per experiment, named after its file
  bool fail_fast = false;              // stop after the first run that does not pass
  std::vector<std::string> tags;       // run only experiments with one of these tags
  std::vector<std::string> skip_tags;  // skip experiments with one of these tags
};

struct SuiteResult {
  std::vector<SuiteMember> members;  // one per experiment, in order
  int exit_code = 0;                 // SuiteExitCode(members)
};

// The run's --report / --junit / --summary stand for the whole suite: one HTML index, one JUnit
// file (report/suite_report.h) and one Markdown table, written at the end; their folders are
// checked before anything runs (exit 2). The runs themselves write no reports.
// Validates every experiment first: when any is invalid, their errors are printed (stderr) in
// order, nothing runs and the exit code is 2. Otherwise takes the state dir's lock once (unless
// run.allow_concurrent or run.dry_run) and holds it across the runs, which go one after another
// (RunExperimentFile, each with its own journal in journal_dir); prints the summary table on
// stdout at the end. Never throws.
SuiteResult RunSuite(const SuiteRequest& request);

// The worst exit code of the members: 4 (a revert failed) beats an interruption (130, 143,
// 129), which beats 3 (runtime error), 2 (invalid input), 1 (failed), 0.
int SuiteExitCode(const std::vector<SuiteMember>& members);

// The journal file of each experiment in `dir`: "<dir>/<name>.journal.json", where <name> is
// the file's name without ".json"; a name taken by an earlier file gets "-2", "-3", ….
std::vector<std::string> SuiteJournalPaths(const std::vector<std::string>& files,
                                           const std::string& dir);

// The files of `run A B DIR/`: a folder stands for its *.json files (not its subfolders),
// sorted by name; a file stands for itself. A folder that cannot be listed or holds no *.json
// is an error in `errors` ("<folder>: …"); nothing else is checked here.
std::vector<std::string> ExpandSuiteArguments(const std::vector<std::string>& args,
                                              std::vector<std::string>& errors);

// The summary table: file, status, exit, journal — one line per member.
std::string SuiteSummaryTable(const std::vector<SuiteMember>& members);

}  // namespace ringfence
