// report/: journals read back (their errors word for word), escaping of hostile strings, the
// downsampling that keeps every non-ok sample, JUnit counts, and the suite's files.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "report/downsample.h"
#include "report/html_report.h"
#include "report/journal_model.h"
#include "report/junit.h"
#include "report/markdown.h"
#include "report/markup.h"
#include "report/report_files.h"
#include "report/run_facts.h"
#include "report/suite_report.h"
#include "tests/support/processes.h"

namespace ringfence::testing {
namespace {

using nlohmann::json;

// A small journal of version 3: one fault on two targets, one guard, probes, a rollback.
json SampleJournal() {
  json samples = json::array();
  for (int i = 0; i < 10; ++i) {
    samples.push_back({{"at", "2026-12-07T10:00:0" + std::to_string(i) + ".500Z"},
                       {"value", i == 7 ? 0.9 : 0.1},
                       {"verdict", i == 0   ? "warming_up"
                                   : i == 7 ? "breach"
                                            : "ok"},
                       {"detail", i == 7 ? "value 0.9 > 0.5" : ""}});
  }
  json target = {{"label", "pid 42 (sleep)"},
                 {"host", "local"},
                 {"injected_at", "2026-12-07T10:00:01.000Z"},
                 {"reverted_at", "2026-12-07T10:00:07.000Z"},
                 {"inject_ok", true},
                 {"revert_ok", true},
                 {"reverted_by", "runner"},
                 {"verified", true},
                 {"verification", "pid 42 is in state S"},
                 {"undo", {{"manual_undo", "kill -CONT 42"}}}};
  json failed = target;
  failed["label"] = "pid 43 (sleep)";
  failed["revert_ok"] = false;
  failed["reverted_at"] = nullptr;
  failed["reverted_by"] = nullptr;
  failed["error"] = "revert: kill: Operation not permitted";
  failed["undo"]["manual_undo"] = "kill -CONT 43";
  return {{"journal_version", 3},
          {"incomplete", false},
          {"ringfence_version", "0.1.0"},
          {"run_id", "20261207T100000-abcdef"},
          {"host", "box"},
          {"platform", "Linux 6.1 x86_64"},
          {"user", "root"},
          {"command_line", {"/usr/bin/ringfence", "run", "exp.json", "--seed", "7"}},
          {"experiment", {{"title", "<script>alert(1)</script> & co"}, {"description", "why"}}},
          {"seed", 99},
          {"status", "aborted"},
          {"reason", "guard g breached"},
          {"started_at", "2026-12-07T10:00:00.000Z"},
          {"ended_at", "2026-12-07T10:00:10.000Z"},
          {"duration_ms", 10000},
          {"steady_state",
           {{"before",
             {{{"name", "up"},
               {"type", "http"},
               {"value", 200},
               {"tolerance", {{"exact", 200}}},
               {"met", true},
               {"detail", ""}}}},
            {"after", nullptr},
            {"before_at", "2026-12-07T10:00:00.800Z"}}},
          {"method", json::array()},
          {"faults",
           {{{"name", "pause"},
             {"type", "process_pause"},
             {"target", "t"},
             {"duration", "30s"},
             {"observed", {{"paused", {42, 43}}, {"note", "<b>bold</b>"}}},
             {"expectation_met", true},
             {"revert_ok", false},
             {"targets", {target, failed}}}}},
          {"rollbacks",
           {{{"name", "restart"},
             {"argv", {"sh", "-c", "exit 3"}},
             {"exit_code", 3},
             {"ok", false},
             {"timed_out", false},
             {"stderr", "boom"}}}},
          {"reverted_cleanly", false},
          {"manual_undo", {"pid 43: kill -CONT 43"}},
          {"abort",
           {{"guard", "g"},
            {"reason", "value 0.9 > 0.5"},
            {"value", 0.9},
            {"threshold", "max 0.5"},
            {"sampled_at", "2026-12-07T10:00:07.500Z"},
            {"detected_at", "2026-12-07T10:00:07.600Z"},
            {"all_reverted_at", "2026-12-07T10:00:07.900Z"}}},
          {"guards",
           {{{"name", "g"},
             {"source", {{"type", "probe"}}},
             {"condition", {{"max", 0.5}}},
             {"threshold", "max 0.5"},
             {"interval", "1s"},
             {"baseline", nullptr},
             {"samples", samples},
             {"samples_total", 10},
             {"samples_dropped", 0},
             {"breach", {{"reason", "value 0.9 > 0.5"}}}}}}};
}

Result<JournalModel> ReadText(const TempDir& dir, const std::string& text) {
  dir.Write("j.json", text);
  return ReadJournalFile(dir.File("j.json"));
}

TEST(ReportJournalTest, RefusesWhatIsNotAJournalWordForWord) {
  TempDir dir;
  const std::string path = dir.File("j.json");
  EXPECT_EQ(ReadText(dir, "[1, 2]").status().message(),
            path + ": not a ringfence journal (no journal_version)");
  EXPECT_EQ(
      ReadText(dir, R"({"journal_version": 3, "run_id": "x", "faults": [)").status().message(),
      path + ": truncated: the JSON ends before its last value does (a journal cut short)");
  EXPECT_EQ(ReadText(dir, R"({"journal_version": 9})").status().message(),
            path +
                ": journal_version 9 is newer than this ringfence reads (at most 3); use a "
                "newer ringfence");
  EXPECT_EQ(ReadText(dir, R"({"journal_version": "3"})").status().message(),
            path + ": /journal_version: found \"3\": expected a version of 1 or more");
  EXPECT_EQ(ReadText(dir, R"({"journal_version": 3, "faults": [{"targets": [{"label": 5}]}]})")
                .status()
                .message(),
            path + ": /faults/0/targets/0/label: found 5: expected a string");
  EXPECT_EQ(ReadText(dir, "hello").status().code(), StatusCode::kInvalidInput);
  EXPECT_EQ(ReadJournalFile(dir.File("missing.json")).status().message(),
            dir.File("missing.json") +
                ": cannot read the file (No such file or directory): a readable journal");
}

TEST(ReportJournalTest, AnOlderJournalSaysWhatItLacks) {
  json j = SampleJournal();
  j["journal_version"] = 2;
  for (const char* key : {"host", "platform", "user", "command_line", "duration_ms"}) j.erase(key);
  auto run = JournalModelFromJson(j, "old.json");
  ASSERT_TRUE(run.ok()) << run.status().message();
  ASSERT_FALSE(run->lacks.empty());
  EXPECT_EQ(run->lacks[0],
            "journal_version 2 (before 3) does not record the host, platform, user, command line "
            "and duration, nor who reverted each target, nor when the steady state was checked");
  bool known = true;
  EXPECT_EQ(ReplayCommand(*run, &known), "ringfence run EXPERIMENT.json --seed 99");
  EXPECT_FALSE(known);
  const std::string html = RenderHtmlReport(*run, "old.json");
  EXPECT_NE(html.find("What this journal does not hold"), std::string::npos);
  EXPECT_NE(html.find("not recorded (journal_version &lt; 3)"), std::string::npos);
}

TEST(ReportJournalTest, ReplaySetsTheRecordedSeed) {
  auto run = JournalModelFromJson(SampleJournal(), "j");
  ASSERT_TRUE(run.ok()) << run.status().message();
  EXPECT_EQ(ReplayCommand(*run), "ringfence run exp.json --seed 99");
}

TEST(ReportHtmlTest, EscapesEveryUserStringAndHasNoScript) {
  auto run = JournalModelFromJson(SampleJournal(), "j");
  ASSERT_TRUE(run.ok()) << run.status().message();
  const std::string html = RenderHtmlReport(*run, "a<b>.json");
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<b>bold"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"), std::string::npos);
  EXPECT_NE(html.find("&lt;b&gt;bold&lt;/b&gt;"), std::string::npos);
  // Nothing is fetched: no source, link, import or url() (the SVG namespace is only a name).
  for (const char* fetch : {"src=", "href=", "@import", "url("}) {
    EXPECT_EQ(html.find(fetch), std::string::npos) << fetch;
  }
  // The failed revert is the first row, in red, with its manual undo.
  const size_t first_row = html.find("revert-row");
  ASSERT_NE(first_row, std::string::npos);
  EXPECT_EQ(html.rfind("<tr class=\"failed revert-row\">", first_row + 20),
            html.find("<tr class=\"failed revert-row\">"));
  EXPECT_LT(html.find("pid 43 (sleep)", first_row), html.find("pid 42 (sleep)", first_row));
  EXPECT_NE(html.find("kill -CONT 43"), std::string::npos);
  EXPECT_NE(html.find("data-verdict=\"revert-failed\""), std::string::npos);
}

