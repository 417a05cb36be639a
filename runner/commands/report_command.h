#pragma once

#include <string>

namespace ringfence {

// `ringfence report JOURNAL [--html F] [--junit F] [--markdown F]` (docs/reports.md).
struct ReportRequest {
  std::string journal;
  std::string html, junit, markdown;  // none given: the HTML report beside the journal
};

// Renders the reports of a journal of any version (an older one: the report says what it
// lacks). Exit 0; 2 when the journal is not a journal, is truncated, is of a newer version, or a
// report's folder does not exist ("ringfence report: <why>"); 3 when a report cannot be written.
int RunReportCommand(const ReportRequest& request);

}  // namespace ringfence
