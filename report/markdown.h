#pragma once

#include <string>

#include "report/journal_model.h"

namespace ringfence {

// The Markdown summary of one run (docs/reports.md), for a CI job summary or a chat message:
// the verdict, who ran it where, the replay command, and tables of faults (with the revert
// proof), guards and probes. Strings from the journal cannot break a table or inject HTML.
std::string RenderMarkdown(const JournalModel& run, const std::string& journal_path);

}  // namespace ringfence
