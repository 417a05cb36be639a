#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace ringfence::demo {

// How /work treats a dependency that fails (docs/demo.md, "The topology"): kHard answers 503,
// kSoft falls back on a slower path (kSoftFallback more), kTimeout gives up after its own
// timeout and falls back at once (graceful degradation).
enum class DependencyMode { kHard, kSoft, kTimeout };

inline constexpr std::chrono::milliseconds kSoftFallback{50};
inline constexpr std::chrono::milliseconds kDefaultDependencyTimeout{1000};
// A connection is reused (HTTP keep-alive) for at most this long, so that a redirect installed
// for new connections (the latency fault's) reaches the calls soon.
inline constexpr std::chrono::milliseconds kConnectionMaxAge{500};

struct DependencySpec {
  std::string name;
  std::string address;  // an IPv4 address
  int port = 0;
  std::string path;  // "/work"
  DependencyMode mode = DependencyMode::kHard;
  std::chrono::milliseconds timeout = kDefaultDependencyTimeout;
};

// "NAME=http://127.0.0.1:PORT/PATH:hard|soft|timeout=50ms"; nullopt with `error` set when it is
// not one.
std::optional<DependencySpec> ParseDependencySpec(const std::string& text, std::string& error);

// One dependency's HTTP client: one keep-alive connection at a time (opened at Connect(),
// reopened after a failure or kConnectionMaxAge), calls serialized. Thread-safe.
class DependencyClient {
 public:
  explicit DependencyClient(DependencySpec spec);
  ~DependencyClient();
  const DependencySpec& spec() const { return spec_; }
  // Opens the connection when there is none or it is older than `max_age`: ahead of the first
  // call, and then now and again, so that the dependency is visibly in use between calls (an
  // idle connection the server closed would no longer be established).
  void Connect(std::chrono::milliseconds max_age);
  // GET spec.path: "ok" (a 2xx within the timeout), "timeout" or "error".
  std::string Call();

 private:
  bool Open(std::chrono::steady_clock::time_point deadline);
  void Close();

  DependencySpec spec_;
  std::mutex mu_;
  int fd_ = -1;
  std::chrono::steady_clock::time_point opened_;
};

}  // namespace ringfence::demo
