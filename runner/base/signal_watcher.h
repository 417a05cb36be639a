#pragma once

#include <atomic>
#include <functional>
#include <thread>

#include "core/base/clock.h"

namespace ringfence {

// Turns SIGINT, SIGTERM and SIGHUP into a stop request on `stop` (reason "SIGINT", ...).
// Uses handlers that write to a pipe (no blocked signal mask, so child processes start with
// normal signal handling). A signal after the first does not stop anything more: it calls
// `on_repeat` (which prints what is in progress) — a revert is never skipped.
// One instance per process; restores the previous handlers when destroyed.
class SignalWatcher {
 public:
  SignalWatcher(StopSource& stop, std::function<void(int signo)> on_repeat);
  ~SignalWatcher();
  // The first signal received, or 0.
  int first_signal() const { return first_.load(); }

 private:
  void Loop();
  StopSource& stop_;
  std::function<void(int)> on_repeat_;
  std::atomic<int> first_{0};
  int pipe_[2] = {-1, -1};
  std::thread thread_;
};

// 130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP (128 + signal number).
inline int ExitCodeForSignal(int signo) { return 128 + signo; }

}  // namespace ringfence
