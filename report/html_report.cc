// The HTML report (report/html_report.h): one self-contained page, no script, nothing fetched.
#include "report/html_report.h"

#include <algorithm>

#include "report/json_table.h"
#include "report/markup.h"
#include "report/run_facts.h"
#include "report/svg.h"
#include "report/timeline.h"

namespace ringfence {

namespace {

// The page's one stylesheet: colours by verdict, a print stylesheet, narrow screens.
constexpr const char* kStyle = R"css(
:root{--ok:#1a7f37;--bad:#cf222e;--warn:#9a6700;--muted:#57606a;--line:#d0d7de;--bg:#f6f8fa}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;margin:0 auto;max-width:1100px;padding:0 16px 40px}
h1{font-size:1.5em;margin:.6em 0 .2em;overflow-wrap:anywhere}
h2{font-size:1.15em;margin:1.6em 0 .5em;border-bottom:1px solid var(--line);padding-bottom:.2em}
p.hypothesis{white-space:pre-wrap;overflow-wrap:anywhere;margin:.3em 0 1em;color:#24292f}
.banner{margin:16px 0 8px;padding:14px 18px;border-radius:8px;color:#fff;font-weight:700;font-size:1.35em;letter-spacing:.04em}
.banner .why{display:block;font-weight:400;font-size:.68em;letter-spacing:0;margin-top:4px;overflow-wrap:anywhere}
.banner.passed{background:var(--ok)}.banner.failed,.banner.error,.banner.revert-failed{background:var(--bad)}
.banner.aborted{background:#bc4c00}.banner.interrupted,.banner.incomplete{background:var(--warn)}
.lacks{border:1px solid #d4a72c;background:#fff8c5;padding:8px 12px;border-radius:6px;margin:10px 0}
.lacks ul{margin:.2em 0 0 1.2em;padding:0}
table{border-collapse:collapse;margin:.3em 0 1em;max-width:100%}
th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
thead th{background:var(--bg);overflow-wrap:normal;white-space:nowrap}
table.facts th{background:var(--bg);white-space:nowrap;font-weight:600}
table.kv,table.rows{margin:0;font-size:.95em}
.scroll{overflow-x:auto;max-width:100%}
code,pre{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;overflow-wrap:anywhere;white-space:pre-wrap}
.pass-cell{color:var(--ok);font-weight:600}.fail-cell{color:var(--bad);font-weight:600}.skip-cell{color:var(--muted)}
tr.failed td{background:#ffebe9;color:#82071e}
.none{color:var(--muted)}
.legend>span{display:inline-block;margin-right:14px;font-size:.9em}
.legend .swatch{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px;border-radius:2px;overflow:hidden;line-height:12px}
.fault-active{background:#0969da}
svg.timeline{width:100%;min-width:640px;height:auto;display:block;font-family:system-ui,sans-serif}
svg .grid{stroke:#eaeef2;stroke-width:1}
svg .tick{font-size:10px;fill:var(--muted)}
svg .row-label{font-size:11px;fill:#24292f}svg .strong{font-weight:700}
svg .pass-text{font-size:11px;fill:var(--ok);font-weight:700}svg .fail-text{font-size:11px;fill:var(--bad);font-weight:700}
svg .fault-bar.reverted{fill:#0969da}svg .fault-bar.failed{fill:var(--bad)}svg .fault-bar.inject-failed{fill:#8c959f}
svg .tick-mark{stroke-width:2}svg .tick-mark.wait{stroke:#8c959f}svg .tick-mark.pass{stroke:var(--ok)}
svg .tick-mark.fail{stroke:var(--bad)}svg .tick-mark.fault-start{stroke:#0969da}
svg .steady-mark.pass{fill:var(--ok)}svg .steady-mark.fail{fill:var(--bad)}svg .mark-label{font-size:10px;fill:#24292f}
svg .chart-frame{fill:#fff;stroke:var(--line)}
svg .series{fill:none;stroke:#0969da;stroke-width:1.4;stroke-linejoin:round}
svg .threshold{stroke:var(--bad);stroke-dasharray:6 4;stroke-width:1.2}
svg .baseline{stroke:#8250df;stroke-dasharray:2 3;stroke-width:1.2}
svg .level-label{font-size:9.5px;fill:var(--muted)}
svg .marker{stroke-width:1.6;stroke-dasharray:5 3}svg .marker.abort{stroke:var(--bad)}svg .marker.all-reverted{stroke:var(--ok)}
svg .marker-label{font-size:10px;font-weight:700}svg .marker-label.abort{fill:var(--bad)}svg .marker-label.all-reverted{fill:var(--ok)}
.v-ok{fill:#8fd19e;background:#8fd19e}.v-warming_up{fill:#afb8c1;background:#afb8c1}.v-no_data{fill:#d4a72c;background:#d4a72c}
.v-error{fill:#8250df;background:#8250df}.v-breach{fill:var(--bad);background:var(--bad)}
svg .point.v-breach{stroke:#fff;stroke-width:.8}
svg.waves{width:100%;max-width:900px;height:auto;display:block}
svg .wave-planned{fill:#eaeef2;stroke:var(--line)}svg .wave-exposed{fill:#0969da}svg .wave-unhealthy{fill:var(--bad)}
svg .wave-label{font-size:12px;fill:#24292f}
.figures{display:flex;flex-wrap:wrap;gap:10px;margin:.5em 0 1em}
.figure{border:1px solid var(--line);border-radius:6px;padding:6px 12px;min-width:130px}
.figure b{display:block;font-size:1.3em}.figure span{color:var(--muted);font-size:.85em}
.figure.bad b{color:var(--bad)}.figure.good b{color:var(--ok)}
details summary{cursor:pointer;color:var(--muted)}
h3.rollout{font-size:1em;margin:1em 0 .3em}
small{color:var(--muted)}
footer{margin-top:2em;color:var(--muted);font-size:.85em}
@media (max-width:700px){body{font-size:14px;padding:0 8px 24px}.banner{font-size:1.1em}th,td{padding:3px 5px}}
@media print{details>*{display:block}body{max-width:none;font-size:11pt;padding:0}.banner{-webkit-print-color-adjust:exact;print-color-adjust:exact;border:2px solid #000}
svg,.v-ok,.v-breach,.v-no_data,.v-error,.v-warming_up,tr.failed td{-webkit-print-color-adjust:exact;print-color-adjust:exact}
svg.timeline{min-width:0}.scroll{overflow:visible}h2{break-after:avoid}table,svg,.figure{break-inside:avoid}a{color:inherit;text-decoration:none}}
)css";

std::string Escape(const std::string& s) { return EscapeText(s); }

std::string Cell(const std::string& s) { return "<td>" + Escape(s) + "</td>"; }

// "T+1.25 s" with the wall-clock time under it, small.
std::string AtCell(const std::optional<double>& t, const std::string& at) {
  if (!t) return Cell(at);
  // The time of day (UTC) only: the date is in the facts above.
  const std::string clock = at.size() == 24 && at[10] == 'T' ? at.substr(11, 12) + " UTC" : at;
  return "<td>" + Escape(AtText(t)) +
         (clock.empty() ? "" : "<br><small>" + Escape(clock) + "</small>") + "</td>";
}

std::string VerdictCell(bool ok, const std::string& yes, const std::string& no) {
  return ok ? "<td class=\"pass-cell\">" + Escape(yes) + "</td>"
            : "<td class=\"fail-cell\">" + Escape(no) + "</td>";
}

std::string Head(const JournalModel& run) {
  const std::string title = run.title.empty() ? "ringfence run " + run.run_id : run.title;
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
         "<meta name=\"generator\" content=\"ringfence\">\n<title>" +
         Escape(VerdictOf(run).label + " · " + title) + "</title>\n<style>" + kStyle +
         "</style>\n</head>\n<body>\n";
}

// The experiment's description, led by "Hypothesis:" once (descriptions often start with it).
std::string Hypothesis(const std::string& description) {
  const std::string word = "Hypothesis";
  if (description.compare(0, word.size(), word) != 0) {
    return "<strong>" + word + ":</strong> " + Escape(description);
  }
  const size_t colon = description.find(':');
  if (colon == std::string::npos || colon > 40) return Escape(description);
  return "<strong>" + Escape(description.substr(0, colon + 1)) + "</strong>" +
         Escape(description.substr(colon + 1));
}

std::string Banner(const JournalModel& run) {
  const VerdictWord v = VerdictOf(run);
  return "<div class=\"banner " + v.key + "\" id=\"verdict\" data-verdict=\"" + v.key + "\">" +
         Escape(v.label) + "<span class=\"why\">" + Escape(run.reason) + "</span></div>\n<h1>" +
         Escape(run.title.empty() ? "(untitled experiment)" : run.title) + "</h1>\n" +
         (run.description.empty()
              ? ""
              : "<p class=\"hypothesis\">" + Hypothesis(run.description) + "</p>\n");
}

std::string Lacks(const JournalModel& run) {
  if (run.lacks.empty()) return "";
  std::string out =
      "<div class=\"lacks\" id=\"lacks\"><strong>What this journal does not hold</strong><ul>";
  for (const auto& l : run.lacks) out += "<li>" + Escape(l) + "</li>";
  return out + "</ul></div>\n";
}

std::string Facts(const JournalModel& run, const std::string& journal_path) {
  bool known = false;
  const std::string replay = ReplayCommand(run, &known);
  auto row = [](const std::string& name, const std::string& value_html) {
    return "<tr><th scope=\"row\">" + name + "</th><td>" + value_html + "</td></tr>";
  };
  auto or_unknown = [&run](const std::string& v) {
    return v.empty() ? std::string("<span class=\"none\">") +
                           (run.version < 3 ? "not recorded (journal_version &lt; 3)" : "unknown") +
                           "</span>"
                     : Escape(v);
  };
  std::string out = "<table class=\"facts\">";
  out += row("run id", "<code>" + Escape(run.run_id) + "</code>");
  out += row("seed", "<code>" + std::to_string(run.seed) + "</code>");
  out += row("replay",
             "<code id=\"replay\">" + Escape(replay) + "</code>" +
                 (known ? "" : " <span class=\"none\">(the command line is not recorded)</span>"));
  out += row("ran on",
             or_unknown(run.host) + (run.platform.empty() ? "" : " · " + Escape(run.platform)));
  out += row("by", or_unknown(run.user));
  out += row("ringfence",
             Escape(run.ringfence_version) + " · journal_version " + std::to_string(run.version));
  out += row("started", Escape(run.started_at));
  out += row("ended", run.ended_at.empty() ? "<span class=\"none\">did not end</span>"
                                           : Escape(run.ended_at));
  out += row("duration", run.duration_s ? Escape(HumanSeconds(*run.duration_s))
                                        : "<span class=\"none\">unknown</span>");
  if (!run.completed_after_crash.empty()) {
    out += row("completed after a crash", "by " + Escape(run.completed_after_crash));
  }
  if (!run.tags.empty()) {
    std::string tags;
    for (const auto& t : run.tags) tags += (tags.empty() ? "" : ", ") + Escape(t);
    out += row("tags", tags);
  }
  if (!journal_path.empty()) out += row("journal", "<code>" + Escape(journal_path) + "</code>");
  return out + "</table>\n";
}

std::string Legend() {
  std::string out = "<p class=\"legend\">";
  const std::pair<const char*, const char*> keys[] = {
      {"v-ok", "ok"},       {"v-warming_up", "warming up"}, {"v-no_data", "no data"},
      {"v-error", "error"}, {"v-breach", "breach"},         {"fault-active", "fault active"}};
  for (const auto& [css, label] : keys) {
    out +=
        "<span><span class=\"swatch " + std::string(css) + "\">&nbsp;</span>" + label + "</span>";
  }
  return out + "</p>\n";
}

std::string Figures(const nlohmann::json& o);
std::string WaveStrips(const nlohmann::json& waves);

// bad_update faults: the blast-radius figures and one strip per wave, under the timeline.
std::string Rollouts(const JournalModel& run) {
  std::string out;
  for (const auto& f : run.faults) {
    if (f.type != "bad_update" || !f.observed.is_object()) continue;
    out += "<h3 class=\"rollout\">Rollout of " + Escape(f.name) +
           ": blast radius and waves</h3>\n" + Figures(f.observed);
    if (f.observed.contains("waves")) out += WaveStrips(f.observed["waves"]);
  }
  return out;
}

std::string Timeline(const JournalModel& run) {
  return "<h2 id=\"timeline\">Timeline</h2>\n" + Legend() + "<div class=\"scroll\">" +
         RenderTimeline(run) + "</div>\n" + Rollouts(run);
}

// A game day's operator log: who held, continued, skipped, noted or aborted, and when. Only
// when operators acted (docs/game-days.md).
std::string OperatorActions(const JournalModel& run) {
  const auto rows = OperatorRows(run);
  if (rows.empty()) return "";
  std::string out =
      "<h2 id=\"operator-actions\">Operator actions</h2>\n<div class=\"scroll\"><table "
      "class=\"operator-actions\"><thead><tr><th>when</th><th>who</th><th>action</th>"
      "<th>detail</th></tr></thead><tbody>\n";
  for (const OperatorRow& r : rows) {
    const bool loud = r.action == "abort" || r.action == "refused";
    out += "<tr class=\"operator-row\" data-action=\"" + Escape(r.action) + "\">" +
           AtCell(r.t, r.at) + Cell(r.who) +
           (loud ? "<td class=\"fail-cell\">" + Escape(r.action) + "</td>" : Cell(r.action)) +
           Cell(r.detail) + "</tr>\n";
  }
  return out + "</tbody></table></div>\n";
}

std::string RevertProof(const JournalModel& run) {
  std::string out = "<h2 id=\"revert-proof\">Revert proof</h2>\n";
  const auto rows = RevertRows(run);
  if (rows.empty())
    return out + "<p class=\"none\">No fault was injected: nothing to revert.</p>\n";
  out += "<p>" +
         std::string(run.reverted_cleanly && run.manual_undo.empty()
                         ? "Every injected fault was reverted and verified."
                         : "<strong class=\"fail-cell\">Not every fault was reverted: "
                           "undo the red rows by hand.</strong>") +
         "</p>\n<div class=\"scroll\"><table class=\"revert-proof\"><thead><tr><th>fault</th>"
         "<th>target</th><th>injected at</th><th>reverted at</th><th>active for</th>"
         "<th>reverted by</th><th>verified</th></tr></thead><tbody>\n";
  for (const RevertRow& r : rows) {
    const TargetView& t = *r.target;
    out += r.failed ? "<tr class=\"failed revert-row\">" : "<tr class=\"revert-row\">";
    out += Cell(r.fault->name + " (" + r.fault->type + ")") + Cell(t.label);
    out += AtCell(t.injected_t, t.injected_at);
    out +=
        r.failed ? "<td><strong>NOT REVERTED</strong></td>" : AtCell(t.reverted_t, t.reverted_at);
    out += Cell(ActiveFor(t)) + Cell(RevertedByText(run, t));
    std::string verified = t.verified ? (*t.verified ? "yes" : "no") : "—";
    if (!t.verification.empty()) verified += ": " + t.verification;
    out += Cell(verified) + "</tr>\n";
    if (r.failed) {
      out +=
          "<tr class=\"failed manual-undo\"><td colspan=\"7\"><strong>Undo by hand:</strong> "
          "<code>" +
          Escape(t.manual_undo.empty() ? "(the undo record holds no command)" : t.manual_undo) +
          "</code>" + (t.error.empty() ? "" : "<br>" + Escape(t.error)) + "</td></tr>\n";
    }
  }
  out += "</tbody></table></div>\n";
  if (!run.manual_undo.empty()) {
    out += "<p class=\"fail-cell\">Left in place:</p><ul>";
    for (const auto& m : run.manual_undo) out += "<li><code>" + Escape(m) + "</code></li>";
    out += "</ul>\n";
  }
  return out;
}

std::string ProbeRows(const std::vector<ProbeView>& probes, const std::string& when) {
  std::string out;
  for (const auto& p : probes) {
    out += "<tr class=\"probe-row\">" + Cell(when) + Cell(p.name) + Cell(p.type) +
           Cell(ToleranceText(p.tolerance)) + Cell(ValueText(p.value)) +
           VerdictCell(p.met, "met", "NOT met") + Cell(p.detail) + "</tr>\n";
  }
  return out;
}

std::string Probes(const JournalModel& run) {
  std::string rows = ProbeRows(run.before, "steady state before");
  for (const auto& m : run.method) {
    if (m.probe) rows += ProbeRows({*m.probe}, "method step " + std::to_string(m.step));
  }
  if (run.after) {
    rows += ProbeRows(*run.after, "steady state after");
  } else if (!run.before.empty()) {
    rows +=
        "<tr><td>steady state after</td><td colspan=\"6\" class=\"skip-cell\">not checked (the "
        "run ended before its method, or was interrupted)</td></tr>\n";
  }
  std::string out = "<h2 id=\"probes\">Steady state and probes</h2>\n";
  if (rows.empty()) return out + "<p class=\"none\">The experiment has no probes.</p>\n";
  return out +
         "<div class=\"scroll\"><table><thead><tr><th>when</th><th>probe</th><th>type</th>"
         "<th>tolerance</th><th>measured</th><th>verdict</th><th>detail</th></tr></"
         "thead><tbody>\n" +
         rows + "</tbody></table></div>\n";
}

std::string Guards(const JournalModel& run) {
  std::string out = "<h2 id=\"guards\">Guards</h2>\n";
  if (run.guards.empty()) return out + "<p class=\"none\">The experiment has no guards.</p>\n";
  out +=
      "<div class=\"scroll\"><table><thead><tr><th>guard</th><th>source</th><th>condition</th>"
      "<th>baseline</th><th>interval</th><th>samples</th><th>verdict</th></tr></thead><tbody>\n";
  for (const auto& g : run.guards) {
    std::string counts = std::to_string(g.samples_total) + " taken";
    for (const auto& [verdict, n] : g.verdicts) counts += "; " + verdict + " " + std::to_string(n);
    out += "<tr class=\"guard-row\">" + Cell(g.name) + "<td><code>" + Escape(g.source) +
           "</code></td>" + Cell(g.threshold) +
           Cell(g.baseline ? Figure(*g.baseline) : std::string("—")) + Cell(g.interval) +
           Cell(counts) + VerdictCell(!g.breached, "held", "BREACHED: " + g.breach_reason) +
           "</tr>\n";
  }
  out += "</tbody></table></div>\n";
  if (run.abort && run.abort->by_operator()) {
    const AbortView& a = *run.abort;
    out += "<p class=\"fail-cell\">Aborted by the operator " + Escape(a.who) + " (" +
           Escape(a.reason) + ") " + Escape(AtText(a.requested_t)) + ", every fault reverted " +
           Escape(AtText(a.all_reverted_t)) + ".</p>\n";
  } else if (run.abort) {
    const AbortView& a = *run.abort;
    out += "<p class=\"fail-cell\">Aborted by guard " + Escape(a.guard) + ": " + Escape(a.reason) +
           " (value " + Escape(a.value ? Figure(*a.value) : "none") + ", threshold " +
           Escape(a.threshold) + "); breaching sample " + Escape(AtText(a.sampled_t)) +
           ", decided " + Escape(AtText(a.detected_t)) + ", every fault reverted " +
           Escape(AtText(a.all_reverted_t)) + ".</p>\n";
  }
  return out;
}

std::string Figures(const nlohmann::json& o) {
  auto num = [&o](const char* key) -> std::optional<double> {
    if (o.contains(key) && o[key].is_number()) return o[key].get<double>();
    return std::nullopt;
  };
  auto figure = [](const std::string& value, const std::string& label, const std::string& css) {
    return "<div class=\"figure " + css + "\"><b>" + Escape(value) + "</b><span>" + Escape(label) +
           "</span></div>";
  };
  std::string out = "<div class=\"figures\" id=\"blast-radius\">";
  const auto blast = num("blast_radius"), limit = num("max_blast_radius");
  if (blast) {
    const bool within = !limit || *blast <= *limit + 1e-12;
    out += figure(
        Fixed(*blast * 100, 1) + " %",
        "blast radius" + (limit ? " (limit " + Fixed(*limit * 100, 1) + " %)" : std::string()),
        within ? "good" : "bad");
  }
  if (auto e = num("exposed"), f = num("fleet"); e && f) {
    out += figure(Fixed(*e, 0) + " / " + Fixed(*f, 0), "hosts exposed", "");
  }
  if (auto w = num("detected_in_wave")) out += figure(Fixed(*w, 0), "detected in wave", "");
  if (auto t = num("time_to_detect_ms"))
    out += figure(HumanSeconds(*t / 1000), "time to detect", "");
  if (auto t = num("time_to_rollback_ms"))
    out += figure(HumanSeconds(*t / 1000), "time to roll back", "");
  if (auto s = num("overshoot"))
    out += figure(Fixed(*s, 0), "overshoot (hosts)", *s > 0 ? "bad" : "good");
  if (auto s = num("stranded"))
    out += figure(Fixed(*s, 0), "stranded hosts", *s > 0 ? "bad" : "good");
  if (o.contains("verdict_reason") && o["verdict_reason"].is_string()) {
    const std::string reason = o["verdict_reason"].get<std::string>();
    out += figure(reason, "verdict reason", reason == "contained" ? "good" : "bad");
  }
  return out + "</div>\n";
}

std::string WaveStrips(const nlohmann::json& waves) {
  if (!waves.is_array() || waves.empty()) return "";
  double most = 1;
  for (const auto& w : waves) {
    if (w.is_object() && w.contains("planned") && w["planned"].is_number())
      most = std::max(most, w["planned"].get<double>());
  }
  constexpr double kBarX = 70, kBarW = 340, kRow = 30;
  Svg svg(900, kRow * static_cast<double>(waves.size()) + 6, "waves",
          "Waves of the rollout: planned, exposed and unhealthy hosts, gate result, rollback");
  double y = 4;
  for (const auto& w : waves) {
    if (!w.is_object()) continue;
    auto n = [&w](const char* key) {
      return w.contains(key) && w[key].is_number() ? w[key].get<double>() : 0.0;
    };
    const std::string gate =
        w.contains("gate") && w["gate"].is_string() ? w["gate"].get<std::string>() : "";
    const bool rolled =
        w.contains("rolled_back") && w["rolled_back"].is_boolean() && w["rolled_back"].get<bool>();
    const double scale = kBarW / most;
    svg.OpenGroup("wave-strip", {{"data-wave", Fixed(n("wave"), 0)}, {"data-gate", gate}});
    svg.Text(4, y + 17, "wave " + Fixed(n("wave"), 0), "wave-label");
    svg.Rect(kBarX, y + 4, n("planned") * scale, kRow - 10, "wave-planned",
             Fixed(n("planned"), 0) + " hosts planned");
    svg.Rect(kBarX, y + 4, n("exposed") * scale, kRow - 10, "wave-exposed",
             Fixed(n("exposed"), 0) + " hosts exposed");
    svg.Rect(kBarX, y + 4, n("unhealthy") * scale, kRow - 10, "wave-unhealthy",
             Fixed(n("unhealthy"), 0) + " exposed hosts unhealthy");
    svg.Text(kBarX + kBarW + 10, y + 17,
             Fixed(n("exposed"), 0) + "/" + Fixed(n("planned"), 0) + " exposed, " +
                 Fixed(n("unhealthy"), 0) + " unhealthy · gate " + (gate.empty() ? "?" : gate) +
                 (rolled ? " · rolled back" : ""),
             "wave-label");
    svg.CloseGroup();
    y += kRow;
  }
  return "<div class=\"scroll\">" + svg.Finish() + "</div>\n";
}

std::string Faults(const JournalModel& run) {
  std::string out = "<h2 id=\"faults\">Faults</h2>\n";
  if (run.faults.empty()) return out + "<p class=\"none\">The experiment has no faults.</p>\n";
  for (const auto& f : run.faults) {
    out += "<section class=\"fault\"><h3>" + Escape(f.name) + " <small>(" + Escape(f.type) +
           (f.target.empty() ? "" : " on " + Escape(f.target)) + ")</small></h3>\n";
    out += "<table class=\"facts\"><tr><th scope=\"row\">expectation</th>" +
           VerdictCell(f.expectation_met, "met", "NOT met: " + f.expectation_detail) +
           "</tr><tr><th scope=\"row\">reverted</th>" +
           VerdictCell(f.revert_ok, "every target", "NOT every target") +
           "</tr><tr><th scope=\"row\">duration</th>" + Cell(f.duration) +
           "</tr><tr><th scope=\"row\">parameters</th><td><details><summary>" +
           std::to_string(f.params.is_object() ? f.params.size() : 0) + " parameters</summary>" +
           JsonAsHtml(f.params) + "</details></td></tr></table>\n";
    out += "<h4>Observed (at the end of its active window)</h4>\n<div class=\"scroll observed\">" +
           JsonAsHtml(f.observed) + "</div>\n";
    if (!f.observed_after_revert.is_null() && f.observed_after_revert != f.observed) {
      out += "<h4>Observed after the revert</h4>\n<div class=\"scroll\">" +
             JsonAsHtml(f.observed_after_revert) + "</div>\n";
    }
    out += "</section>\n";
  }
  return out;
}

std::string Rollbacks(const JournalModel& run) {
  std::string out = "<h2 id=\"rollbacks\">Rollbacks</h2>\n";
  if (run.rollbacks.empty())
    return out + "<p class=\"none\">The experiment has no rollbacks.</p>\n";
  out +=
      "<div class=\"scroll\"><table><thead><tr><th>rollback</th><th>command</th><th>exit "
      "code</th><th>result</th><th>stderr</th></tr></thead><tbody>\n";
  for (const auto& r : run.rollbacks) {
    std::string command;
    for (const auto& a : r.argv) command += (command.empty() ? "" : " ") + a;
    const std::string code = r.exit_code ? std::to_string(*r.exit_code) : "—";
    out += "<tr class=\"rollback-row\">" + Cell(r.name) + "<td><code>" + Escape(command) +
           "</code></td>" + Cell(code) +
           VerdictCell(r.ok, "ok",
                       r.timed_out       ? "timed out"
                       : r.error.empty() ? "failed"
                                         : r.error) +
           (r.stderr_text.empty() ? std::string("<td></td>")
                                  : "<td><pre>" + Escape(r.stderr_text) + "</pre></td>") +
           "</tr>\n";
  }
  return out + "</tbody></table></div>\n";
}

}  // namespace

const char* ReportStylesheet() { return kStyle; }

std::string RenderHtmlReport(const JournalModel& run, const std::string& journal_path) {
  std::string page = Head(run);
  page += Banner(run);
  page += Lacks(run);
  page += Facts(run, journal_path);
  page += Timeline(run);
  page += OperatorActions(run);
  page += RevertProof(run);
  page += Probes(run);
  page += Guards(run);
  page += Faults(run);
  page += Rollbacks(run);
  page +=
      "<footer>Written by ringfence from the run's journal; this page loads nothing from "
      "anywhere.</footer>\n</body>\n</html>\n";
  return page;
}

}  // namespace ringfence
