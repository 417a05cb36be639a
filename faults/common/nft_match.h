#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/status.h"
#include "core/base/validation.h"
#include "core/model/params.h"

namespace ringfence {

// An IPv4 or IPv6 network: a single address is a prefix of full length (/32, /128).
struct IpPrefix {
  int family = 4;                   // 4 or 6
  std::array<uint8_t, 16> bytes{};  // network byte order; IPv4 uses the first 4, host bits zero
  int length = 32;                  // prefix length

  int max_length() const { return family == 4 ? 32 : 128; }
  // "10.0.0.0/24", "fd00::/64"; a single address without the length ("10.0.0.5", "fd00::1").
  std::string ToString() const;
  // True when `other` (of the same family) lies entirely inside this network.
  bool Contains(const IpPrefix& other) const;
};

// "10.0.0.5", "10.0.0.0/24", "fd00::1", "fd00::/64". Host bits are cleared ("10.0.0.7/24" is
// 10.0.0.0/24). kInvalidInput for anything else (no names, no ranges, no spaces).
Result<IpPrefix> ParseIpPrefix(std::string_view text);

enum class TrafficDirection { kIngress, kEgress, kBoth };
enum class TransportProtocol { kAll, kTcp, kUdp };

// Which packets an nftables fault acts on. A packet matches when it travels in `direction`
// (ingress: the input hook, packets delivered to this host or namespace; egress: the output
// hook, packets it sends), has `protocol`, has `port` as its source OR destination port, and has
// its source OR destination address inside `address`. Unset members match everything.
struct TrafficMatch {
  TrafficDirection direction = TrafficDirection::kBoth;
  TransportProtocol protocol = TransportProtocol::kAll;
  std::optional<int> port;
  std::optional<IpPrefix> address;

  bool ingress() const { return direction != TrafficDirection::kEgress; }
  bool egress() const { return direction != TrafficDirection::kIngress; }
  // The nft match expressions, one per line of a chain, without the verdict; {""} matches all.
  std::vector<std::string> NftExpressions() const;
  // "tcp port 80, address 10.0.0.0/24, both directions".
  std::string Describe() const;
};

// The param names shared by the nftables faults.
inline constexpr char kDirectionParam[] = "direction";
inline constexpr char kProtocolParam[] = "protocol";
inline constexpr char kPortParam[] = "port";
inline constexpr char kAddressParam[] = "address";
inline constexpr char kNetnsParam[] = "netns";

// The `allowed` texts of the checks below (asserted word for word in tests and docs).
inline constexpr char kAddressAllowed[] =
    "an IPv4 or IPv6 address or CIDR, such as 10.0.0.5, 10.0.0.0/24 or fd00::/64";
inline constexpr char kNetnsAllowed[] =
    "a network namespace name as listed by ip netns list (no \"/\", not \".\" or \"..\")";

// Adds an error for a malformed `address` or `netns` in `params` (params that passed
// ValidateParams), under `pointer` + "/address" or "/netns".
void ValidateTrafficParams(const nlohmann::json& params, const std::string& pointer,
                           ValidationErrors& errors);

// The match of validated params (direction, protocol, port, address), read through a fault's
// declaration (which includes TrafficParamDecls) so that the defaults are the declared ones.
Result<TrafficMatch> TrafficMatchFromParams(const ParamReader& read);

// True when `name` is usable with `ip netns exec` (non-empty, at most 255 bytes, no "/" or NUL,
// not "." or "..").
bool IsValidNetnsName(const std::string& name);

// Something the runner must keep reaching while a fault is active: the control connection to a
// remote host (address and port of the far end).
struct ProtectedEndpoint {
  IpPrefix address;  // a single address
  int port = 22;
  TransportProtocol protocol = TransportProtocol::kTcp;
  std::string ToString() const;  // "192.0.2.10:22/tcp", "[fd00::1]:22/tcp"
};

// The endpoints the runner depends on now, from RINGFENCE_CONTROL_ENDPOINTS: on a fleet host,
// the SSH connection the runner reaches it through (set by `ringfence host`); on the runner of a
// fleet run, its SSH connections to the hosts (set when the run makes its fleet); else none.
std::vector<ProtectedEndpoint> RunnerControlEndpoints();

// kInvalidInput when a packet to or from any of `endpoints` would be matched by `match` (in
// either direction: both are needed by a connection), e.g.
// "refused: the rule (tcp/udp port 22, all addresses, both directions) would cut the runner's
// control connection to 192.0.2.10:22/tcp; narrow address, port or protocol".
Status CheckProtectedEndpoints(const TrafficMatch& match,
                               const std::vector<ProtectedEndpoint>& endpoints);

}  // namespace ringfence
