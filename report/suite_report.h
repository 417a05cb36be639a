#pragma once

#include <string>
#include <vector>

#include "core/base/status.h"

namespace ringfence {

// One experiment of a suite, as the suite runner saw it (docs/reports.md#suites).
struct SuiteMember {
  std::string file;
  std::string title;
  std::string journal_path; /* empty when it did not run */
  int exit_code = 0;
  std::string status;              /* passed|failed|aborted|error|revert_failed|invalid|skipped */
  std::vector<std::string> errors; /* validation errors for invalid */
};

// ONE JUnit file for the suite: <testsuites>, one <testsuite> per member — the run's own (from its
// journal) when it ran, else one testcase with <error> (invalid: every validation error; a journal
// that cannot be read: why) or <skipped> (skipped). Written atomically.
Status WriteSuiteJUnit(const std::vector<SuiteMember>& members, const std::string& path);
// ONE HTML page for the suite: the worst verdict as its banner, then a row per member (file,
// title, verdict, exit code, faults, guards breached, duration, journal), invalid members with
// their errors. Self-contained like a run's report. Written atomically.
Status WriteSuiteIndexHtml(const std::vector<SuiteMember>& members, const std::string& path);

// ONE Markdown summary for the suite (a CI job summary): the verdict line, then a table with a
// row per member (file, title, status, exit code, journal). Written atomically.
Status WriteSuiteMarkdown(const std::vector<SuiteMember>& members, const std::string& path);

}  // namespace ringfence
