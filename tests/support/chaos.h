#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/processes.h"

namespace ringfence::testing {

// Pids of ringfence processes whose command line contains `needle` (a state dir: its runner,
// watchdog, and the runner's forked workers).
std::vector<pid_t> ProcessesMentioning(const std::string& needle);
// Processes whose whole command line (arguments joined by spaces) is `cmdline`.
std::vector<pid_t> ProcessesRunning(const std::string& cmdline);
// How many processes have a command line matching `regex` (ECMAScript, searched).
int CountProcesses(const std::string& regex);

// Runs one fault step as an experiment, again and again, SIGKILLing the runner at seeded points.
class ChaosRun {
 public:
  // `step` is one method step; `targets` the experiment's /targets (empty for host faults).
  ChaosRun(const TempDir& dir, nlohmann::json step,
           nlohmann::json targets = nlohmann::json::object());
  std::string state() const;
  std::vector<std::string> RunArgs() const;  // the runner's argv (watchdog grace 300 ms)
  // Every ledger under the state dir shows nothing outstanding and nothing unreadable.
  bool LedgersClean() const;
  // `points` runs: each is killed after a delay drawn (seeded) from [0, max_delay_ms]. After
  // each, waits (bounded) until no process mentions the state dir, then asserts `leftovers()`
  // is "" (it says what is left otherwise) and that the ledgers are clean.
  void KillAtSeededPoints(int points, unsigned seed, int max_delay_ms,
                          const std::function<std::string()>& leftovers);

 private:
  const TempDir& dir_;
  std::string file_;
};

}  // namespace ringfence::testing
