#include "faults/latency/latency_config.h"

#include <arpa/inet.h>

#include <cctype>
#include <charconv>

namespace ringfence {

namespace {

constexpr double kMaxSeed = 9007199254740991.0;  // 2^53 - 1

constexpr char kListenAllowed[] =
    "an IP address and port such as \"127.0.0.1:8080\" or \"[::1]:8080\" (port 0 picks a free "
    "port)";
constexpr char kUpstreamAllowed[] =
    "an IP address and port 1-65535 such as \"127.0.0.1:8080\" or \"[::1]:8080\"";
constexpr char kProxyTargetAllowed[] =
    "a port (transparent mode) or listen and upstream (explicit mode)";

ParamDecl Param(std::string name, ParamType type, nlohmann::json default_value, std::string doc) {
  ParamDecl p;
  p.name = std::move(name);
  p.type = type;
  p.default_value = std::move(default_value);
  p.doc = std::move(doc);
  return p;
}

ParamDecl Limited(ParamDecl p, std::optional<double> min, std::optional<double> max) {
  p.min = min;
  p.max = max;
  return p;
}

ParamDecl Choices(ParamDecl p, std::vector<std::string> choices) {
  p.choices = std::move(choices);
  return p;
}

FaultDecl MakeDeclaration() {
  FaultDecl d;
  d.name = "latency";
  d.summary =
      "Adds delay and jitter, caps bandwidth, resets or blackholes TCP connections (proxy or "
      "netem)";
  d.target_kind = TargetKind::kHost;
  d.params = {
      Choices(Param("backend", ParamType::kEnum, "auto",
                    "proxy, netem, or auto: netem where the kernel has it and the step names an "
                    "interface, else proxy"),
              {"auto", "proxy", "netem"}),
      Param("listen", ParamType::kString, nullptr,
            "explicit mode: the address the proxy listens on; clients are pointed at it"),
      Param("upstream", ParamType::kString, nullptr,
            "explicit mode: the real server the proxy forwards to"),
      Limited(Param("port", ParamType::kInteger, nullptr,
                    "transparent mode: TCP traffic to this port is redirected into the proxy"),
              1, 65535),
      Param("address", ParamType::kString, nullptr,
            "transparent mode: only traffic to this IPv4 address (default: any)"),
      Param("netns", ParamType::kString, "",
            "the named network namespace (/run/netns/<name>) the proxy, redirect or qdisc live "
            "in; empty: the runner's"),
      Param("interface", ParamType::kString, nullptr,
            "netem: the interface whose outgoing traffic is delayed"),
      Limited(Param("delay", ParamType::kDuration, "0ms", "fixed delay added per shaped direction"),
              0, 60000),
      Limited(Param("jitter", ParamType::kDuration, "0ms",
                    "plus or minus this much, uniformly distributed (seeded), never below 0"),
              0, 60000),
      Choices(Param("direction", ParamType::kEnum, "downstream",
                    "what the proxy shapes: downstream (server to client), upstream, or both"),
              {"downstream", "upstream", "both"}),
      Limited(Param("rate_kbit", ParamType::kInteger, 0,
                    "bandwidth cap in kbit/s per connection and shaped direction; 0: none"),
              0, 100000000),
      Limited(Param("reset_percent", ParamType::kNumber, 0,
                    "percentage of accepted connections reset (RST) at once"),
              0, 100),
      Param("blackhole", ParamType::kBoolean, false,
            "accept connections and never answer (nothing is forwarded)"),
      Limited(Param("seed", ParamType::kInteger, nullptr,
                    "seed of the jitter and reset choices (default: derived from the run id)"),
              0, kMaxSeed),
      Choices(Param("in_flight", ParamType::kEnum, "finish",
                    "at revert, proxied connections still open finish (up to finish_timeout) or "
                    "are reset"),
              {"finish", "reset"}),
      Limited(Param("finish_timeout", ParamType::kDuration, "5s",
                    "how long revert lets open connections finish before it resets them"),
              0, 600000),
      Limited(Param("max_connections", ParamType::kInteger, 512,
                    "open proxied connections at most; more are reset at accept"),
              1, 100000),
  };
  return d;
}

constexpr char kMissing[] = "missing";

// The shared `found` shape: compact JSON cut to 40 characters, the last being "…" when cut.
// (core/base/validation.h gains FoundValue with the same rule on the model branch.)
std::string Found(const nlohmann::json& value) {
  const std::string text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  size_t chars = 0;
  size_t cut_at = 0;  // where the 40th character begins
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;
    if (chars == 39) cut_at = i;
    if (++chars > 40) return text.substr(0, cut_at) + "\u2026";
  }
  return text;
}

bool Has(const nlohmann::json& params, const char* key) {
  return params.contains(key) && !params.at(key).is_null();
}

bool IsIpv4(const std::string& text) {
  in_addr a{};
  return inet_pton(AF_INET, text.c_str(), &a) == 1;
}

bool IsIpv6(const std::string& text) {
  in6_addr a{};
  return inet_pton(AF_INET6, text.c_str(), &a) == 1;
}

}  // namespace

