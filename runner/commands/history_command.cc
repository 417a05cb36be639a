#include "runner/commands/history_command.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/base/duration.h"
#include "core/history/history_summary.h"
#include "core/history/sqlite_history.h"
#include "core/ledger/file_ledger.h"
#include "core/schedule/calendar.h"
#include "core/sys/system_clock.h"

namespace ringfence {

bool ParseSince(const std::string& text, long long& milliseconds) {
  if (text.size() >= 2 && text.back() == 'd') {
    const std::string digits = text.substr(0, text.size() - 1);
    if (digits.size() > 5 || digits.find_first_not_of("0123456789") != std::string::npos) {
      return false;
    }
    milliseconds = std::stoll(digits) * 24 * 3600 * 1000;
    return true;
  }
  auto d = ParseDuration(text);
  if (!d.ok()) return false;
  milliseconds = d->count();
  return true;
}

namespace {

std::string Percent(const std::optional<double>& rate) {
  return rate ? fmt::format("{:.0f} %", *rate * 100) : "-";
}

std::string Millis(const std::optional<int64_t>& ms) {
  if (!ms) return "-";
  return *ms < 1000 ? fmt::format("{}ms", *ms) : fmt::format("{:.1f}s", *ms / 1000.0);
}

std::string Utf8Pad(const std::string& text, size_t width) {
  size_t chars = 0;
  for (unsigned char c : text) chars += (c & 0xC0) != 0x80;
  return text + std::string(chars < width ? width - chars : 0, ' ');
}

std::string Cut(const std::string& text, size_t width) {
  return text.size() <= width ? text : text.substr(0, width - 1) + "~";
}

nlohmann::json SummaryJson(const ExperimentSummary& s) {
  nlohmann::json j = {{"title", s.title},     {"runs", s.runs},       {"passed", s.passed},
                      {"failed", s.failed},   {"aborted", s.aborted}, {"errors", s.errors},
                      {"skipped", s.skipped}, {"trend", s.trend},     {"streak", s.streak}};
  j["pass_rate"] = s.pass_rate ? nlohmann::json(*s.pass_rate) : nlohmann::json();
  j["median_time_to_detect_ms"] =
      s.median_time_to_detect_ms ? nlohmann::json(*s.median_time_to_detect_ms) : nlohmann::json();
  j["score"] = s.score ? nlohmann::json(*s.score) : nlohmann::json();
  return j;
}

nlohmann::json RecordJson(const RunRecord& r) {
  nlohmann::json j = {
      {"run_id", r.run_id},       {"title", r.title},           {"file", r.file},
      {"file_hash", r.file_hash}, {"started_ms", r.started_ms}, {"ended_ms", r.ended_ms},
      {"status", r.status},       {"exit_code", r.exit_code},   {"reason", r.reason},
      {"faults", r.faults},       {"targets", r.targets},       {"hosts", r.hosts},
      {"journal", r.journal},     {"trigger", r.trigger},       {"entry", r.entry}};
  j["time_to_detect_ms"] = r.time_to_detect_ms ? nlohmann::json(*r.time_to_detect_ms) : nullptr;
  j["time_to_revert_ms"] = r.time_to_revert_ms ? nlohmann::json(*r.time_to_revert_ms) : nullptr;
  return j;
}

std::string Html(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

constexpr int kChartWidth = 720;
constexpr int kLeft = 70;
constexpr int kRight = 20;

double X(int64_t t, int64_t first, int64_t last) {
  const double span = last > first ? static_cast<double>(last - first) : 1.0;
  return kLeft + (kChartWidth - kLeft - kRight) * (last > first ? (t - first) / span : 0.5);
}

std::string DateText(int64_t ms) {
  const auto c = TimeZone::Utc().ToCivil(WallTime(std::chrono::milliseconds(ms)));
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02} UTC", c.year, c.month, c.day, c.hour, c.minute);
}

// Pass/fail over time: one dot per run, passed on the top line, failed or aborted on the
// bottom one, anything else (error, interrupted, skipped) grey in between.
std::string OutcomeChart(const std::vector<const RunRecord*>& runs, int64_t first, int64_t last) {
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"120\" role=\"img\" "
      "aria-label=\"pass or fail over time\">\n",
      kChartWidth);
  svg +=
      "<text x=\"4\" y=\"29\" class=\"axis\">passed</text><text x=\"4\" y=\"59\" "
      "class=\"axis\">other</text><text x=\"4\" y=\"89\" class=\"axis\">failed</text>\n";
  svg += fmt::format("<line x1=\"{}\" y1=\"100\" x2=\"{}\" y2=\"100\" class=\"grid\"/>\n", kLeft,
                     kChartWidth - kRight);
  for (const RunRecord* r : runs) {
    const bool passed = r->status == "passed";
    const bool failed = RanTheHypothesis(r->status) && !passed;
    const int y = passed ? 25 : failed ? 85 : 55;
    const char* cls = passed ? "pass" : failed ? "fail" : "other";
    svg += fmt::format(
        "<circle cx=\"{:.1f}\" cy=\"{}\" r=\"5\" class=\"{}\"><title>{} {}: {}</title></circle>\n",
        X(r->started_ms, first, last), y, cls, Html(DateText(r->started_ms)), Html(r->status),
        Html(r->reason));
  }
  svg += fmt::format("<text x=\"{}\" y=\"115\" class=\"axis\">{}</text>", kLeft,
                     Html(DateText(first)));
  svg += fmt::format("<text x=\"{}\" y=\"115\" class=\"axis\" text-anchor=\"end\">{}</text>\n",
                     kChartWidth - kRight, Html(DateText(last)));
  return svg + "</svg>\n";
}

// Time to detect over time: a line through the runs a guard aborted.
std::string DetectChart(const std::vector<const RunRecord*>& runs, int64_t first, int64_t last) {
  int64_t top = 0;
  for (const RunRecord* r : runs) {
    if (r->time_to_detect_ms) top = std::max(top, *r->time_to_detect_ms);
  }
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"140\" role=\"img\" "
      "aria-label=\"time to detect over time\">\n",
      kChartWidth);
  if (top == 0) {
    return svg +
           "<text x=\"70\" y=\"70\" class=\"axis\">no guard aborted a run: no time to detect "
           "recorded</text>\n</svg>\n";
  }
  auto y = [&](int64_t ms) { return 110.0 - 90.0 * static_cast<double>(ms) / top; };
  svg += fmt::format("<text x=\"4\" y=\"24\" class=\"axis\">{}</text>", Html(Millis(top)));
  svg += "<text x=\"4\" y=\"114\" class=\"axis\">0</text>\n";
  svg += fmt::format("<line x1=\"{}\" y1=\"110\" x2=\"{}\" y2=\"110\" class=\"grid\"/>\n", kLeft,
                     kChartWidth - kRight);
  std::string points;
  std::string dots;
  for (const RunRecord* r : runs) {
    if (!r->time_to_detect_ms) continue;
    const double x = X(r->started_ms, first, last);
    points += fmt::format("{:.1f},{:.1f} ", x, y(*r->time_to_detect_ms));
    dots += fmt::format(
        "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"4\" class=\"ttd\"><title>{}: "
        "{}</title></circle>\n",
        x, y(*r->time_to_detect_ms), Html(DateText(r->started_ms)),
        Html(Millis(r->time_to_detect_ms)));
  }
  svg += "<polyline fill=\"none\" class=\"ttdline\" points=\"" + points + "\"/>\n" + dots;
  svg += fmt::format("<text x=\"{}\" y=\"130\" class=\"axis\">{}</text>", kLeft,
                     Html(DateText(first)));
  svg += fmt::format("<text x=\"{}\" y=\"130\" class=\"axis\" text-anchor=\"end\">{}</text>\n",
                     kChartWidth - kRight, Html(DateText(last)));
  return svg + "</svg>\n";
}

