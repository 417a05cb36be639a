// The HTML report of a long run: a 1-hour journal at a 50 ms guard interval (72,000 samples per
// guard), made up with a seeded generator, then reported. Prints the journal's and the report's
// sizes, the time to read the journal (the baseline) and to render each report, and the time
// headless Chromium takes to render the page to a screenshot, against a page with nothing to
// draw rendered the same way (the browser's own start-up). Limits (issue 13): the HTML under
// 5 MB, Chromium's render under 2 s. Recorded in docs/performance.md.
//
// Usage: report_size [--guards N] [--minutes M] [--runs R] [--no-browser]
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/figures.h"
#include "core/base/clock.h"
#include "report/html_report.h"
#include "report/journal_model.h"
#include "report/junit.h"
#include "report/markdown.h"
#include "report/report_files.h"

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

double Ms(Clock::time_point from) {
  return std::chrono::duration<double, std::milli>(Clock::now() - from).count();
}

// A run of `minutes` with `guards` guards sampling every 50 ms: latency-like values around a
// baseline, a warming-up start, a few no-data and error samples, and a breach near the end
// (the abort), five fault targets active for most of the hour.
json MakeJournal(int guards, int minutes) {
  std::mt19937_64 random(42);
  std::normal_distribution<double> noise(0, 4);
  const ringfence::WallTime start = ringfence::WallTime(std::chrono::seconds(1'796'000'000));
  auto at = [&](double seconds) {
    return ringfence::FormatRfc3339(
        start + std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000)));
  };
  const int samples = minutes * 60 * 20;
  const double end_s = minutes * 60.0;
  json journal_guards = json::array();
  for (int g = 0; g < guards; ++g) {
    json list = json::array();
    for (int i = 0; i < samples; ++i) {
      const double t = i * 0.05;
      double value = 40 + 10 * std::sin(t / 300) + noise(random);
      std::string verdict = i < 20 ? "warming_up" : "ok";
      json v = value;
      if (i % 9973 == 0 && i > 0) verdict = "no_data", v = nullptr;
      if (i % 24989 == 0 && i > 0) verdict = "error", v = nullptr;
      if (i >= samples - 40 && g == 0) verdict = "breach", v = value + 60;
      list.push_back({{"at", at(t)}, {"value", v}, {"verdict", verdict}, {"detail", ""}});
    }
    journal_guards.push_back({{"name", "latency-p99-" + std::to_string(g)},
                              {"source", {{"type", "scrape"}}},
                              {"condition", {{"max_vs_baseline", 2.0}}},
                              {"threshold", "max 2 × baseline 41"},
                              {"interval", "50ms"},
                              {"baseline", 41.0},
                              {"samples", list},
                              {"samples_total", samples},
                              {"samples_dropped", 0},
                              {"breach", g == 0 ? json({{"reason", "value 101 > 82"}}) : json()}});
  }
  json targets = json::array();
  for (int t = 0; t < 5; ++t) {
    targets.push_back({{"label", "pid " + std::to_string(1000 + t) + " (api)"},
                       {"host", "local"},
                       {"injected_at", at(5 + t)},
                       {"reverted_at", at(end_s - 1)},
                       {"inject_ok", true},
                       {"revert_ok", true},
                       {"reverted_by", "runner"},
                       {"verified", true},
                       {"verification", "pid is in state S"},
                       {"undo", {{"manual_undo", "kill -CONT " + std::to_string(1000 + t)}}}});
  }
  return {{"journal_version", 3},
          {"incomplete", false},
          {"ringfence_version", "bench"},
          {"run_id", "20261207T000000-bench0"},
          {"host", "bench"},
          {"platform", "Linux"},
          {"user", "root"},
          {"command_line", {"ringfence", "run", "long.json"}},
          {"experiment", {{"title", "A one-hour soak at 50 ms"}}},
          {"seed", 1},
          {"status", "aborted"},
          {"reason", "guard latency-p99-0 breached"},
          {"started_at", at(0)},
          {"ended_at", at(end_s)},
          {"duration_ms", static_cast<int64_t>(end_s * 1000)},
          {"steady_state", {{"before", json::array()}, {"after", json::array()}}},
          {"method", json::array()},
          {"faults",
           {{{"name", "pause-api"},
             {"type", "process_pause"},
             {"target", "api"},
             {"observed", {{"paused", 5}}},
             {"expectation_met", true},
             {"revert_ok", true},
             {"targets", targets}}}},
          {"rollbacks", json::array()},
          {"reverted_cleanly", true},
          {"manual_undo", json::array()},
          {"abort",
           {{"guard", "latency-p99-0"},
            {"reason", "value 101 > 82"},
            {"value", 101},
            {"threshold", "max 2 × baseline 41"},
            {"sampled_at", at(end_s - 2)},
            {"detected_at", at(end_s - 1.9)},
            {"all_reverted_at", at(end_s - 1)}}},
          {"guards", journal_guards}};
}