std::string SocketAddress::ToString() const {
  return (ipv6 ? "[" + ip + "]" : ip) + ":" + std::to_string(port);
}

std::optional<SocketAddress> ParseSocketAddress(std::string_view text) {
  SocketAddress out;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::nullopt;
    }
    out.ip = std::string(text.substr(1, close - 1));
    out.ipv6 = true;
    if (!IsIpv6(out.ip)) return std::nullopt;
    port_text = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    out.ip = std::string(text.substr(0, colon));
    if (!IsIpv4(out.ip)) return std::nullopt;
    port_text = text.substr(colon + 1);
  }
  if (port_text.empty() || port_text.size() > 5) return std::nullopt;
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return std::nullopt;
  }
  out.port = static_cast<uint16_t>(port);
  return out;
}

const FaultDecl& LatencyDeclaration() {
  static const FaultDecl decl = MakeDeclaration();
  return decl;
}

void ValidateLatencyConfig(const nlohmann::json& params, const std::string& pointer,
                           ValidationErrors& errors) {
  const auto at = [&](const char* key) { return pointer + "/" + key; };
  const ParamReader read(LatencyDeclaration(), params);
  const std::string backend = read.Get<std::string>("backend");
  const bool has_listen = Has(params, "listen");
  const bool has_upstream = Has(params, "upstream");
  const bool has_port = Has(params, "port");
  const bool has_address = Has(params, "address");
  const bool has_interface = Has(params, "interface");
  const double reset_percent = read.Get<double>("reset_percent");
  const bool blackhole = read.Get<bool>("blackhole");

  if (has_listen && !ParseSocketAddress(params["listen"].get<std::string>())) {
    errors.Add(at("listen"), Found(params["listen"]), kListenAllowed);
  }
  if (has_upstream) {
    auto upstream = ParseSocketAddress(params["upstream"].get<std::string>());
    if (!upstream || upstream->port == 0) {
      errors.Add(at("upstream"), Found(params["upstream"]), kUpstreamAllowed);
    }
  }
  if (has_address && !IsIpv4(params["address"].get<std::string>())) {
    errors.Add(at("address"), Found(params["address"]),
               "an IPv4 address such as \"10.0.0.1\" (transparent mode is IPv4 only)");
  }
  const std::string netns = read.Get<std::string>("netns");
  if (netns.find('/') != std::string::npos || netns == "." || netns == "..") {
    errors.Add(at("netns"), Found(params["netns"]),
               "the name of a network namespace in /run/netns (no \"/\"), or \"\"");
  }
  if (has_interface && params["interface"].get<std::string>().empty()) {
    errors.Add(at("interface"), Found(params["interface"]), "a network interface such as \"eth0\"");
  }

  if (backend == "netem") {
    for (const char* key : {"listen", "upstream", "port", "address"}) {
      if (Has(params, key)) {
        errors.Add(at(key), Found(params[key]), "absent with backend netem (proxy only)");
      }
    }
    if (!has_interface) {
      errors.Add(at("interface"), kMissing,
                 "a network interface such as \"eth0\" (required with backend netem)");
    }
    if (reset_percent > 0) {
      errors.Add(at("reset_percent"), Found(params["reset_percent"]),
                 "0 with backend netem (proxy only)");
    }
    if (blackhole) {
      errors.Add(at("blackhole"), "true", "false with backend netem (proxy only)");
    }
    if (read.Get<std::string>("direction") != "downstream") {
      errors.Add(at("direction"), Found(params["direction"]),
                 "\"downstream\" with backend netem (netem delays what leaves the interface)");
    }
    return;
  }

  if (backend == "proxy" && has_interface) {
    errors.Add(at("interface"), Found(params["interface"]),
               "absent with backend proxy (netem only)");
  }
  if (has_listen && has_port) {
    errors.Add(at("port"), Found(params["port"]),
               "absent when listen is set (explicit mode uses listen and upstream, transparent "
               "mode uses port)");
  }
  if (has_listen && !has_upstream) {
    errors.Add(at("upstream"), kMissing,
               "the real server's address such as \"127.0.0.1:8080\" (required with listen)");
  }
  if (has_upstream && !has_listen) {
    errors.Add(at("upstream"), Found(params["upstream"]), "absent unless listen is set");
  }
  if (has_address && !has_port) {
    errors.Add(at("address"), Found(params["address"]), "absent unless port is set");
  }
  if (!has_listen && !has_port && !has_upstream) {
    errors.Add(at("port"), kMissing, kProxyTargetAllowed);
  }
  if (blackhole && reset_percent > 0) {
    errors.Add(at("reset_percent"), Found(params["reset_percent"]),
               "0 when blackhole is true (a blackholed connection is never reset)");
  }
}

