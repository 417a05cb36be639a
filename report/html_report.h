#pragma once

#include <string>

#include "report/journal_model.h"

namespace ringfence {

// The HTML report of one run (docs/reports.md): one self-contained page — inline CSS and SVG, no
// script, nothing fetched — with the verdict banner, who ran it where, the timeline, the revert
// proof, probes, guards, faults (their `observed` as tables) and rollbacks. `journal_path` is
// shown when not empty. Every string from the journal is escaped.
std::string RenderHtmlReport(const JournalModel& run, const std::string& journal_path);

// The reports' one stylesheet (screen, narrow screens, print), for pages of the same family.
const char* ReportStylesheet();

}  // namespace ringfence
