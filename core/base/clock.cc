#include "core/base/clock.h"

#include <ctime>

namespace ringfence {

void StopSource::RequestStop(const std::string& reason) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopped_.load()) reason_ = reason;
    stopped_.store(true);
  }
  cv_.notify_all();
}

std::string StopSource::reason() const {
  std::lock_guard<std::mutex> lock(mu_);
  return reason_;
}

bool StopSource::WaitUntil(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_until(lock, deadline, [this] { return stopped_.load(); });
  return !stopped_.load();
}

std::string FormatRfc3339(WallTime t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms % 1000));
  return buf;
}

}  // namespace ringfence
