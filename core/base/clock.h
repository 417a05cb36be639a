#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>

namespace ringfence {

using WallTime = std::chrono::system_clock::time_point;

// A request to stop, shared between the thread that asks (a signal watcher, a guard) and the
// threads that wait. Waiting on a Clock wakes up early when a stop is requested.
class StopSource {
 public:
  // The first reason wins; later calls only wake waiters. Thread-safe.
  void RequestStop(const std::string& reason);
  bool stop_requested() const { return stopped_.load(); }
  std::string reason() const;

  // Used by Clock implementations: waits until `deadline` or a stop, whichever is first.
  // Returns false when stopped.
  bool WaitUntil(std::chrono::steady_clock::time_point deadline);

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> stopped_{false};
  std::string reason_;
};

// Every use of time goes through a Clock so that unit tests can run on a fake one.
class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, for journals and ledgers.
  virtual WallTime Now() = 0;
  // Monotonic time, for schedules and timeouts.
  virtual std::chrono::steady_clock::time_point Monotonic() = 0;
  // Sleeps until Monotonic() >= deadline; returns false early when `stop` is requested.
  virtual bool SleepUntil(std::chrono::steady_clock::time_point deadline, StopSource& stop) = 0;
};

// "2026-11-21T16:27:48.123Z" (RFC 3339, UTC, milliseconds).
std::string FormatRfc3339(WallTime t);
// The inverse of FormatRfc3339 for what it writes ("YYYY-MM-DDTHH:MM:SS[.fff]Z", UTC); nullopt
// for anything else (journals read back are input: nothing is assumed about them).
std::optional<WallTime> ParseRfc3339(const std::string& text);

}  // namespace ringfence