// Headless Chromium's wall time to load `url` and write a screenshot (the page rendered).
double ChromiumMs(const std::string& url, const std::string& png) {
  char profile[] = "/tmp/ringfence-bench-chromium-XXXXXX";
  if (::mkdtemp(profile) == nullptr) return -1;
  const std::string user_data = std::string("--user-data-dir=") + profile;
  const std::string shot = "--screenshot=" + png;
  const auto t0 = Clock::now();
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (std::freopen("/dev/null", "w", stderr) == nullptr) ::_exit(126);
    if (std::freopen("/dev/null", "w", stdout) == nullptr) ::_exit(126);
    ::execl("/usr/bin/chromium", "chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
            "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", user_data.c_str(), shot.c_str(),
            "--window-size=1100,1500", url.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  const double ms = Ms(t0);
  std::filesystem::remove_all(profile);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? ms : -1;
}

}  // namespace

int main(int argc, char** argv) {
  int guards = 2, minutes = 60, runs = 3;
  bool browser = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--guards" && i + 1 < argc)
      guards = std::atoi(argv[++i]);
    else if (a == "--minutes" && i + 1 < argc)
      minutes = std::atoi(argv[++i]);
    else if (a == "--runs" && i + 1 < argc)
      runs = std::atoi(argv[++i]);
    else if (a == "--no-browser")
      browser = false;
    else {
      std::fprintf(stderr,
                   "usage: report_size [--guards N] [--minutes M] [--runs R] [--no-browser]\n");
      return 2;
    }
  }
  char dir_template[] = "/tmp/ringfence-bench-report-XXXXXX";
  const std::string dir = ::mkdtemp(dir_template);
  const std::string journal_path = dir + "/journal.json";
  {
    std::ofstream out(journal_path);
    out << MakeJournal(guards, minutes).dump(2) << "\n";
  }
  const auto journal_bytes = std::filesystem::file_size(journal_path);

  std::vector<double> read_ms, html_ms, junit_ms, markdown_ms;
  std::string html;
  for (int r = 0; r < runs; ++r) {
    auto t0 = Clock::now();
    auto run = ringfence::ReadJournalFile(journal_path);
    read_ms.push_back(Ms(t0));
    if (!run.ok()) {
      std::fprintf(stderr, "%s\n", run.status().message().c_str());
      return 1;
    }
    t0 = Clock::now();
    html = ringfence::RenderHtmlReport(*run, journal_path);
    html_ms.push_back(Ms(t0));
    t0 = Clock::now();
    const std::string xml = ringfence::RenderJUnit(*run, journal_path);
    junit_ms.push_back(Ms(t0));
    t0 = Clock::now();
    const std::string md = ringfence::RenderMarkdown(*run, journal_path);
    markdown_ms.push_back(Ms(t0));
  }
  const std::string html_path = dir + "/report.html";
  const std::string empty_path = dir + "/empty.html";
  if (!ringfence::WriteTextFileAtomically(html_path, html).ok() ||
      !ringfence::WriteTextFileAtomically(
           empty_path,
           "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>"
           "empty</title></head><body><p>nothing</p></body></html>\n")
           .ok()) {
    std::fprintf(stderr, "cannot write the reports under %s\n", dir.c_str());
    return 1;
  }
  using ringfence::bench::Quantile;
  std::printf("journal: %d guard(s) x %d samples (%d min at 50 ms), %.1f MB\n", guards,
              minutes * 1200, minutes, journal_bytes / 1e6);
  std::printf("read + check the journal (baseline): %.0f ms (median of %d)\n",
              Quantile(read_ms, 0.5), runs);
  std::printf("render HTML: %.0f ms (%.2fx the read), %.2f MB (limit 5 MB)\n",
              Quantile(html_ms, 0.5), Quantile(html_ms, 0.5) / Quantile(read_ms, 0.5),
              html.size() / 1e6);
  std::printf("render JUnit: %.1f ms, Markdown: %.1f ms\n", Quantile(junit_ms, 0.5),
              Quantile(markdown_ms, 0.5));
  double page = -1, blank = -1;
  if (browser) {
    std::vector<double> pages, blanks;
    for (int r = 0; r < runs; ++r) {
      blanks.push_back(ChromiumMs("file://" + empty_path, dir + "/empty.png"));
      pages.push_back(ChromiumMs("file://" + html_path, dir + "/report.png"));
    }
    page = Quantile(pages, 0.5);
    blank = Quantile(blanks, 0.5);
    std::printf(
        "chromium screenshot: report %.0f ms, empty page %.0f ms (baseline): the report's "
        "own render %.0f ms (limit 2000 ms)\n",
        page, blank, page - blank);
  }
  std::printf("load average: %.1f\n", ringfence::bench::LoadAverage());
  std::printf(
      "{\"bench\":\"report_size\",\"guards\":%d,\"samples_per_guard\":%d,\"journal_bytes\":%ju,"
      "\"html_bytes\":%zu,\"read_ms\":%.1f,\"html_ms\":%.1f,\"junit_ms\":%.1f,"
      "\"markdown_ms\":%.1f,\"chromium_report_ms\":%.0f,\"chromium_empty_ms\":%.0f}\n",
      guards, minutes * 1200, static_cast<uintmax_t>(journal_bytes), html.size(),
      Quantile(read_ms, 0.5), Quantile(html_ms, 0.5), Quantile(junit_ms, 0.5),
      Quantile(markdown_ms, 0.5), page, blank);
  std::filesystem::remove_all(dir);
  return html.size() < (5u << 20) && (!browser || (page > 0 && page - blank < 2000)) ? 0 : 1;
}
