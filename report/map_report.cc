#include "report/map_report.h"

#include "report/html_report.h"
#include "report/markup.h"
#include "report/report_files.h"

namespace ringfence {

namespace {

using json = nlohmann::json;

std::string Str(const json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

// The member, or null when `object` is not an object or has none.
const json& Member(const json& object, const char* key) {
  static const json null_value;
  if (!object.is_object()) return null_value;
  auto it = object.find(key);
  return it != object.end() ? *it : null_value;
}

bool True(const json& object, const char* key) { return Member(object, key) == true; }

const json& Array(const json& object, const char* key) {
  static const json empty = json::array();
  if (!object.is_object()) return empty;
  auto it = object.find(key);
  return it != object.end() && it->is_array() ? *it : empty;
}

// The outcome's CSS class: "no impact" → "o-no-impact".
std::string OutcomeClass(const std::string& outcome) {
  std::string c = "o-";
  for (char ch : outcome) c += ch == ' ' ? '-' : ch;
  return c;
}

constexpr char kMapStyle[] = R"(
table.heatmap td.cell{min-width:11em;vertical-align:top}
table.heatmap tbody th{white-space:nowrap;vertical-align:top}
table.heatmap td.cell .outcome{font-weight:600;display:block}
table.heatmap td.cell .detail{font-size:.85em;display:block;margin-top:.2em}
.o-no-impact{background:#e6f4ea}
.o-degraded{background:#fff4ce}
.o-broken{background:#fbd3d0}
.o-not-recovered{background:#8b1a10;color:#fff}
.o-not-run,.o-none{background:#f1f1f1;color:#666}
td.verdict{font-weight:600}
td.mismatch{color:#b3261e;font-weight:700}
ul.findings li{margin:.2em 0}
)";

constexpr const char* kFaults[] = {"latency", "partition", "kill"};

}  // namespace

std::string RenderMapHeatmap(const json& map) {
  const json& dependencies = Array(map, "dependencies");
  bool mismatch = false;
  bool not_recovered = false;
  for (const auto& d : dependencies) {
    mismatch = mismatch || True(d, "mismatch");
    for (const auto& c : Array(d, "cells")) not_recovered |= Str(c, "outcome") == "not recovered";
  }
  const std::string stopped = Str(map, "stopped");
  const bool ok = !mismatch && !not_recovered && stopped.empty();
  const std::string key = ok ? "passed" : "failed";
  const std::string label = ok ? "AS EXPECTED" : not_recovered ? "NOT RECOVERED" : "FINDINGS";
  const std::string why = mismatch           ? "a dependency is not what the team expects"
                          : !stopped.empty() ? "the map stopped: " + stopped
                                             : "every dependency is what the team expects";
  const std::string title = Str(map, "title");
  std::string page =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta "
      "name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
      EscapeText(title) + " · ringfence map</title>\n<style>" + ReportStylesheet() + kMapStyle +
      "</style>\n</head>\n<body>\n<div class=\"banner " + key +
      "\" id=\"verdict\" data-verdict=\"" + key + "\">" + EscapeText(label) +
      "<span class=\"why\">" + EscapeText(why) + "</span></div>\n<h1>" + EscapeText(title) +
      "</h1>\n<p>Service <b>" + EscapeText(Str(Member(map, "service"), "name")) + "</b>, " +
      EscapeText(Str(map, "started_at")) + " to " + EscapeText(Str(map, "ended_at")) +
      ". Each cell: one fault on one dependency while the service's SLOs were watched.</p>\n"
      "<div class=\"scroll\"><table class=\"heatmap\" "
      "id=\"heatmap\"><thead><tr><th>dependency</th>";
  for (const char* f : kFaults) page += std::string("<th>") + f + "</th>";
  page += "<th>verdict</th><th>expected</th></tr></thead><tbody>\n";
  for (const auto& d : dependencies) {
    const std::string name = Str(d, "name");
    page += "<tr data-dependency=\"" + EscapeText(name) + "\"><th>" + EscapeText(name) +
            "<br><small>" + EscapeText(Str(d, "endpoint")) + "</small></th>";
    for (const char* f : kFaults) {
      const json* cell = nullptr;
      for (const auto& c : Array(d, "cells")) {
        if (Str(c, "fault") == f) cell = &c;
      }
      if (cell == nullptr) {
        page += "<td class=\"cell o-none\">—</td>";
        continue;
      }
      const std::string outcome = Str(*cell, "outcome");
      page += "<td class=\"cell " + OutcomeClass(outcome) + "\" data-outcome=\"" +
              EscapeText(outcome) + "\"><span class=\"outcome\">" + EscapeText(outcome) +
              "</span><span class=\"detail\">" + EscapeText(Shorten(Str(*cell, "detail"), 120)) +
              "</span></td>";
    }
    const bool differs = True(d, "mismatch");
    const std::string verdict = Str(d, "verdict");
    const std::string expect = Str(d, "expect");
    page += "<td class=\"verdict\">" + EscapeText(verdict.empty() ? "—" : verdict) + "</td><td" +
            (differs ? " class=\"mismatch\"" : "") + ">" +
            EscapeText(expect.empty() ? "—" : expect) + (differs ? " ≠ measured" : "") +
            "</td></tr>\n";
  }
  page += "</tbody></table></div>\n";
  const json& discovery = Member(map, "discovery");
  if (discovery.is_object()) {
    page += "<h2>Discovery</h2>\n<ul class=\"findings\" id=\"undeclared\">";
    for (const auto& u : Array(discovery, "undeclared")) {
      const json& listener = Member(u, "listener");
      std::string who = "no local listener found";
      if (Member(listener, "pid").is_number_integer()) {
        who = "listener pid " + std::to_string(listener["pid"].get<long long>()) + " (" +
              Str(listener, "name") + ")";
      }
      page += "<li><b>undeclared dependency</b> " + EscapeText(Str(u, "endpoint")) + ": " +
              EscapeText(who) + "</li>";
    }
    for (const auto& n : Array(discovery, "declared_not_seen")) {
      if (n.is_string()) {
        page += "<li>declared, not seen in use: " + EscapeText(n.get<std::string>()) + "</li>";
      }
    }
    if (Array(discovery, "undeclared").empty() && Array(discovery, "declared_not_seen").empty()) {
      page += "<li>every endpoint in use is declared, and every declared one was seen</li>";
    }
    page += "</ul>\n";
  }
  page +=
      "<footer>Written by ringfence map; each cell's run journal is named in the map journal. "
      "This page loads nothing from anywhere.</footer>\n</body>\n</html>\n";
  return page;
}

Status WriteMapHeatmap(const json& map_journal, const std::string& path) {
  return WriteTextFileAtomically(path, RenderMapHeatmap(map_journal));
}

}  // namespace ringfence