// The sample journal as a game day that an operator aborted: every kind of operator action,
// a step skipped from the keyboard, a hostile note.
json GameDayJournal() {
  json j = SampleJournal();
  j["reverted_cleanly"] = true;
  j["manual_undo"] = json::array();
  j["faults"][0]["targets"].erase(1);
  j["faults"][0]["revert_ok"] = true;
  j["status"] = "aborted";
  j["reason"] = "operator: aborted by alice (operator); every active fault was reverted";
  j["abort"] = {{"by", "operator"},
                {"who", "alice"},
                {"reason", "operator"},
                {"requested_at", "2026-12-07T10:00:06.000Z"},
                {"all_reverted_at", "2026-12-07T10:00:06.200Z"}};
  j["method"] = {{{"step", 1},
                  {"name", "soak"},
                  {"at", "2026-12-07T10:00:03.100Z"},
                  {"skipped", true},
                  {"by", "bob"}}};
  j["operator_actions"] = {
      {{"at", "2026-12-07T10:00:01.500Z"}, {"who", "root"}, {"action", "hold"}},
      {{"at", "2026-12-07T10:00:02.000Z"},
       {"who", "carol"},
       {"action", "note"},
       {"text", "p99 <b>flat</b>"},
       {"before_step", 1},
       {"step", "soak"}},
      {{"at", "2026-12-07T10:00:03.000Z"},
       {"who", "bob"},
       {"action", "skip"},
       {"before_step", 1},
       {"step", "soak"}},
      {{"at", "2026-12-07T10:00:03.050Z"},
       {"who", "bob"},
       {"action", "continue"},
       {"before_step", 1},
       {"step", "soak"}},
      {{"at", "2026-12-07T10:00:04.000Z"},
       {"who", "client 10.0.0.9"},
       {"action", "refused"},
       {"text", "POST /abort: no valid bearer token"}},
      {{"at", "2026-12-07T10:00:06.000Z"}, {"who", "alice"}, {"action", "abort"}}};
  return j;
}