std::string HistoryPage(const std::vector<RunRecord>& runs,
                        const std::vector<ExperimentSummary>& summaries, const std::string& where) {
  std::string page =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<title>ringfence history</title>\n<style>\n"
      "body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:800px}\n"
      "h2{margin-top:2em;border-bottom:1px solid #ccc}\n"
      ".facts{color:#444}.facts b{color:#000}\n"
      ".axis{font-size:11px;fill:#555}.grid{stroke:#ccc}\n"
      ".pass{fill:#2a9d3a}.fail{fill:#d0312d}.other{fill:#999}\n"
      ".ttd{fill:#1f5fbf}.ttdline{stroke:#1f5fbf;stroke-width:2}\n"
      "</style></head><body>\n<h1>ringfence history</h1>\n";
  page += "<p class=\"facts\">" + Html(where) + "</p>\n";
  if (summaries.empty()) page += "<p>No runs recorded.</p>\n";
  for (const auto& s : summaries) {
    std::vector<const RunRecord*> own;
    for (const auto& r : runs) {
      if (r.title == s.title) own.push_back(&r);
    }
    const int64_t first = own.empty() ? 0 : own.front()->started_ms;
    const int64_t last = own.empty() ? 0 : own.back()->started_ms;
    page += "<section>\n<h2>" + Html(s.title) + "</h2>\n";
    page += fmt::format(
        "<p class=\"facts\">score <b>{}</b> · {} runs · pass rate {} · {} aborted · {} errors · "
        "{} skipped · median time to detect {} · streak {}</p>\n",
        s.score ? std::to_string(*s.score) : "-", s.runs, Percent(s.pass_rate), s.aborted, s.errors,
        s.skipped, Millis(s.median_time_to_detect_ms), s.streak.empty() ? "-" : Html(s.streak));
    page += "<h3>Pass or fail over time</h3>\n" + OutcomeChart(own, first, last);
    page += "<h3>Time to detect over time</h3>\n" + DetectChart(own, first, last);
    page += "</section>\n";
  }
  return page + "</body></html>\n";
}

}  // namespace

