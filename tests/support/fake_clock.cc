#include "tests/support/fake_clock.h"

namespace ringfence::testing {

namespace {
// A fixed wall-clock epoch (2024-07-19T04:09:00Z) keeps journals of tests reproducible.
const WallTime kWallEpoch = WallTime(std::chrono::seconds(1721362140));
const std::chrono::steady_clock::time_point kMonoEpoch{std::chrono::hours(1)};
}  // namespace

WallTime FakeClock::Now() {
  std::lock_guard<std::mutex> lock(mu_);
  return kWallEpoch + elapsed_;
}

std::chrono::steady_clock::time_point FakeClock::Monotonic() {
  std::lock_guard<std::mutex> lock(mu_);
  return kMonoEpoch + elapsed_;
}

bool FakeClock::SleepUntil(std::chrono::steady_clock::time_point deadline, StopSource& stop) {
  if (stop.stop_requested()) return false;
  std::lock_guard<std::mutex> lock(mu_);
  auto target = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - kMonoEpoch);
  if (target > elapsed_) elapsed_ = target;
  return true;
}

void FakeClock::Advance(std::chrono::milliseconds d) {
  std::lock_guard<std::mutex> lock(mu_);
  elapsed_ += d;
}

long long FakeClock::ElapsedMs() {
  std::lock_guard<std::mutex> lock(mu_);
  return elapsed_.count();
}

}  // namespace ringfence::testing
