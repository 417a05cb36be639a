// Guards through `ringfence run` and `ringfence demo`: what they do is checked from outside
// (waitpid, /proc/PID/stat, the journal, the Pushgateway's page), against real servers.
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/http_client.h"
#include "core/metric_text.h"
#include "runner/demo_fleet.h"
#include "tests/support/processes.h"
#include "tests/support/prometheus_server.h"

namespace ringfence::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

class CliGuardsTest : public ::testing::Test {
 protected:
  std::vector<std::string> Run(const std::string& file, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {RINGFENCE_BINARY, "run", file, "--journal",
                                     dir_.File("journal.json"), "--state-dir", dir_.File("state")};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }
  json Journal() { return json::parse(ReadFile(dir_.File("journal.json"))); }

  // An experiment that kills `kill` of `victims` and pauses every one of `paused`
  // (both for 30 s), with `guards`.
  static std::string Experiment(const SleepChildren& victims, int kill,
                                const SleepChildren& paused, const json& guards) {
    json doc = {
        {"version", 1},
        {"title", "guards through run"},
        {"targets",
         {{"victims", {{"process", {{"cmdline", victims.cmdline_regex()}}},
                       {"select", {{"count", kill}}}}},
          {"paused", {{"process", {{"cmdline", paused.cmdline_regex()}}}}}}},
        {"method",
         {{{"type", "process_pause"}, {"name", "pause"}, {"target", "paused"},
           {"duration", "30s"}},
          {{"type", "wait"}, {"duration", "200ms"}},
          {{"type", "process_kill"}, {"name", "kill"}, {"target", "victims"},
           {"params", {{"signal", "SIGKILL"}}}, {"duration", "30s"}},
          {{"type", "wait"}, {"duration", "30s"}}}},
        {"guards", guards}};
    return doc.dump(2);
  }

  static bool AllRunning(const SleepChildren& children) {
    return std::none_of(children.pids().begin(), children.pids().end(),
                        [](pid_t p) { return SleepChildren::State(p) == 'T'; });
  }
  static bool AllPaused(const SleepChildren& children) {
    return std::all_of(children.pids().begin(), children.pids().end(),
                       [](pid_t p) { return SleepChildren::State(p) == 'T'; });
  }

  TempDir dir_;
};

TEST_F(CliGuardsTest, InvalidGuardsExit2AndTouchNothing) {
  SleepChildren victims(2), paused(1);
  json guards = {{{"name", "a"},
                  {"source", {{"type", "graphite"}}},
                  {"condition", {{"max", 1}}}},
                 {{"name", "b"},
                  {"source", {{"type", "affected_fraction"}, {"target", "flet"}}},
                  {"condition", json::object()},
                  {"interval", "10ms"},
                  {"for", 0}}};
  dir_.Write("bad.json", Experiment(victims, 1, paused, guards));
  ChildRun run(Run(dir_.File("bad.json")), dir_.path());
  ASSERT_EQ(run.Wait(), 2) << run.err();
  const std::string file = dir_.File("bad.json");
  const std::string err = run.err();
  for (const std::string& line :
       {file + ": /guards/0/source/type: \"graphite\": one of promql, scrape, probe_stats, "
               "probe, affected_fraction",
        file + ": /guards/1/source/target: \"flet\": the name of a target in /targets (paused, "
               "victims)",
        file + ": /guards/1/condition: {}: {\"max\": x}, {\"min\": x}, {\"min\": x, \"max\": y}, "
               "{\"max_vs_baseline\": r} or {\"min_vs_baseline\": r}",
        file + ": /guards/1/interval: \"10ms\": a duration such as \"250ms\", \"30s\", \"2m\" "
               "(from 50ms to 1h)",
        file + ": /guards/1/for: 0: an integer from 1 to 1000"}) {
    EXPECT_NE(err.find(line + "\n"), std::string::npos) << line << "\n---\n" << err;
  }
  EXPECT_TRUE(AllRunning(paused));
  for (pid_t pid : victims.pids()) EXPECT_FALSE(victims.Exited(pid)) << pid;
}

}  // namespace
}  // namespace ringfence::testing
