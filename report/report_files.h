#pragma once

#include <string>

#include "core/base/status.h"
#include "report/journal_model.h"

namespace ringfence {

// Where the reports of one run go; "" for one not asked for.
struct ReportPaths {
  std::string html, junit, markdown;
  bool empty() const { return html.empty() && junit.empty() && markdown.empty(); }
};

// Whether a report can be written at `path`, checked before a run starts: its folder exists
// and is a folder, and `path` is not a folder. kInvalidInput "<option> \"<path>\": the folder
// <dir> does not exist" (or "… is not a folder", "… is a folder").
Status CheckReportPath(const std::string& option, const std::string& path);
// CheckReportPath for each of `paths` (--report / --html, --junit, --summary / --markdown named
// by the caller's options).
Status CheckReportPaths(const ReportPaths& paths, const std::string& html_option,
                        const std::string& junit_option, const std::string& markdown_option);

// Writes the reports of `run` that `paths` asks for, each atomically (temporary file beside it,
// then rename; mode 0644). The first failure is returned; the others are still written.
Status WriteReports(const JournalModel& run, const std::string& journal_path,
                    const ReportPaths& paths);

// Writes `text` to `path` atomically (temporary file beside it, rename), mode 0644.
Status WriteTextFileAtomically(const std::string& path, const std::string& text);

}  // namespace ringfence
