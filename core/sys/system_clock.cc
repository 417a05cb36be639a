#include "core/sys/system_clock.h"

#include <chrono>

namespace ringfence {

namespace {

class RealClock : public Clock {
 public:
  WallTime Now() override { return std::chrono::system_clock::now(); }
  std::chrono::steady_clock::time_point Monotonic() override {
    return std::chrono::steady_clock::now();
  }
  bool SleepUntil(std::chrono::steady_clock::time_point deadline, StopSource& stop) override {
    return stop.WaitUntil(deadline);
  }
};

}  // namespace

Clock& SystemClock() {
  static RealClock clock;
  return clock;
}

}  // namespace ringfence
