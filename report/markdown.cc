#include "report/markdown.h"

#include "report/markup.h"
#include "report/run_facts.h"

namespace ringfence {

namespace {

// Text for one table cell (or a line): HTML escaped (GitHub renders HTML in Markdown), '|', '`',
// '*', '_', '[', ']' escaped, line breaks as spaces.
std::string Md(const std::string& text) {
  std::string escaped = EscapeText(text);
  std::string out;
  for (char c : escaped) {
    if (c == '\n' || c == '\r' || c == '\t') {
      out += ' ';
    } else if (c == '|' || c == '`' || c == '*' || c == '_' || c == '[' || c == ']' || c == '\\') {
      out += '\\';
      out += c;
    } else {
      out += c;
    }
  }
  return out;
}

// A command as code: a code span cannot hold its own backticks, so those become ' .
std::string Code(const std::string& text) {
  std::string out = EscapeText(text);
  for (char& c : out) {
    if (c == '`' || c == '\n' || c == '|') c = c == '`' ? '\'' : ' ';
  }
  return "<code>" + out + "</code>";
}

std::string Mark(bool ok) { return ok ? "✅" : "❌"; }

}  // namespace

std::string RenderMarkdown(const JournalModel& run, const std::string& journal_path) {
  const VerdictWord v = VerdictOf(run);
  const bool good = v.key == "passed";
  std::string out = "## " + std::string(good ? "✅ " : "❌ ") + v.label + ": " +
                    Md(run.title.empty() ? "run " + run.run_id : run.title) + "\n\n" +
                    Md(run.reason) + "\n\n";
  for (const auto& l : run.lacks) out += "> ⚠️ " + Md(l) + "\n";
  if (!run.lacks.empty()) out += "\n";
  out += "| | |\n|---|---|\n";
  out += "| run id | " + Code(run.run_id) + " |\n";
  out += "| seed | " + Code(std::to_string(run.seed)) + " |\n";
  out += "| replay | " + Code(ReplayCommand(run)) + " |\n";
  if (!run.host.empty()) out += "| ran on | " + Md(run.host + " · " + run.platform) + " |\n";
  if (!run.user.empty()) out += "| by | " + Md(run.user) + " |\n";
  out += "| started | " + Md(run.started_at) + " |\n";
  if (run.duration_s) out += "| duration | " + Md(HumanSeconds(*run.duration_s)) + " |\n";
  if (!journal_path.empty()) out += "| journal | " + Code(journal_path) + " |\n";

  const auto rows = RevertRows(run);
  if (!run.faults.empty()) {
    out += "\n### Faults\n\n| fault | expectation | reverted |\n|---|---|---|\n";
    for (const auto& f : run.faults) {
      out += "| " + Md(f.name + " (" + f.type + ")") + " | " + Mark(f.expectation_met) + " " +
             Md(f.expectation_met ? "met" : f.expectation_detail) + " | " + Mark(f.revert_ok) +
             " |\n";
    }
  }
  if (!rows.empty()) {
    out +=
        "\n### Revert proof\n\n| target | injected | reverted | active for | by |\n"
        "|---|---|---|---|---|\n";
    for (const auto& r : rows) {
      const TargetView& t = *r.target;
      out += "| " + (r.failed ? "❌ " : std::string()) + Md(r.fault->name + ": " + t.label) + " | " +
             Md(AtText(t.injected_t)) + " | " +
             (r.failed ? "**NOT REVERTED** — undo by hand: " + Code(t.manual_undo)
                       : Md(AtText(t.reverted_t))) +
             " | " + Md(ActiveFor(t)) + " | " + Md(RevertedByText(run, t)) + " |\n";
    }
  }
  if (const auto actions = OperatorRows(run); !actions.empty()) {
    out += "\n### Operator actions\n\n| when | who | action | detail |\n|---|---|---|---|\n";
    for (const auto& a : actions) {
      out += "| " + Md(a.t ? AtText(a.t) : a.at) + " | " + Md(a.who) + " | " + Md(a.action) +
             " | " + Md(a.detail) + " |\n";
    }
  }
  if (!run.guards.empty()) {
    out += "\n### Guards\n\n| guard | condition | samples | verdict |\n|---|---|---|---|\n";
    for (const auto& g : run.guards) {
      out += "| " + Md(g.name) + " | " + Md(g.threshold) + " | " + std::to_string(g.samples_total) +
             " | " + Mark(!g.breached) + " " +
             Md(g.breached ? "breached: " + g.breach_reason : "held") + " |\n";
    }
  }
  std::string probes;
  auto add = [&probes](const std::vector<ProbeView>& list, const std::string& when) {
    for (const auto& p : list) {
      probes += "| " + Md(when) + " | " + Md(p.name) + " | " + Md(ToleranceText(p.tolerance)) +
                " | " + Md(ValueText(p.value)) + " | " + Mark(p.met) + " |\n";
    }
  };
  add(run.before, "before");
  for (const auto& m : run.method) {
    if (m.probe) add({*m.probe}, "method");
  }
  if (run.after) add(*run.after, "after");
  if (!probes.empty()) {
    out +=
        "\n### Probes\n\n| when | probe | tolerance | measured | verdict "
        "|\n|---|---|---|---|---|\n" +
        probes;
  }
  if (!run.rollbacks.empty()) {
    out += "\n### Rollbacks\n\n| rollback | exit code | result |\n|---|---|---|\n";
    for (const auto& r : run.rollbacks) {
      out += "| " + Md(r.name) + " | " + (r.exit_code ? std::to_string(*r.exit_code) : "—") +
             " | " + Mark(r.ok) + " |\n";
    }
  }
  return out;
}

}  // namespace ringfence
