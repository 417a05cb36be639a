#include "faults/common/nft_match.h"

#include <cstdlib>
#include <sstream>

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace ringfence {

namespace {

std::string FoundText(const nlohmann::json& value) {
  constexpr size_t kMaxChars = 40;
  std::string text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (text.size() > kMaxChars) text = text.substr(0, kMaxChars - 1) + "…";
  return text;
}

// Clears every bit after the first `length` bits.
void ClearHostBits(IpPrefix& p) {
  const int total_bytes = p.family == 4 ? 4 : 16;
  for (int i = 0; i < total_bytes; ++i) {
    const int bits_kept = std::max(0, std::min(8, p.length - 8 * i));
    const uint8_t mask = bits_kept == 0 ? 0 : static_cast<uint8_t>(0xFF << (8 - bits_kept));
    p.bytes[i] &= mask;
  }
}

}  // namespace

std::string IpPrefix::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(family == 4 ? AF_INET : AF_INET6, bytes.data(), buf, sizeof buf);
  std::string text = buf;
  if (length != max_length()) text += "/" + std::to_string(length);
  return text;
}

bool IpPrefix::Contains(const IpPrefix& other) const {
  if (family != other.family || other.length < length) return false;
  IpPrefix narrowed = other;
  narrowed.length = length;
  ClearHostBits(narrowed);
  return narrowed.bytes == bytes;
}

Result<IpPrefix> ParseIpPrefix(std::string_view text) {
  const auto invalid = [&] {
    return Status::InvalidInput("\"" + std::string(text) + "\": " + kAddressAllowed);
  };
  const size_t slash = text.find('/');
  const std::string address(text.substr(0, slash));
  IpPrefix p;
  if (::inet_pton(AF_INET, address.c_str(), p.bytes.data()) == 1) {
    p.family = 4;
  } else if (::inet_pton(AF_INET6, address.c_str(), p.bytes.data()) == 1) {
    p.family = 6;
  } else {
    return invalid();
  }
  p.length = p.max_length();
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    int length = -1;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), length);
    if (digits.empty() || digits.size() > 3 || ec != std::errc() ||
        end != digits.data() + digits.size() || length < 0 || length > p.max_length()) {
      return invalid();
    }
    p.length = length;
  }
  ClearHostBits(p);
  return p;
}

std::vector<std::string> TrafficMatch::NftExpressions() const {
  std::vector<std::string> address_parts = {""};
  if (address) {
    const std::string ip = address->family == 4 ? "ip" : "ip6";
    address_parts = {ip + " saddr " + address->ToString(), ip + " daddr " + address->ToString()};
  }
  std::string protocol_part;
  if (protocol == TransportProtocol::kTcp) protocol_part = "meta l4proto tcp";
  if (protocol == TransportProtocol::kUdp) protocol_part = "meta l4proto udp";
  // `th` (the transport header) has ports only for TCP and UDP here; say so explicitly.
  if (protocol == TransportProtocol::kAll && port) protocol_part = "meta l4proto { tcp, udp }";
  std::vector<std::string> port_parts = {""};
  if (port) {
    port_parts = {"th sport " + std::to_string(*port), "th dport " + std::to_string(*port)};
  }
  std::vector<std::string> lines;
  for (const auto& a : address_parts) {
    for (const auto& pt : port_parts) {
      std::string line;
      for (const std::string& part : {a, protocol_part, pt}) {
        if (part.empty()) continue;
        if (!line.empty()) line += " ";
        line += part;
      }
      lines.push_back(line);
    }
  }
  return lines;
}

std::string TrafficMatch::Describe() const {
  std::string text;
  if (port) {
    text = protocol == TransportProtocol::kTcp   ? "tcp"
           : protocol == TransportProtocol::kUdp ? "udp"
                                                 : "tcp/udp";
    text += " port " + std::to_string(*port);
  } else {
    text = protocol == TransportProtocol::kTcp   ? "tcp"
           : protocol == TransportProtocol::kUdp ? "udp"
                                                 : "all protocols";
  }
  text += address ? ", address " + address->ToString() : ", all addresses";
  text += direction == TrafficDirection::kIngress  ? ", ingress"
          : direction == TrafficDirection::kEgress ? ", egress"
                                                   : ", both directions";
  return text;
}

