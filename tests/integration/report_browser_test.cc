// Reports of real runs, looked at the way people and CI look at them: the HTML report rendered in
// headless Chromium (a screenshot that is not blank, and the DOM it built), checked by `tidy`,
// and the JUnit XML read back by junitparser (tests/report/junit_read.py). The five runs: a
// passed and an aborted demo game day, a failed local run with a guard and rollbacks, and the
// bad_update rehearsals contained and all at once. Also `ringfence report` on journals of every
// kind, and report paths refused before anything runs.
#include <algorithm>
#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "report/suite_report.h"
#include "tests/support/processes.h"

namespace ringfence::testing {
namespace {

using nlohmann::json;
using std::chrono::seconds;

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The value of `attribute` in the element that holds `marker` (the first after it).
std::string AttributeAfter(const std::string& text, size_t from, const std::string& attribute) {
  const size_t at = text.find(attribute + "=\"", from);
  if (at == std::string::npos) return "";
  const size_t start = at + attribute.size() + 2;
  return text.substr(start, text.find('"', start) - start);
}

class ReportBrowserTest : public ::testing::Test {
 protected:
  // Runs the ringfence binary with `args`; returns the exit code.
  int Ringfence(std::vector<std::string> args, seconds timeout = seconds(100)) {
    args.insert(args.begin(), RINGFENCE_BINARY);
    ChildRun run(args, dir_.path());
    const int code = run.Wait(timeout);
    out_ = run.out();
    err_ = run.err();
    return code;
  }

  std::vector<std::string> Outputs() {
    return {"--journal", dir_.File("journal.json"), "--state-dir", dir_.File("state"),
            "--report",  dir_.File("r.html"),       "--junit",     dir_.File("j.xml"),
            "--summary", dir_.File("s.md")};
  }

  json Journal() { return json::parse(ReadFile(dir_.File("journal.json"))); }

