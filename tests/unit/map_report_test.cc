#include "report/map_report.h"

#include <gtest/gtest.h>

namespace ringfence {
namespace {

using json = nlohmann::json;

json MapJournal() {
  return json::parse(R"({
    "map_version": 1, "title": "frontend <deps>",
    "service": {"name": "frontend", "pids": [1]},
    "started_at": "2026-12-08T00:12:10.000Z", "ended_at": "2026-12-08T00:12:55.000Z",
    "discovery": {"undeclared": [{"endpoint": "127.0.0.1:18204",
                                  "listener": {"pid": 42, "name": "audit"}}],
                  "declared_not_seen": ["ldap"]},
    "dependencies": [
      {"name": "db", "endpoint": "127.0.0.1:18201", "expect": "soft", "verdict": "hard",
       "mismatch": true,
       "cells": [{"fault": "latency", "outcome": "degraded", "detail": "p99 396 against 18.6"},
                 {"fault": "partition", "outcome": "broken", "detail": "success breached"}]},
      {"name": "cache", "endpoint": "127.0.0.1:18202", "expect": null, "verdict": "none",
       "mismatch": false, "cells": [{"fault": "partition", "outcome": "no impact", "detail": ""}]}
    ],
    "stopped": null})");
}

TEST(MapReportTest, OneRowPerDependencyOneColumnPerFault) {
  const std::string page = RenderMapHeatmap(MapJournal());
  EXPECT_NE(page.find("<title>frontend &lt;deps&gt; · ringfence map</title>"), std::string::npos);
  EXPECT_NE(page.find("id=\"verdict\" data-verdict=\"failed\">FINDINGS<span class=\"why\">a "
                      "dependency is not what the team expects</span>"),
            std::string::npos);
  EXPECT_NE(page.find("<td class=\"cell o-degraded\" data-outcome=\"degraded\"><span "
                      "class=\"outcome\">degraded</span><span class=\"detail\">p99 396 against "
                      "18.6</span></td><td class=\"cell o-broken\" data-outcome=\"broken\">"),
            std::string::npos)
      << page;
  // db has no kill cell; its expectation differs from what was measured.
  EXPECT_NE(page.find("<td class=\"cell o-none\">—</td><td class=\"verdict\">hard</td><td "
                      "class=\"mismatch\">soft ≠ measured</td>"),
            std::string::npos);
  EXPECT_NE(page.find("<tr data-dependency=\"cache\"><th>cache<br><small>127.0.0.1:18202</small>"
                      "</th><td class=\"cell o-none\">—</td><td class=\"cell o-no-impact\""),
            std::string::npos);
  EXPECT_NE(page.find("<li><b>undeclared dependency</b> 127.0.0.1:18204: listener pid 42 "
                      "(audit)</li><li>declared, not seen in use: ldap</li>"),
            std::string::npos);
}

TEST(MapReportTest, AnythingElseIsShownAsMissingNotTrusted) {
  const std::string page = RenderMapHeatmap(json::parse(R"({"dependencies": [{"cells": 3},
      "x"], "title": 7})"));
  EXPECT_NE(page.find("data-verdict=\"passed\">AS EXPECTED"), std::string::npos);
  EXPECT_EQ(page.find("<h2>Discovery</h2>"), std::string::npos);
  EXPECT_NE(RenderMapHeatmap(json("not an object")).find("</html>"), std::string::npos);
}

}  // namespace
}  // namespace ringfence