int PrintHistory(const HistoryRequest& request) {
  const std::string state_dir = request.state_dir.empty() ? DefaultStateDir() : request.state_dir;
  const std::string path = (std::filesystem::path(state_dir) / kHistoryFileName).string();
  std::vector<RunRecord> runs;
  std::vector<ExperimentSummary> summaries;
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    auto history = OpenSqliteHistory(path);
    if (!history.ok()) {
      std::fprintf(stderr, "ringfence history: %s\n", history.status().message().c_str());
      return 3;
    }
    HistoryQuery q;
    if (!request.experiment.empty()) q.title = request.experiment;
    if (!request.since.empty()) {
      long long ms = 0;
      (void)ParseSince(request.since, ms);  // checked by the CLI
      const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                           SystemClock().Now().time_since_epoch())
                           .count();
      q.since_ms = now - ms;
    }
    // The table and --json of every experiment need only the summaries, aggregated by the
    // store; --html draws every run, and --experiment shows one experiment's runs in full.
    if (request.experiment.empty() && request.html.empty()) {
      auto summarized = (*history)->Summarize(q);
      if (!summarized.ok()) {
        std::fprintf(stderr, "ringfence history: %s\n", summarized.status().message().c_str());
        return 3;
      }
      summaries = std::move(*summarized);
    } else {
      q.summary_fields_only = request.experiment.empty();
      auto found = (*history)->Query(q);
      if (!found.ok()) {
        std::fprintf(stderr, "ringfence history: %s\n", found.status().message().c_str());
        return 3;
      }
      runs = std::move(*found);
      summaries = SummarizeHistory(runs);
    }
  }
  if (!request.html.empty()) {
    std::string where = "from " + path;
    if (!request.experiment.empty()) where += ", experiment " + request.experiment;
    if (!request.since.empty()) where += ", the last " + request.since;
    std::ofstream out(request.html, std::ios::binary | std::ios::trunc);
    out << HistoryPage(runs, summaries, where);
    out.flush();
    if (!out) {
      std::fprintf(stderr, "ringfence history: cannot write %s\n", request.html.c_str());
      return 3;
    }
    std::printf("wrote %s (%zu experiment%s, %zu runs)\n", request.html.c_str(), summaries.size(),
                summaries.size() == 1 ? "" : "s", runs.size());
    return 0;
  }
  if (request.json) {
    nlohmann::json out = {{"history", path},
                          {"experiments", nlohmann::json::array()},
                          {"runs", nlohmann::json::array()}};
    for (const auto& s : summaries) out["experiments"].push_back(SummaryJson(s));
    if (!request.experiment.empty()) {
      for (const auto& r : runs) out["runs"].push_back(RecordJson(r));
    } else {
      out.erase("runs");
    }
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  if (summaries.empty()) {
    std::printf("no runs recorded in %s\n", path.c_str());
    return 0;
  }
  std::printf("%-32s %5s %9s %6s %10s  %-10s  %-10s %5s\n", "experiment", "runs", "pass rate",
              "aborts", "median TTD", "trend", "streak", "score");
  for (const auto& s : summaries) {
    std::printf("%-32s %5d %9s %6d %10s  %s  %-10s %5s\n", Cut(s.title, 32).c_str(), s.runs,
                Percent(s.pass_rate).c_str(), s.aborted, Millis(s.median_time_to_detect_ms).c_str(),
                Utf8Pad(s.trend, 10).c_str(), s.streak.empty() ? "-" : s.streak.c_str(),
                s.score ? std::to_string(*s.score).c_str() : "-");
  }
  std::printf(
      "score: passed / runs that tested the hypothesis (aborted by a guard is a failure; "
      "errors, interruptions and skips are not counted)\n");
  return 0;
}

}  // namespace ringfence