bool IsValidNetnsName(const std::string& name) {
  return !name.empty() && name.size() <= 255 && name != "." && name != ".." &&
         name.find('/') == std::string::npos && name.find('\0') == std::string::npos;
}

void ValidateTrafficParams(const nlohmann::json& params, const std::string& pointer,
                           ValidationErrors& errors) {
  if (params.contains(kAddressParam) && params[kAddressParam].is_string() &&
      !ParseIpPrefix(params[kAddressParam].get<std::string>()).ok()) {
    errors.Add(pointer + "/" + kAddressParam, FoundText(params[kAddressParam]), kAddressAllowed);
  }
  if (params.contains(kNetnsParam) && params[kNetnsParam].is_string() &&
      !IsValidNetnsName(params[kNetnsParam].get<std::string>())) {
    errors.Add(pointer + "/" + kNetnsParam, FoundText(params[kNetnsParam]), kNetnsAllowed);
  }
}

Result<TrafficMatch> TrafficMatchFromParams(const ParamReader& read) {
  TrafficMatch match;
  try {
    const std::string direction = read.Get<std::string>(kDirectionParam);
    if (direction == "ingress")
      match.direction = TrafficDirection::kIngress;
    else if (direction == "egress")
      match.direction = TrafficDirection::kEgress;
    else if (direction == "both")
      match.direction = TrafficDirection::kBoth;
    else
      return Status::InvalidInput("direction \"" + direction + "\": one of ingress, egress, both");
    const std::string protocol = read.Get<std::string>(kProtocolParam);
    if (protocol == "all")
      match.protocol = TransportProtocol::kAll;
    else if (protocol == "tcp")
      match.protocol = TransportProtocol::kTcp;
    else if (protocol == "udp")
      match.protocol = TransportProtocol::kUdp;
    else
      return Status::InvalidInput("protocol \"" + protocol + "\": one of all, tcp, udp");
    if (auto port = read.Optional<int>(kPortParam)) {
      if (*port < 1 || *port > 65535) {
        return Status::InvalidInput("port " + std::to_string(*port) +
                                    ": an integer from 1 to 65535");
      }
      match.port = *port;
    }
    if (auto address = read.Optional<std::string>(kAddressParam)) {
      auto prefix = ParseIpPrefix(*address);
      if (!prefix.ok()) return prefix.status();
      match.address = *prefix;
    }
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidInput(std::string("params of the wrong type: ") + e.what());
  }
  return match;
}

std::string ProtectedEndpoint::ToString() const {
  const std::string host =
      address.family == 6 ? "[" + address.ToString() + "]" : address.ToString();
  const char* proto = protocol == TransportProtocol::kUdp ? "udp" : "tcp";
  return host + ":" + std::to_string(port) + "/" + proto;
}

std::vector<ProtectedEndpoint> RunnerControlEndpoints() {
  // On a fleet host, `ringfence host` puts the SSH connection that reaches it here
  // ("address port address port ...": the runner's end and this host's end, both with the SSH
  // server's port; see runner/host/host_command.cc).
  std::vector<ProtectedEndpoint> out;
  const char* text = std::getenv("RINGFENCE_CONTROL_ENDPOINTS");
  if (text == nullptr) return out;
  std::istringstream in(text);
  std::string address;
  int port = 0;
  while (in >> address >> port) {
    auto prefix = ParseIpPrefix(address);
    if (!prefix.ok() || port < 1 || port > 65535) continue;
    ProtectedEndpoint e;
    e.address = *prefix;
    e.port = port;
    out.push_back(e);
  }
  return out;
}

Status CheckProtectedEndpoints(const TrafficMatch& match,
                               const std::vector<ProtectedEndpoint>& endpoints) {
  for (const auto& endpoint : endpoints) {
    const bool protocol_hit =
        match.protocol == TransportProtocol::kAll || match.protocol == endpoint.protocol;
    const bool address_hit = !match.address || match.address->Contains(endpoint.address);
    const bool port_hit = !match.port || *match.port == endpoint.port;
    if (protocol_hit && address_hit && port_hit) {
      return Status::InvalidInput("refused: the rule (" + match.Describe() +
                                  ") would cut the runner's control connection to " +
                                  endpoint.ToString() + "; narrow address, port or protocol");
    }
  }
  return Status::Ok();
}

}  // namespace ringfence
