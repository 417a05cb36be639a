#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/base/status.h"
#include "faults/latency/latency_config.h"

namespace ringfence {

// How one direction of a proxied connection is shaped. Each chunk read is held until
// `read time + delay ± jitter` (never earlier than the chunk before it: TCP is a stream), then
// written at no more than `rate_bytes_per_s` (0: as fast as the peer takes it).
struct DirectionShaping {
  std::chrono::microseconds delay{0};
  std::chrono::microseconds jitter{0};
  uint64_t rate_bytes_per_s = 0;
  bool shaped() const { return delay.count() > 0 || jitter.count() > 0 || rate_bytes_per_s > 0; }
};

struct LatencyProxyOptions {
  std::string netns;     // the named namespace every socket of the proxy lives in; "" = ours
  SocketAddress listen;  // transparent mode: 0.0.0.0 and port 0 (any free port)
  // Explicit mode: where every connection goes. nullopt: transparent mode, each connection goes
  // to its original destination (SO_ORIGINAL_DST).
  std::optional<SocketAddress> upstream;
  uint32_t upstream_mark = 0;  // SO_MARK on upstream sockets; 0: none
  DirectionShaping to_upstream;
  DirectionShaping to_client;
  double reset_percent = 0;
  bool blackhole = false;
  uint64_t seed = 0;
  int max_connections = 512;
};

// Every counter of the proxy, declared once (like Envoy's ALL_*_STATS lists): the members of
// LatencyProxyStats, the proxy's atomics and the copy between them come from this list.
// COUNTER(name) is a uint64_t total since Start(); GAUGE(name) an int level.
// All connections accepted are counted once in `accepted` and once in exactly one of proxied,
// reset, blackholed, over_limit, no_original_destination, or upstream_failures.
#define RINGFENCE_LATENCY_PROXY_STATS(COUNTER, GAUGE)                                   \
  COUNTER(accepted)                                                                     \
  COUNTER(proxied)                                                                      \
  COUNTER(reset) /* by reset_percent */                                                 \
  COUNTER(blackholed)                                                                   \
  COUNTER(over_limit)              /* reset because max_connections were open */        \
  COUNTER(no_original_destination) /* transparent mode: not redirected to us; closed */ \
  COUNTER(upstream_failures)       /* the real server did not accept; client reset */   \
  COUNTER(reset_at_stop)           /* open at Stop() and reset (policy or timeout) */   \
  COUNTER(bytes_to_upstream)                                                            \
  COUNTER(bytes_to_client)                                                              \
  COUNTER(chunks_held)       /* chunks that went through a shaped direction */          \
  COUNTER(lateness_us_total) /* sum over held chunks of (written - due) */              \
  COUNTER(lateness_us_max)                                                              \
  GAUGE(open) /* connections open now */

// A snapshot of the counters (LatencyProxy::Stats).
struct LatencyProxyStats {
#define RINGFENCE_LATENCY_PROXY_COUNTER_MEMBER(name) uint64_t name = 0;
#define RINGFENCE_LATENCY_PROXY_GAUGE_MEMBER(name) int name = 0;
  RINGFENCE_LATENCY_PROXY_STATS(RINGFENCE_LATENCY_PROXY_COUNTER_MEMBER,
                                RINGFENCE_LATENCY_PROXY_GAUGE_MEMBER)
#undef RINGFENCE_LATENCY_PROXY_COUNTER_MEMBER
#undef RINGFENCE_LATENCY_PROXY_GAUGE_MEMBER
  nlohmann::json ToJson() const;
};

// A TCP proxy on Boost.Asio (one I/O thread) that delays, jitters, rate-limits, resets or
// blackholes what it forwards. Timers per chunk, never sleeps; 256 KiB reads; TCP_NODELAY on
// both sockets; up to 8 MiB held per direction per connection (then it stops reading).
// Thread-safe: Start, listening, Stop and Stats may be called from any thread.
class LatencyProxy {
 public:
  // Binds the listener (inside options.netns) and starts the I/O thread. Errors: the namespace
  // does not exist (kNotFound), the address is taken (kRuntime with the errno text).
  static Result<std::unique_ptr<LatencyProxy>> Start(const LatencyProxyOptions& options);
  ~LatencyProxy();  // Stop(kReset, 0) when still running
  LatencyProxy(const LatencyProxy&) = delete;
  LatencyProxy& operator=(const LatencyProxy&) = delete;

  // The address actually bound (the port filled in when 0 was asked).
  SocketAddress listening() const;

  // Closes the listener, then: kReset resets every open connection (RST to both peers) at
  // once; kFinish lets them run until they close, at most `finish_timeout`, then resets the rest.
  // Blackholed connections are closed at once either way. Returns when the I/O thread has
  // ended. Idempotent.
  void Stop(InFlightPolicy policy, std::chrono::milliseconds finish_timeout);

  LatencyProxyStats Stats() const;

 private:
  struct Impl;
  explicit LatencyProxy(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Whether `address` can be bound now inside `netns` (nothing stays bound). Errors as Start().
Status CheckListenAddress(const std::string& netns, const SocketAddress& address);

}  // namespace ringfence
