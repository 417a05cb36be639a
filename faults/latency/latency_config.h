#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/base/duration.h"
#include "core/base/status.h"
#include "core/base/validation.h"
#include "core/model/params.h"

namespace ringfence {

// Which mechanism adds the delay. kAuto resolves in Prepare (see ResolveLatencyBackend).
enum class LatencyBackend { kAuto, kProxy, kNetem };

// Which bytes the proxy shapes: kDownstream is server → client (responses), kUpstream is
// client → server (requests).
enum class LatencyDirection { kDownstream, kUpstream, kBoth };

// What happens to proxied connections still open when the fault is reverted.
enum class InFlightPolicy { kFinish, kReset };

// An IP literal and a port: "127.0.0.1:8080" or "[::1]:8080". Host names are not accepted, so
// that nothing depends on name resolution at injection time.
struct SocketAddress {
  std::string ip;  // without brackets
  uint16_t port = 0;
  bool ipv6 = false;
  std::string ToString() const;
};
// nullopt when `text` is not "<IPv4>:<port>" or "[<IPv6>]:<port>" with a port 0..65535.
std::optional<SocketAddress> ParseSocketAddress(std::string_view text);

// The validated parameters of one `latency` method step, typed (ParseLatencyConfig takes the
// defaults from LatencyDeclaration(); the initial values here are only zeros).
struct LatencyConfig {
  LatencyBackend backend = LatencyBackend::kAuto;
  std::optional<SocketAddress> listen;    // explicit mode
  std::optional<SocketAddress> upstream;  // explicit mode
  std::optional<uint16_t> port;           // transparent mode
  std::string address;                    // transparent mode: only traffic to this IPv4 address
  std::string netns;                      // "" = the runner's own network namespace
  std::string interface;                  // netem
  Duration delay{0};
  Duration jitter{0};
  LatencyDirection direction = LatencyDirection::kDownstream;
  uint64_t rate_kbit = 0;  // 0 = no cap
  double reset_percent = 0;
  bool blackhole = false;
  std::optional<uint64_t> seed;  // nullopt: derived from the run id (LatencySeedFor)
  InFlightPolicy in_flight = InFlightPolicy::kFinish;
  Duration finish_timeout{0};
  int max_connections = 0;

  bool transparent() const { return port.has_value(); }
  bool has_proxy_target() const { return listen.has_value() || port.has_value(); }
  // Features only the proxy implements.
  bool needs_proxy() const { return reset_percent > 0 || blackhole; }
};

// The declaration of the `latency` fault type (parameter names, types, limits, defaults, docs).
const FaultDecl& LatencyDeclaration();

// Cross-field rules on params that passed ValidateParams and have defaults filled in. Errors go
// under `pointer` + "/<param>" (see docs/faults/latency.md for the texts).
void ValidateLatencyConfig(const nlohmann::json& params, const std::string& pointer,
                           ValidationErrors& errors);

// The typed form of params that passed ValidateParams and ValidateLatencyConfig.
// kInvalidInput when they did not (a programming error upstream, reported rather than trusted).
Result<LatencyConfig> ParseLatencyConfig(const nlohmann::json& params);

// The backend that serves `config`: kProxy and kNetem as asked (kNetem refused with
// LatencyNetemMissingMessage() when `netem_available` is false); kAuto is kNetem when the step
// names an interface, uses no proxy-only feature and the kernel has netem, else kProxy.
Result<LatencyBackend> ResolveLatencyBackend(const LatencyConfig& config, bool netem_available);

// The kUnavailable text when the kernel has no netem.
std::string LatencyNetemMissingMessage();

// The default jitter/reset seed: a hash of the run id and the step name, below 2^53 so that it
// survives a round trip through JSON numbers.
uint64_t LatencySeedFor(std::string_view run_id, std::string_view step_name);

// "ringfence_<run id with [^a-z0-9_] replaced by '_', at most 40 characters>_<n>": names the
// nft table and the in-process proxy of one injection.
std::string LatencyInstanceName(std::string_view run_id, int n);

const char* LatencyBackendName(LatencyBackend backend);
const char* LatencyDirectionName(LatencyDirection direction);
const char* InFlightPolicyName(InFlightPolicy policy);

}  // namespace ringfence
