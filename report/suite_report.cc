#include "report/suite_report.h"

#include <algorithm>

#include "report/html_report.h"
#include "report/journal_model.h"
#include "report/junit.h"
#include "report/markup.h"
#include "report/report_files.h"
#include "report/run_facts.h"

namespace ringfence {

namespace {

std::string Name(const SuiteMember& m) { return m.title.empty() ? m.file : m.title; }

// A member that has no journal to report from: one testcase saying why.
std::string PlaceholderSuite(const SuiteMember& m, const std::string& why) {
  const bool skipped = m.status == "skipped";
  std::string text;
  for (const auto& e : m.errors) text += e + "\n";
  const std::string name = EscapeText(Name(m));
  std::string out = "  <testsuite name=\"" + name + "\" tests=\"1\" failures=\"0\" errors=\"" +
                    (skipped ? "0" : "1") + "\" skipped=\"" + (skipped ? "1" : "0") +
                    "\" time=\"0\">\n    <properties>\n      <property name=\"file\" value=\"" +
                    EscapeText(m.file) + "\"/>\n      <property name=\"status\" value=\"" +
                    EscapeText(m.status) + "\"/>\n    </properties>\n    <testcase classname=\"" +
                    name + "\" name=\"" + (m.status == "invalid" ? "validate" : "run") +
                    "\" time=\"0\">\n      ";
  if (skipped) {
    out += "<skipped message=\"" + EscapeText(why) + "\"/>\n";
  } else {
    out += "<error type=\"error\" message=\"" + EscapeText(why) + "\">" + EscapeText(text) +
           "</error>\n";
  }
  return out + "    </testcase>\n  </testsuite>\n";
}

std::string WhyNoJournal(const SuiteMember& m) {
  if (m.status == "invalid") {
    return std::to_string(m.errors.size()) + " validation error" +
           (m.errors.size() == 1 ? "" : "s") + "; nothing was run";
  }
  if (m.status == "skipped") return "not run (skipped)";
  return "did not run (" + m.status + ", exit " + std::to_string(m.exit_code) + ")";
}

// The suite's verdict: the worst member's, by the exit-code precedence of docs/cli.md.
int Severity(const SuiteMember& m) {
  if (m.status == "invalid") return 5;
  if (m.status == "revert_failed") return 4;
  if (m.status == "error") return 3;
  if (m.status == "failed" || m.status == "aborted") return 2;
  if (m.status == "skipped") return 1;
  return 0;
}

std::string MemberRow(const SuiteMember& m) {
  std::string verdict = m.status, faults = "—", breached = "—", duration = "—", reason;
  std::string css = m.status == "passed" ? "passed" : m.status == "skipped" ? "skipped" : "failed";
  if (!m.journal_path.empty()) {
    auto run = ReadJournalFile(m.journal_path);
    if (run.ok()) {
      verdict = VerdictOf(*run).label;
      faults = std::to_string(run->faults.size());
      size_t n = 0;
      for (const auto& g : run->guards) n += g.breached;
      breached = std::to_string(n) + " of " + std::to_string(run->guards.size());
      if (run->duration_s) duration = HumanSeconds(*run->duration_s);
      reason = run->reason;
    } else {
      reason = run.status().message();
    }
  }
  for (const auto& e : m.errors) reason += (reason.empty() ? "" : "\n") + e;
  auto cell = [](const std::string& s) { return "<td>" + EscapeText(s) + "</td>"; };
  return "<tr class=\"member " + css + "\" data-status=\"" + EscapeText(m.status) + "\">" +
         cell(m.file) + cell(m.title) + "<td class=\"" +
         (css == "passed"    ? "pass-cell"
          : css == "skipped" ? "skip-cell"
                             : "fail-cell") +
         "\">" + EscapeText(verdict) + "</td>" + cell(std::to_string(m.exit_code)) + cell(faults) +
         cell(breached) + cell(duration) +
         (reason.empty() ? std::string("<td></td>")
                         : "<td><pre>" + EscapeText(reason) + "</pre></td>") +
         "<td>" +
         (m.journal_path.empty() ? "—" : "<code>" + EscapeText(m.journal_path) + "</code>") +
         "</td></tr>\n";
}

}  // namespace

Status WriteSuiteJUnit(const std::vector<SuiteMember>& members, const std::string& path) {
  std::string suites;
  for (const auto& m : members) {
    if (m.journal_path.empty()) {
      suites += PlaceholderSuite(m, WhyNoJournal(m));
      continue;
    }
    auto run = ReadJournalFile(m.journal_path);
    suites += run.ok() ? JUnitTestSuite(*run, m.journal_path)
                       : PlaceholderSuite(m, run.status().message());
  }
  return WriteTextFileAtomically(path, JUnitDocument(suites, "ringfence suite"));
}

Status WriteSuiteIndexHtml(const std::vector<SuiteMember>& members, const std::string& path) {
  int worst = 0;
  size_t passed = 0;
  for (const auto& m : members) {
    worst = std::max(worst, Severity(m));
    passed += m.status == "passed";
  }
  const char* key = worst == 0 ? "passed" : worst == 1 ? "interrupted" : "failed";
  const std::string label = worst == 0   ? "PASSED"
                            : worst == 5 ? "INVALID"
                            : worst == 4 ? "REVERT FAILED"
                            : worst == 3 ? "ERROR"
                            : worst == 2 ? "FAILED"
                                         : "SKIPPED";
  std::string page =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta "
      "name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
      EscapeText(label) + " · ringfence suite</title>\n<style>" + ReportStylesheet() +
      "</style>\n</head>\n<body>\n<div class=\"banner " + key +
      "\" id=\"verdict\" data-verdict=\"" + key + "\">" + EscapeText(label) +
      "<span class=\"why\">" + std::to_string(passed) + " of " + std::to_string(members.size()) +
      " experiments passed</span></div>\n<h1>ringfence suite</h1>\n<div class=\"scroll\"><table>"
      "<thead><tr><th>file</th><th>title</th><th>verdict</th><th>exit</th><th>faults</th>"
      "<th>guards breached</th><th>duration</th><th>reason</th><th>journal</th></tr></thead>"
      "<tbody>\n";
  for (const auto& m : members) page += MemberRow(m);
  page +=
      "</tbody></table></div>\n<footer>Written by ringfence; this page loads nothing from "
      "anywhere.</footer>\n</body>\n</html>\n";
  return WriteTextFileAtomically(path, page);
}

namespace {
// A table cell: no line break, no unescaped pipe.
std::string MarkdownCell(std::string text) {
  std::string out;
  for (char c : text) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n' || c == '\r') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out.empty() ? "—" : out;
}
}  // namespace

Status WriteSuiteMarkdown(const std::vector<SuiteMember>& members, const std::string& path) {
  size_t passed = 0;
  for (const auto& m : members) passed += m.status == "passed";
  std::string text = "## ringfence suite: " + std::to_string(passed) + " of " +
                     std::to_string(members.size()) + " experiments passed\n\n" +
                     "| file | title | status | exit | journal |\n|---|---|---|---|---|\n";
  for (const auto& m : members) {
    text += "| " + MarkdownCell(m.file) + " | " + MarkdownCell(m.title) + " | " +
            MarkdownCell(m.status) + " | " + std::to_string(m.exit_code) + " | " +
            MarkdownCell(m.journal_path) + " |\n";
  }
  return WriteTextFileAtomically(path, text);
}

}  // namespace ringfence
