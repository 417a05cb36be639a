#pragma once

#include <string>

#include "report/journal_model.h"

namespace ringfence {

// JUnit XML (docs/reports.md#junit-xml). One <testsuite> per run: a testcase for each steady-state
// probe before, each fault's expectation and its revert, each guard, each method probe, each
// steady-state probe after and each rollback; <failure> / <error> with the reason and the
// measured value, <skipped> for what did not run; times in seconds; properties run_id, seed,
// journal, status.
std::string JUnitTestSuite(const JournalModel& run, const std::string& journal_path);
// A whole file holding `suites` (<testsuite> elements) in one <testsuites>.
std::string JUnitDocument(const std::string& suites, const std::string& name);
// The JUnit file of one run.
std::string RenderJUnit(const JournalModel& run, const std::string& journal_path);

}  // namespace ringfence
