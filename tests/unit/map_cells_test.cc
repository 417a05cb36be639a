#include "runner/commands/map_cells.h"

#include <gtest/gtest.h>

namespace ringfence {
namespace {

using json = nlohmann::json;

// A cell run's journal: the fault injected at :10 and reverted at :20, one guard with a
// baseline of `baseline` and samples before, during and after the fault.
json Journal(double baseline, double during, const json& abort = nullptr) {
  return {{"status", abort.is_null() ? "passed" : "aborted"},
          {"faults",
           {{{"injected_at", "2026-12-07T10:00:10.000Z"},
             {"reverted_at", "2026-12-07T10:00:20.000Z"}}}},
          {"abort", abort},
          {"guards",
           {{{"name", "p99"},
             {"baseline", baseline},
             {"samples",
              {{{"at", "2026-12-07T10:00:05.000Z"}, {"value", baseline}},
               {{"at", "2026-12-07T10:00:12.000Z"}, {"value", during}},
               {{"at", "2026-12-07T10:00:15.000Z"}, {"value", baseline}},
               {{"at", "2026-12-07T10:00:25.000Z"}, {"value", 1000.0}}}}}}}};
}

TEST(MapCellsTest, NoImpactDegradedBrokenNotRecovered) {
  auto quiet = ClassifyCell(Journal(10, 11), true);
  EXPECT_EQ(quiet.outcome, CellOutcome::kNoImpact);
  EXPECT_TRUE(quiet.moves.empty());  // the sample after the revert does not count

  auto slower = ClassifyCell(Journal(10, 60), true);
  EXPECT_EQ(slower.outcome, CellOutcome::kDegraded);
  ASSERT_EQ(slower.moves.size(), 1u);
  EXPECT_EQ(slower.moves[0].slo, "p99");
  EXPECT_DOUBLE_EQ(slower.moves[0].change, 5.0);
  EXPECT_EQ(slower.detail, "p99 60 against 10 (+500%)");

  const json abort = {
      {"guard", "success"}, {"reason", "0.5 < 0.99"}, {"sampled_at", "2026-12-07T10:00:11.500Z"}};
  auto broken = ClassifyCell(Journal(10, 10, abort), true);
  EXPECT_EQ(broken.outcome, CellOutcome::kBroken);
  EXPECT_EQ(broken.breached_slo, "success");
  EXPECT_EQ(broken.time_to_breach_ms, 1500);
  EXPECT_EQ(broken.detail, "success breached: 0.5 < 0.99");

  EXPECT_EQ(ClassifyCell(Journal(10, 10, abort), false).outcome, CellOutcome::kNotRecovered);
}

TEST(MapCellsTest, AReferenceFromTheSamplesBeforeTheFault) {
  json journal = Journal(0, 0);
  auto& guard = journal["guards"][0];
  guard["baseline"] = nullptr;
  guard["samples"][0]["value"] = 1.0;
  guard["samples"][1]["value"] = 0.95;  // the first sample of the fault moved little,
  guard["samples"][2]["value"] = 0.5;   // the second much
  auto cell = ClassifyCell(journal, true);
  EXPECT_EQ(cell.outcome, CellOutcome::kDegraded);
  EXPECT_DOUBLE_EQ(cell.moves[0].reference, 1.0);
  EXPECT_DOUBLE_EQ(cell.moves[0].worst, 0.5);
  EXPECT_DOUBLE_EQ(cell.moves[0].change, -0.5);
}

TEST(MapCellsTest, ACellThatWasNotInjectedWasNotRun) {
  auto cell =
      ClassifyCell({{"status", "not_steady"}, {"reason", "steady state before not met"}}, true);
  EXPECT_EQ(cell.outcome, CellOutcome::kNotRun);
  EXPECT_EQ(cell.detail, "not injected: steady state before not met");
  EXPECT_EQ(ClassifyCell("not an object", true).outcome, CellOutcome::kNotRun);
}

TEST(MapCellsTest, DependencyVerdicts) {
  auto cell = [](CellOutcome o) {
    CellResult c;
    c.outcome = o;
    return c;
  };
  EXPECT_EQ(DependencyVerdict({cell(CellOutcome::kNoImpact), cell(CellOutcome::kDegraded)}),
            DependencyKind::kSoft);
  EXPECT_EQ(DependencyVerdict({cell(CellOutcome::kDegraded), cell(CellOutcome::kBroken)}),
            DependencyKind::kHard);
  EXPECT_EQ(DependencyVerdict({cell(CellOutcome::kNotRecovered)}), DependencyKind::kHard);
  EXPECT_EQ(DependencyVerdict({cell(CellOutcome::kNoImpact)}), DependencyKind::kNone);
  EXPECT_EQ(DependencyVerdict({cell(CellOutcome::kNotRun)}), std::nullopt);
}

TEST(MapCellsTest, UndeclaredAndNotSeen) {
  DependencyMap map;
  map.service_endpoint = MapEndpoint{"127.0.0.1", 8080, false};
  MapDependency db;
  db.name = "db";
  db.endpoint = MapEndpoint{"127.0.0.1", 5432, false};
  MapDependency cache;
  cache.name = "cache";
  cache.endpoint = MapEndpoint{"::1", 6379, true};
  map.dependencies = {db, cache};
  DiscoveryResult found;
  auto dependency = [](const std::string& address, uint16_t port, pid_t listener) {
    DiscoveredDependency d;
    d.remote = {address, port, address.find(':') != std::string::npos};
    if (listener) d.listener = ListeningProcess{listener, "x"};
    return d;
  };
  found.dependencies = {dependency("127.0.0.1", 5432, 0), dependency("127.0.0.1", 7000, 0),
                        dependency("127.0.0.1", 8080, 0), dependency("127.0.0.1", 9000, 42)};
  auto findings = CompareWithDiscovery(map, found, {42});
  ASSERT_EQ(findings.undeclared.size(), 1u);
  EXPECT_EQ(findings.undeclared[0].remote.Format(), "127.0.0.1:7000");
  EXPECT_EQ(findings.declared_not_seen, std::vector<std::string>{"cache"});
}

}  // namespace
}  // namespace ringfence
