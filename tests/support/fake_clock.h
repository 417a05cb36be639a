#pragma once

#include <mutex>

#include "core/base/clock.h"

namespace ringfence::testing {

// A clock whose time moves only when someone sleeps on it (or calls Advance): a sleep returns
// at once with the time set to its deadline, unless a stop was requested. Thread-safe.
class FakeClock : public Clock {
 public:
  WallTime Now() override;
  std::chrono::steady_clock::time_point Monotonic() override;
  bool SleepUntil(std::chrono::steady_clock::time_point deadline, StopSource& stop) override;
  void Advance(std::chrono::milliseconds d);
  // Milliseconds since the fake epoch, for asserting on schedules.
  long long ElapsedMs();

 private:
  std::mutex mu_;
  std::chrono::milliseconds elapsed_{0};
};

}  // namespace ringfence::testing
