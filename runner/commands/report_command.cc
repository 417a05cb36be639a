#include "runner/commands/report_command.h"

#include <cstdio>

#include "report/journal_model.h"
#include "report/report_files.h"

namespace ringfence {

namespace {

// "runs/x.json" → "runs/x.html"; "journal" → "journal.html".
std::string HtmlBeside(const std::string& journal) {
  const size_t slash = journal.rfind('/');
  const size_t dot = journal.rfind('.');
  const bool has_extension =
      dot != std::string::npos && (slash == std::string::npos || dot > slash);
  return (has_extension ? journal.substr(0, dot) : journal) + ".html";
}

}  // namespace

int RunReportCommand(const ReportRequest& request) {
  ReportPaths paths{request.html, request.junit, request.markdown};
  if (paths.empty()) paths.html = HtmlBeside(request.journal);
  if (Status st = CheckReportPaths(paths, "--html", "--junit", "--markdown"); !st.ok()) {
    std::fprintf(stderr, "ringfence report: %s\n", st.message().c_str());
    return 2;
  }
  Result<JournalModel> run = ReadJournalFile(request.journal);
  if (!run.ok()) {
    std::fprintf(stderr, "ringfence report: %s\n", run.status().message().c_str());
    return 2;
  }
  if (Status st = WriteReports(*run, request.journal, paths); !st.ok()) {
    std::fprintf(stderr, "ringfence report: %s\n", st.message().c_str());
    return 3;
  }
  for (const std::string* path : {&paths.html, &paths.junit, &paths.markdown}) {
    if (!path->empty()) std::printf("%s\n", path->c_str());
  }
  for (const auto& lack : run->lacks) std::fprintf(stderr, "note: %s\n", lack.c_str());
  return 0;
}

}  // namespace ringfence