// The text of each `<tr class="operator-row" …>` of `html`, tags dropped, cells joined by " | ".
std::vector<std::string> OperatorRowTexts(const std::string& html) {
  std::vector<std::string> rows;
  for (size_t at = html.find("<tr class=\"operator-row\""); at != std::string::npos;
       at = html.find("<tr class=\"operator-row\"", at + 1)) {
    const std::string row = html.substr(at, html.find("</tr>", at) - at);
    std::string text;
    bool in_tag = false;
    for (size_t i = row.find('>') + 1; i < row.size(); ++i) {
      if (row.compare(i, 4, "</td") == 0 && !text.empty()) text += " | ";
      if (row.compare(i, 4, "<br>") == 0) text += " ";
      if (row[i] == '<') in_tag = true;
      if (!in_tag) text += row[i];
      if (row[i] == '>') in_tag = false;
    }
    rows.push_back(text.substr(0, text.size() - 3));
  }
  return rows;
}

TEST(ReportHtmlTest, EveryOperatorActionIsARowWithItsTimeAndWho) {
  auto run = JournalModelFromJson(GameDayJournal(), "j");
  ASSERT_TRUE(run.ok()) << run.status().message();
  EXPECT_EQ(VerdictOf(*run).label, "ABORTED BY OPERATOR");
  const std::string html = RenderHtmlReport(*run, "j.json");
  EXPECT_NE(html.find("<div class=\"banner aborted\" id=\"verdict\" data-verdict=\"aborted\">"
                      "ABORTED BY OPERATOR<span class=\"why\">operator: aborted by alice "
                      "(operator); every active fault was reverted</span></div>"),
            std::string::npos);
  EXPECT_EQ(OperatorRowTexts(html),
            (std::vector<std::string>{
                "T+1.5 s 10:00:01.500 UTC | root | hold | ",
                "T+2 s 10:00:02.000 UTC | carol | note | p99 &lt;b&gt;flat&lt;/b&gt;; before "
                "step 2 (soak)",
                "T+3 s 10:00:03.000 UTC | bob | skip | skip the next step; before step 2 (soak)",
                "T+3.05 s 10:00:03.050 UTC | bob | continue | before step 2 (soak)",
                "T+3.1 s 10:00:03.100 UTC | bob | step skipped | step 2 (soak) not run",
                "T+4 s 10:00:04.000 UTC | client 10.0.0.9 | refused | POST /abort: no valid "
                "bearer token",
                "T+6 s 10:00:06.000 UTC | alice | abort | every active fault reverted",
            }));
  EXPECT_NE(html.find("<p class=\"fail-cell\">Aborted by the operator alice (operator) T+6 s, "
                      "every fault reverted T+6.2 s.</p>"),
            std::string::npos);
  EXPECT_EQ(html.find("Aborted by guard"), std::string::npos);
  EXPECT_NE(html.find("operator abort at T+6 s"), std::string::npos);  // the timeline marker
  const std::string md = RenderMarkdown(*run, "j.json");
  EXPECT_NE(md.find("## ❌ ABORTED BY OPERATOR: "), std::string::npos) << md;
  EXPECT_NE(md.find("| T+6 s | alice | abort | every active fault reverted |\n"), std::string::npos)
      << md;
  // A run without operators has no such section.
  auto plain = JournalModelFromJson(SampleJournal(), "j");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(RenderHtmlReport(*plain, "").find("operator-actions"), std::string::npos);
  EXPECT_EQ(VerdictOf(*plain).label, "REVERT FAILED");
}