Result<LatencyConfig> ParseLatencyConfig(const nlohmann::json& params) {
  try {
    const ParamReader read(LatencyDeclaration(), params);
    LatencyConfig c;
    const std::string backend = read.Get<std::string>("backend");
    c.backend = backend == "proxy"   ? LatencyBackend::kProxy
                : backend == "netem" ? LatencyBackend::kNetem
                                     : LatencyBackend::kAuto;
    if (auto listen = read.Optional<std::string>("listen")) {
      c.listen = ParseSocketAddress(*listen);
      if (!c.listen) return Status::InvalidInput("latency: listen is not an address");
    }
    if (auto upstream = read.Optional<std::string>("upstream")) {
      c.upstream = ParseSocketAddress(*upstream);
      if (!c.upstream) return Status::InvalidInput("latency: upstream is not an address");
    }
    c.port = read.Optional<uint16_t>("port");
    c.address = read.Optional<std::string>("address").value_or("");  // none: any address
    c.netns = read.Get<std::string>("netns");
    c.interface = read.Optional<std::string>("interface").value_or("");  // none: proxy only
    for (auto [key, out] : {std::pair{"delay", &c.delay}, std::pair{"jitter", &c.jitter},
                            std::pair{"finish_timeout", &c.finish_timeout}}) {
      auto d = ParseDuration(read.Get<std::string>(key));
      if (!d.ok())
        return Status::InvalidInput("latency: " + std::string(key) + ": " + d.status().message());
      *out = *d;
    }
    const std::string direction = read.Get<std::string>("direction");
    c.direction = direction == "upstream" ? LatencyDirection::kUpstream
                  : direction == "both"   ? LatencyDirection::kBoth
                                          : LatencyDirection::kDownstream;
    c.rate_kbit = read.Get<uint64_t>("rate_kbit");
    c.reset_percent = read.Get<double>("reset_percent");
    c.blackhole = read.Get<bool>("blackhole");
    c.seed = read.Optional<uint64_t>("seed");
    c.in_flight = read.Get<std::string>("in_flight") == "reset" ? InFlightPolicy::kReset
                                                                : InFlightPolicy::kFinish;
    c.max_connections = read.Get<int>("max_connections");
    if (c.backend != LatencyBackend::kNetem && !c.has_proxy_target()) {
      return Status::InvalidInput(std::string("latency: ") + kProxyTargetAllowed + " is required");
    }
    return c;
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidInput(std::string("latency: params did not validate: ") + e.what());
  }
}

std::string LatencyNetemMissingMessage() {
  return "backend netem: this kernel has no netem qdisc (CONFIG_NET_SCH_NETEM): "
         "`tc qdisc add dev lo root netem delay 1ms` fails in a scratch network namespace; "
         "use \"backend\": \"proxy\"";
}

Result<LatencyBackend> ResolveLatencyBackend(const LatencyConfig& config, bool netem_available) {
  switch (config.backend) {
    case LatencyBackend::kProxy:
      return LatencyBackend::kProxy;
    case LatencyBackend::kNetem:
      if (!netem_available) return Status::Unavailable(LatencyNetemMissingMessage());
      return LatencyBackend::kNetem;
    case LatencyBackend::kAuto:
      break;
  }
  if (netem_available && !config.interface.empty() && !config.needs_proxy()) {
    return LatencyBackend::kNetem;
  }
  return LatencyBackend::kProxy;
}

uint64_t LatencySeedFor(std::string_view run_id, std::string_view step_name) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  auto mix = [&h](std::string_view s) {
    for (unsigned char ch : s) {
      h ^= ch;
      h *= 1099511628211ull;
    }
  };
  mix(run_id);
  mix("/");
  mix(step_name);
  return h & ((uint64_t{1} << 53) - 1);
}

std::string LatencyInstanceName(std::string_view run_id, int n) {
  std::string id;
  for (char ch : run_id) {
    if (id.size() == 40) break;
    const char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    id += (std::isalnum(static_cast<unsigned char>(lower)) || lower == '_') ? lower : '_';
  }
  return "ringfence_" + id + "_" + std::to_string(n);
}

const char* LatencyBackendName(LatencyBackend backend) {
  switch (backend) {
    case LatencyBackend::kAuto:
      return "auto";
    case LatencyBackend::kProxy:
      return "proxy";
    case LatencyBackend::kNetem:
      return "netem";
  }
  return "?";
}

const char* LatencyDirectionName(LatencyDirection direction) {
  switch (direction) {
    case LatencyDirection::kDownstream:
      return "downstream";
    case LatencyDirection::kUpstream:
      return "upstream";
    case LatencyDirection::kBoth:
      return "both";
  }
  return "?";
}

const char* InFlightPolicyName(InFlightPolicy policy) {
  return policy == InFlightPolicy::kReset ? "reset" : "finish";
}

}  // namespace ringfence
