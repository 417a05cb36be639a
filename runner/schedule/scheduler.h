#pragma once

#include <string>

namespace ringfence {

// `ringfence scheduler FILE` (docs/scheduling.md).
struct SchedulerRequest {
  std::string file;
  std::string state_dir;       // "": DefaultStateDir()
  std::string metrics_listen;  // --metrics-listen ADDRESS:PORT
  std::string pushgateway;     // --pushgateway URL, passed to every run
};

// Runs in the foreground until SIGINT/SIGTERM/SIGHUP: starts each entry's run when due, as a
// child `ringfence run` of this binary (so that every run has its own watchdog, ledger and
// crash safety), never two at once on the state dir unless the schedule allows it (a run due
// while another runs is recorded as skipped, reason "overlap"); stops a run that outlives its
// timeout with SIGTERM (it reverts and exits 143); on a signal, lets the current run revert and
// finish, then exits with 128 + the signal. Exit 2 for an invalid schedule (nothing scheduled),
// 3 when the state dir or the history cannot be opened.
int RunScheduler(const SchedulerRequest& request);

}  // namespace ringfence