TEST(ReportJournalTest, AWrongOperatorActionIsNamedByItsPointer) {
  json j = GameDayJournal();
  j["operator_actions"][2]["who"] = 7;
  EXPECT_EQ(JournalModelFromJson(j, "j").status().message(),
            "j: /operator_actions/2/who: found 7: expected a string");
}

TEST(ReportMarkupTest, EscapeTextKeepsTheDocumentWellFormed) {
  EXPECT_EQ(EscapeText("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#39;");
  EXPECT_EQ(EscapeText(std::string("x\x01y\xff", 4)), "x\xEF\xBF\xBDy\xEF\xBF\xBD");
  EXPECT_EQ(EscapeText("é ✓"), "é ✓");
  EXPECT_EQ(Shorten("αβγδε", 3), "αβγ…");
  EXPECT_EQ(Fixed(-0.00001, 2), "0");
  EXPECT_EQ(HumanSeconds(3725), "1 h 02 min");
}

TEST(ReportDownsampleTest, KeepsEveryNonOkSampleVisible) {
  std::vector<SampleView> samples;
  for (int i = 0; i < 72000; ++i) {
    SampleView s;
    s.t = i * 0.05;
    s.value = (i % 1000) / 1000.0;
    s.verdict = "ok";
    samples.push_back(s);
  }
  samples[12345].verdict = "breach";
  samples[12345].value = 5;
  samples[50000].verdict = "no_data";
  samples[50000].value.reset();
  samples[70000].verdict = "error";
  samples[70000].value.reset();
  const DrawnSamples drawn = DrawSamples(samples, 3600, 800, 2000);
  EXPECT_TRUE(drawn.downsampled);
  EXPECT_LE(drawn.line.size(), 2000u);
  EXPECT_NE(std::find(drawn.line.begin(), drawn.line.end(), 12345u), drawn.line.end());
  std::map<std::string, size_t> spans;
  for (const auto& s : drawn.strip) spans[s.verdict] += s.samples;
  EXPECT_EQ(spans["breach"], 1u);
  EXPECT_EQ(spans["no_data"], 1u);
  EXPECT_EQ(spans["error"], 1u);
  EXPECT_LT(drawn.strip.size(), 10u);

  const DrawnSamples few = DrawSamples({samples.begin(), samples.begin() + 100}, 5, 800, 2000);
  EXPECT_FALSE(few.downsampled);
  EXPECT_EQ(few.line.size(), 100u);
}

TEST(ReportJUnitTest, CountsFailuresErrorsAndSkips) {
  auto run = JournalModelFromJson(SampleJournal(), "j");
  ASSERT_TRUE(run.ok()) << run.status().message();
  const std::string xml = RenderJUnit(*run, "j.json");
  // before: 1; fault: expectation + revert (error); guard (failure); after: skipped; rollback
  // (failure).
  EXPECT_NE(xml.find("tests=\"6\" failures=\"2\" errors=\"1\" skipped=\"1\""), std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<property name=\"seed\" value=\"99\"/>"), std::string::npos);
  EXPECT_EQ(xml.find("<script>"), std::string::npos);
}