  // Headless Chromium on `url` with `extra` flags, its own profile (removed after); stdout.
  std::string Chromium(std::vector<std::string> extra, const std::string& url) {
    TempDir profile;
    std::vector<std::string> argv = {"/usr/bin/chromium",
                                     "--headless=new",
                                     "--no-sandbox",
                                     "--disable-gpu",
                                     "--disable-quic",
                                     "--no-first-run",
                                     "--disable-background-networking",
                                     "--disable-component-update",
                                     "--disable-sync",
                                     "--user-data-dir=" + profile.path()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(url);
    ChildRun run(argv, dir_.path());
    EXPECT_EQ(run.Wait(seconds(60)), 0) << run.err();
    return run.out();
  }

  json Python(const std::string& script, const std::string& file) {
    ChildRun run(
        {"/usr/bin/python3", std::string(RINGFENCE_SOURCE_DIR) + "/tests/report/" + script, file},
        dir_.path());
    EXPECT_EQ(run.Wait(seconds(60)), 0) << run.err();
    return json::parse(run.out(), nullptr, false);
  }

  // Everything a person and a CI job see of the run whose journal is journal.json.
  void CheckReports(const std::string& verdict, const std::string& screenshot_name) {
    const json j = Journal();
    const std::string html_path = dir_.File("r.html");
    const std::string html = ReadFile(html_path);
    ASSERT_FALSE(html.empty()) << out_ << err_;
    EXPECT_EQ(html.find("<script"), std::string::npos);
    EXPECT_LT(html.size(), 5u << 20);

    ChildRun tidy({"/usr/bin/tidy", "-errors", "-q", html_path}, dir_.path());
    EXPECT_EQ(tidy.Wait(seconds(30)), 0) << tidy.err();
    EXPECT_EQ(tidy.err(), "");

    // The DOM Chromium built from the page.
    const std::string dom =
        Chromium({"--dump-dom", "--virtual-time-budget=2000"}, "file://" + html_path);
    EXPECT_NE(dom.find("data-verdict=\"" + verdict + "\""), std::string::npos) << verdict;
    EXPECT_EQ(Count(dom, "class=\"guard-chart\""), j["guards"].size());
    for (const auto& g : j["guards"]) {
      const size_t chart = dom.find("data-guard=\"" + g["name"].get<std::string>() + "\"");
      ASSERT_NE(chart, std::string::npos) << g["name"];
      size_t valued = 0;
      for (const auto& s : g["samples"]) valued += s["value"].is_number();
      EXPECT_EQ(AttributeAfter(dom, chart, "data-samples"), std::to_string(g["samples"].size()));
      const std::string points = AttributeAfter(dom, chart, "data-points");
      if (valued > 0) {
        EXPECT_EQ(points, std::to_string(valued)) << g["name"];
      }
      EXPECT_GT(g["samples"].size(), 0u);
    }
    size_t injected = 0, undone = 0;
    for (const auto& f : j["faults"]) {
      for (const auto& t : f["targets"]) {
        injected += t["injected_at"].is_string();
        undone += t.contains("undo");
        if (t.contains("undo")) {
          EXPECT_EQ(t["reverted_by"], "runner");
        }
      }
    }
    EXPECT_GT(injected, 0u);
    EXPECT_EQ(Count(dom, "class=\"fault-bar "), injected);
    EXPECT_EQ(Count(dom, "revert-row\""), undone);

    // A screenshot that shows something: many colours, not only the background.
    const std::string png = dir_.File(screenshot_name);
    Chromium({"--screenshot=" + png, "--window-size=1100,1500", "--hide-scrollbars"},
             "file://" + html_path);
    const json shot = Python("png_check.py", png);
    EXPECT_EQ(shot["width"], 1100);
    EXPECT_GT(shot["colours"].get<int>(), 20) << shot;
    EXPECT_GT(shot["not_background"].get<double>(), 0.05) << shot;
    if (const char* keep = std::getenv("RINGFENCE_REPORT_SCREENSHOTS")) {
      std::filesystem::copy_file(png, std::string(keep) + "/" + screenshot_name,
                                 std::filesystem::copy_options::overwrite_existing);
    }

    // The JUnit file, as junitparser reads it.
    const json suites = Python("junit_read.py", dir_.File("j.xml"));
    ASSERT_TRUE(suites.is_array() && suites.size() == 1) << suites;
    const json& suite = suites[0];
    EXPECT_EQ(suite["name"], j["experiment"]["title"]);
    EXPECT_EQ(suite["properties"]["run_id"], j["run_id"]);
    EXPECT_EQ(suite["properties"]["seed"], std::to_string(j["seed"].get<uint64_t>()));
    EXPECT_EQ(suite["properties"]["journal"], dir_.File("journal.json"));
    size_t expected = j["steady_state"]["before"].size() * 2 + 2 * j["faults"].size() +
                      j["guards"].size() + j["rollbacks"].size();
    for (const auto& m : j["method"]) expected += m.contains("probe");
    EXPECT_EQ(suite["tests"], expected);
    EXPECT_EQ(suite["cases"].size(), expected);
    size_t failed = 0;
    for (const auto& c : suite["cases"])
      failed += c["result"] != "passed" && c["result"] != "skipped";
    EXPECT_EQ(failed == 0, verdict == "passed") << suite;

    const std::string md = ReadFile(dir_.File("s.md"));
    EXPECT_NE(md.find(j["run_id"].get<std::string>()), std::string::npos);
  }

  TempDir dir_;
  std::string out_, err_;
};

TEST_F(ReportBrowserTest, PassedDemoGameDay) {
  std::vector<std::string> args = {"demo"};
  for (auto& a : Outputs()) args.push_back(a);
  ASSERT_EQ(Ringfence(args), 0) << out_ << err_;
  EXPECT_NE(out_.find("  report: " + dir_.File("r.html")), std::string::npos) << out_;
  const json j = Journal();
  EXPECT_EQ(j["journal_version"], 3);
  EXPECT_FALSE(j["host"].get<std::string>().empty());
  EXPECT_EQ(j["user"], "root");
  EXPECT_EQ(j["command_line"][1], "demo");
  EXPECT_GT(j["duration_ms"].get<int64_t>(), 0);
  CheckReports("passed", "report-passed.png");
}

TEST_F(ReportBrowserTest, AbortedByAGuardBreach) {
  std::vector<std::string> args = {
      "demo", "--scenario",
      std::string(RINGFENCE_SOURCE_DIR) + "/scenarios/demo-blast-radius-exceeded.json"};
  for (auto& a : Outputs()) args.push_back(a);
  ASSERT_EQ(Ringfence(args), 1) << out_ << err_;
  ASSERT_EQ(Journal()["status"], "aborted");
  CheckReports("aborted", "report-aborted.png");
  const std::string html = ReadFile(dir_.File("r.html"));
  EXPECT_NE(html.find("marker abort"), std::string::npos);
  EXPECT_NE(html.find("marker all-reverted"), std::string::npos);
  EXPECT_NE(html.find("point v-breach"), std::string::npos);
}

TEST_F(ReportBrowserTest, FailedRunWithAGuardAndRollbacks) {
  SleepChildren paused(2);
  json doc = json::parse(R"({
    "version": 1,
    "title": "Paused workers: the method probe fails <on purpose>",
    "description": "Hypothesis: a paused pair of workers is noticed by the health check.",
    "targets": {"workers": {"process": {"cmdline": "CMDLINE"}}},
    "steady_state": [{"name": "shell-works", "type": "command", "argv": ["true"]}],
    "method": [
      {"type": "process_pause", "name": "pause", "target": "workers", "duration": "2s"},
      {"type": "wait", "duration": "1s"},
      {"type": "probe", "probe": {"name": "health-check", "type": "command", "argv": ["false"]}}],
    "guards": [{"name": "workers-alive",
                "source": {"type": "probe", "probe": {"type": "process_alive", "target": "workers",
                                                      "count": {"min": 1}}},
                "condition": {"min": 1}, "interval": "100ms"}],
    "rollbacks": [{"name": "say-done", "argv": ["true"]},
                  {"name": "restart-fails", "argv": ["sh", "-c", "echo no such unit >&2; exit 3"]}]
  })");
  doc["targets"]["workers"]["process"]["cmdline"] = paused.cmdline_regex();
  dir_.Write("failed.json", doc.dump(2));
  std::vector<std::string> args = {"run", dir_.File("failed.json")};
  for (auto& a : Outputs()) args.push_back(a);
  ASSERT_EQ(Ringfence(args), 1) << out_ << err_;
  ASSERT_EQ(Journal()["status"], "failed");
  EXPECT_TRUE(std::all_of(paused.pids().begin(), paused.pids().end(),
                          [](pid_t p) { return SleepChildren::State(p) != 'T'; }));
  CheckReports("failed", "report-failed.png");
  const std::string html = ReadFile(dir_.File("r.html"));
  EXPECT_NE(html.find("&lt;on purpose&gt;"), std::string::npos);
  EXPECT_NE(html.find("no such unit"), std::string::npos);
  EXPECT_EQ(Count(html, "class=\"rollback-row\""), 2u);
}

TEST_F(ReportBrowserTest, BadUpdateContained) {
  std::vector<std::string> args = {
      "demo", "--scenario", std::string(RINGFENCE_SOURCE_DIR) + "/scenarios/channel-file-291.json"};
  for (auto& a : Outputs()) args.push_back(a);
  ASSERT_EQ(Ringfence(args), 0) << out_ << err_;
  CheckReports("passed", "report-bad-update-contained.png");
  const std::string html = ReadFile(dir_.File("r.html"));
  EXPECT_EQ(Count(html, "class=\"wave-strip\""), 4u);
  EXPECT_NE(html.find("data-gate=\"failed\""), std::string::npos);
  EXPECT_NE(html.find("id=\"blast-radius\""), std::string::npos);
}

TEST_F(ReportBrowserTest, BadUpdateAllAtOnce) {
  // 8 hosts rather than the scenario's 20: on a loaded machine the rollout to 20 hosts takes
  // longer than the watchdog's grace, and the watchdog (rightly) ends the run at the fault's
  // deadline. The pattern is the same: every host exposed at once.
  std::vector<std::string> args = {
      "demo", "--fleet-size", "8", "--scenario",
      std::string(RINGFENCE_SOURCE_DIR) + "/scenarios/channel-file-291-all-at-once.json"};
  for (auto& a : Outputs()) args.push_back(a);
  ASSERT_EQ(Ringfence(args), 1) << out_ << err_;
  CheckReports("failed", "report-bad-update-all-at-once.png");
  const std::string html = ReadFile(dir_.File("r.html"));
  EXPECT_EQ(Count(html, "class=\"wave-strip\""), 1u);
  EXPECT_NE(html.find("blast_radius_exceeded"), std::string::npos);
}

TEST_F(ReportBrowserTest, ReportCommandOnJournalsOfEveryKind) {
  // A journal from an older version: rendered, and the report says what it lacks.
  json old = {{"journal_version", 2},
              {"incomplete", false},
              {"run_id", "20261101T000000-aaaaaa"},
              {"experiment", {{"title", "old"}}},
              {"seed", 5},
              {"status", "passed"},
              {"reason", "ok"},
              {"started_at", "2026-11-01T00:00:00.000Z"},
              {"ended_at", "2026-11-01T00:00:05.000Z"},
              {"faults", json::array()},
              {"guards", json::array()}};
  dir_.Write("old.json", old.dump());
  ASSERT_EQ(Ringfence({"report", dir_.File("old.json"), "--junit", dir_.File("old.xml")}), 0)
      << err_;
  ASSERT_EQ(Ringfence({"report", dir_.File("old.json")}), 0) << err_;
  EXPECT_EQ(out_, dir_.File("old.html") + "\n");
  const std::string html = ReadFile(dir_.File("old.html"));
  EXPECT_NE(html.find("journal_version 2 (before 3) does not record the host"), std::string::npos);
  EXPECT_NE(err_.find("note: journal_version 2 (before 3)"), std::string::npos);
  EXPECT_EQ(Python("junit_read.py", dir_.File("old.xml"))[0]["properties"]["seed"], "5");

  dir_.Write("list.json", "[1, 2, 3]");
  EXPECT_EQ(Ringfence({"report", dir_.File("list.json")}), 2);
  EXPECT_EQ(err_, "ringfence report: " + dir_.File("list.json") +
                      ": not a ringfence journal (no journal_version)\n");
  const std::string full = old.dump(2);
  dir_.Write("cut.json", full.substr(0, full.size() / 2));
  EXPECT_EQ(Ringfence({"report", dir_.File("cut.json")}), 2);
  EXPECT_EQ(err_, "ringfence report: " + dir_.File("cut.json") +
                      ": truncated: the JSON ends before its last value does (a journal cut "
                      "short)\n");
  old["journal_version"] = 4;
  dir_.Write("new.json", old.dump());
  EXPECT_EQ(Ringfence({"report", dir_.File("new.json")}), 2);
  EXPECT_EQ(err_, "ringfence report: " + dir_.File("new.json") +
                      ": journal_version 4 is newer than this ringfence reads (at most 3); use a "
                      "newer ringfence\n");
  EXPECT_EQ(Ringfence({"report", dir_.File("old.json"), "--html", dir_.File("no/r.html")}), 2);
  EXPECT_EQ(err_, "ringfence report: --html \"" + dir_.File("no/r.html") + "\": the folder " +
                      dir_.File("no") + " does not exist\n");
}

TEST_F(ReportBrowserTest, AReportPathInAMissingFolderRefusesTheRunBeforeAnything) {
  SleepChildren victims(1);
  json doc = {{"version", 1},
              {"title", "never runs"},
              {"targets", {{"v", {{"process", {{"cmdline", victims.cmdline_regex()}}}}}}},
              {"method",
               {{{"type", "process_pause"}, {"name", "p"}, {"target", "v"}, {"duration", "5s"}}}}};
  dir_.Write("exp.json", doc.dump());
  const std::string missing = dir_.File("missing/r.html");
  EXPECT_EQ(Ringfence({"run", dir_.File("exp.json"), "--journal", dir_.File("journal.json"),
                       "--state-dir", dir_.File("state"), "--report", missing}),
            2);
  EXPECT_EQ(err_, "ringfence: --report \"" + missing + "\": the folder " + dir_.File("missing") +
                      " does not exist; nothing was run\n");
  EXPECT_FALSE(std::filesystem::exists(dir_.File("journal.json")));
  EXPECT_FALSE(std::filesystem::exists(dir_.File("state")));
  EXPECT_NE(SleepChildren::State(victims.pids()[0]), 'T');

  EXPECT_EQ(
      Ringfence({"demo", "--state-dir", dir_.File("state"), "--junit", dir_.File("missing/j.xml")}),
      2);
  EXPECT_EQ(err_, "ringfence: --junit \"" + dir_.File("missing/j.xml") + "\": the folder " +
                      dir_.File("missing") + " does not exist; nothing was run\n");
  EXPECT_EQ(out_.find("starting a fleet"), std::string::npos);
}

TEST_F(ReportBrowserTest, SuiteJUnitAndIndexFromRealJournals) {
  SleepChildren workers(1);
  auto experiment = [&](const std::string& title, const std::string& probe_program) {
    return json({{"version", 1},
                 {"title", title},
                 {"guards", json::array()},
                 {"targets", {{"w", {{"process", {{"cmdline", workers.cmdline_regex()}}}}}}},
                 {"method",
                  {{{"type", "process_pause"},
                    {"name", "p"},
                    {"target", "w"},
                    {"duration", "300ms"}},
                   {{"type", "probe"},
                    {"probe",
                     {{"name", "check"}, {"type", "command"}, {"argv", {probe_program}}}}}}}})
        .dump();
  };
  dir_.Write("pass.json", experiment("passes", "true"));
  dir_.Write("fail.json", experiment("fails", "false"));
  ASSERT_EQ(Ringfence({"run", dir_.File("pass.json"), "--journal", dir_.File("pass-j.json"),
                       "--state-dir", dir_.File("state")}),
            0)
      << err_;
  ASSERT_EQ(Ringfence({"run", dir_.File("fail.json"), "--journal", dir_.File("fail-j.json"),
                       "--state-dir", dir_.File("state")}),
            1)
      << err_;
  const std::vector<SuiteMember> members = {
      {"bad.json", "", "", 2, "invalid", {"bad.json: /method: missing: a non-empty array"}},
      {"fail.json", "fails", dir_.File("fail-j.json"), 1, "failed", {}},
      {"pass.json", "passes", dir_.File("pass-j.json"), 0, "passed", {}}};
  ASSERT_TRUE(WriteSuiteJUnit(members, dir_.File("suite.xml")).ok());
  ASSERT_TRUE(WriteSuiteIndexHtml(members, dir_.File("index.html")).ok());

  const json suites = Python("junit_read.py", dir_.File("suite.xml"));
  ASSERT_EQ(suites.size(), 3u) << suites;
  EXPECT_EQ(suites[0]["name"], "bad.json");
  EXPECT_EQ(suites[0]["errors"], 1);
  EXPECT_EQ(suites[0]["cases"][0]["name"], "validate");
  EXPECT_EQ(suites[0]["cases"][0]["result"], "error");
  EXPECT_EQ(suites[1]["name"], "fails");
  EXPECT_EQ(suites[1]["failures"], 1);
  EXPECT_EQ(suites[1]["properties"]["journal"], dir_.File("fail-j.json"));
  EXPECT_EQ(suites[2]["name"], "passes");
  EXPECT_EQ(suites[2]["failures"], 0);
  EXPECT_EQ(suites[2]["errors"], 0);

  ChildRun tidy({"/usr/bin/tidy", "-errors", "-q", dir_.File("index.html")}, dir_.path());
  EXPECT_EQ(tidy.Wait(seconds(30)), 0) << tidy.err();
  const std::string dom = Chromium({"--dump-dom"}, "file://" + dir_.File("index.html"));
  EXPECT_EQ(Count(dom, "<tr class=\"member "), 3u);
  EXPECT_NE(dom.find("data-verdict=\"failed\">INVALID"), std::string::npos);
  EXPECT_NE(dom.find("1 of 3 experiments passed"), std::string::npos);
}

}  // namespace
}  // namespace ringfence::testing