TEST(ReportMarkdownTest, HostileStringsCannotBreakTables) {
  json j = SampleJournal();
  j["faults"][0]["name"] = "a|b\n| injected | `x`";
  auto run = JournalModelFromJson(j, "j");
  ASSERT_TRUE(run.ok()) << run.status().message();
  const std::string md = RenderMarkdown(*run, "j.json");
  EXPECT_NE(md.find("a\\|b \\| injected \\| \\`x\\`"), std::string::npos) << md;
  EXPECT_EQ(md.find("<script>"), std::string::npos);
}

TEST(ReportFilesTest, AReportInAMissingFolderIsRefused) {
  TempDir dir;
  EXPECT_EQ(CheckReportPath("--report", dir.File("nope/r.html")).message(),
            "--report \"" + dir.File("nope/r.html") + "\": the folder " + dir.File("nope") +
                " does not exist");
  EXPECT_EQ(CheckReportPath("--junit", dir.path()).message(),
            "--junit \"" + dir.path() + "\": is a folder");
  EXPECT_TRUE(CheckReportPath("--report", dir.File("r.html")).ok());
}

TEST(SuiteReportTest, OneJUnitFileAndOneIndexForHandMadeMembers) {
  TempDir dir;
  dir.Write("passed.json", SampleJournal().dump());
  std::vector<SuiteMember> members = {
      {"a.json", "A <one>", dir.File("passed.json"), 4, "revert_failed", {}},
      {"b.json", "", "", 2, "invalid", {"b.json: /method: missing", "b.json: /title: <x>"}},
      {"c.json", "C", "", 0, "skipped", {}},
  };
  ASSERT_TRUE(WriteSuiteJUnit(members, dir.File("suite.xml")).ok());
  const std::string xml = ReadFile(dir.File("suite.xml"));
  EXPECT_EQ(xml.rfind("<?xml", 0), 0u);
  size_t suites = 0;
  for (size_t at = xml.find("<testsuite "); at != std::string::npos;
       at = xml.find("<testsuite ", at + 1)) {
    ++suites;
  }
  EXPECT_EQ(suites, 3u);
  EXPECT_NE(xml.find("b.json: /title: &lt;x&gt;"), std::string::npos);
  EXPECT_NE(xml.find("<skipped message=\"not run (skipped)\"/>"), std::string::npos);
  ASSERT_TRUE(WriteSuiteIndexHtml(members, dir.File("index.html")).ok());
  const std::string html = ReadFile(dir.File("index.html"));
  EXPECT_NE(html.find("data-verdict=\"failed\">INVALID"), std::string::npos);
  EXPECT_NE(html.find("A &lt;one&gt;"), std::string::npos);
  EXPECT_NE(html.find("0 of 3 experiments passed"), std::string::npos);
}

}  // namespace
}  // namespace ringfence::testing
