#include "core/observe/dependency_discovery.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <sstream>
#include <unordered_set>

namespace ringfence {

namespace {

bool ParseHexWord(std::string_view hex, uint32_t& out) {
  if (hex.empty() || hex.size() > 8) return false;
  uint32_t value = 0;
  for (char c : hex) {
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else {
      return false;
    }
    value = value << 4 | static_cast<uint32_t>(digit);
  }
  out = value;
  return true;
}

// "0100007F:1F90": the address as the kernel's words in host byte order (%08X each), then the
// port in hex.
bool ParseEndpoint(std::string_view text, bool ipv6, TcpEndpoint& out) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) return false;
  const std::string_view address = text.substr(0, colon);
  uint32_t port = 0;
  if (!ParseHexWord(text.substr(colon + 1), port) || port > 0xFFFF) return false;
  char buf[INET6_ADDRSTRLEN];
  if (!ipv6) {
    if (address.size() != 8) return false;
    in_addr a{};
    if (!ParseHexWord(address, a.s_addr)) return false;
    inet_ntop(AF_INET, &a, buf, sizeof buf);
    out.ipv6 = false;
  } else {
    if (address.size() != 32) return false;
    in6_addr a{};
    for (int word = 0; word < 4; ++word) {
      uint32_t value = 0;
      if (!ParseHexWord(address.substr(static_cast<size_t>(word) * 8, 8), value)) return false;
      std::memcpy(&a.s6_addr[word * 4], &value, 4);
    }
    if (IN6_IS_ADDR_V4MAPPED(&a)) {
      in_addr v4{};
      std::memcpy(&v4.s_addr, &a.s6_addr[12], 4);
      inet_ntop(AF_INET, &v4, buf, sizeof buf);
      out.ipv6 = false;
    } else {
      inet_ntop(AF_INET6, &a, buf, sizeof buf);
      out.ipv6 = true;
    }
  }
  out.address = buf;
  out.port = static_cast<uint16_t>(port);
  return true;
}

// A LISTEN socket on `listener` accepts connections to `to`.
bool Accepts(const TcpEndpoint& listener, const TcpEndpoint& to) {
  if (listener.port != to.port) return false;
  if (listener.address == to.address) return true;
  // "::" accepts IPv4 too (unless IPV6_V6ONLY, which the tables do not show).
  return listener.wildcard() && (listener.ipv6 || !to.ipv6);
}

bool Outbound(const TcpSocketLine& socket, const std::vector<TcpEndpoint>& listeners) {
  if (socket.state != kTcpEstablished && socket.state != kTcpSynSent) return false;
  return std::none_of(listeners.begin(), listeners.end(),
                      [&](const TcpEndpoint& l) { return Accepts(l, socket.local); });
}

struct Tally {
  std::set<pid_t> clients;
  int samples_seen = 0;
  int max_connections = 0;
};

}  // namespace

std::string TcpEndpoint::Format() const {
  return ipv6 ? "[" + address + "]:" + std::to_string(port) : address + ":" + std::to_string(port);
}

bool TcpEndpoint::loopback() const {
  return ipv6 ? address == "::1" : address.rfind("127.", 0) == 0;
}

bool TcpEndpoint::wildcard() const { return address == "0.0.0.0" || address == "::"; }

Result<std::vector<TcpSocketLine>> ParseTcpTable(std::string_view text, bool ipv6) {
  const std::string table = ipv6 ? "/proc/net/tcp6" : "/proc/net/tcp";
  std::vector<TcpSocketLine> sockets;
  std::istringstream lines{std::string(text)};
  std::string line;
  int number = 0;
  while (std::getline(lines, line)) {
    ++number;
    if (number == 1) continue;  // the header
    std::istringstream fields(line);
    std::vector<std::string> tokens;
    std::string token;
    while (fields >> token && tokens.size() < 10) tokens.push_back(token);
    if (tokens.empty()) continue;
    auto bad = [&](const std::string& what) {
      return Status::InvalidInput(table + " line " + std::to_string(number) + ": " + what);
    };
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode
    if (tokens.size() < 10) return bad("expected at least 10 fields");
    TcpSocketLine socket;
    if (!ParseEndpoint(tokens[1], ipv6, socket.local)) return bad("bad local address");
    if (!ParseEndpoint(tokens[2], ipv6, socket.remote)) return bad("bad remote address");
    uint32_t state = 0;
    if (!ParseHexWord(tokens[3], state)) return bad("bad state");
    socket.state = static_cast<int>(state);
    char* end = nullptr;
    errno = 0;
    socket.inode = std::strtoull(tokens[9].c_str(), &end, 10);
    if (errno != 0 || end == tokens[9].c_str() || *end != '\0') return bad("bad inode");
    sockets.push_back(std::move(socket));
  }
  return sockets;
}

Result<DiscoveryResult> DiscoverDependencies(const std::vector<pid_t>& pids,
                                             const DiscoveryOptions& options, SocketTable& sockets,
                                             ProcessTable& processes, Clock& clock,
                                             StopSource& stop) {
  if (pids.empty()) return Status::InvalidInput("discovery needs at least one process");
  if (options.window.count() <= 0 || options.interval.count() <= 0) {
    return Status::InvalidInput("discovery needs a positive window and interval");
  }
  DiscoveryResult result;
  std::map<TcpEndpoint, Tally> tallies;
  std::vector<TcpEndpoint> last_listeners;  // every LISTEN socket of the last sample
  std::map<TcpEndpoint, uint64_t> listener_inodes;
  std::set<std::string> notes;
  bool read_any = false;

  auto sample = [&] {
    std::map<TcpEndpoint, int> open;  // connections per endpoint in this sample
    std::map<TcpEndpoint, std::set<pid_t>> clients;
    std::set<uint64_t> counted;  // a socket shared by a parent and child is one connection
    last_listeners.clear();
    for (pid_t pid : pids) {
      auto inodes = sockets.SocketInodes(pid);
      if (!inodes.ok()) {
        notes.insert("process " + std::to_string(pid) + ": " + inodes.status().message());
        continue;
      }
      const std::unordered_set<uint64_t> held(inodes->begin(), inodes->end());
      std::vector<TcpSocketLine> table;
      bool table_ok = true;
      for (bool ipv6 : {false, true}) {
        auto text = sockets.TcpTableText(pid, ipv6);
        auto parsed = text.ok() ? ParseTcpTable(*text, ipv6)
                                : Result<std::vector<TcpSocketLine>>(text.status());
        if (!parsed.ok()) {
          notes.insert("process " + std::to_string(pid) + ": " + parsed.status().message());
          table_ok = false;
          break;
        }
        table.insert(table.end(), parsed->begin(), parsed->end());
      }
      if (!table_ok) continue;
      read_any = true;
      std::vector<TcpEndpoint> listeners;
      for (const auto& s : table) {
        if (s.state != kTcpListen) continue;
        listeners.push_back(s.local);
        listener_inodes[s.local] = s.inode;
      }
      for (const auto& s : table) {
        if (!held.count(s.inode) || !Outbound(s, listeners)) continue;
        clients[s.remote].insert(pid);
        if (counted.insert(s.inode).second) ++open[s.remote];
      }
      last_listeners.insert(last_listeners.end(), listeners.begin(), listeners.end());
    }
    for (const auto& [endpoint, count] : open) {
      Tally& tally = tallies[endpoint];
      ++tally.samples_seen;
      tally.max_connections = std::max(tally.max_connections, count);
      tally.clients.insert(clients[endpoint].begin(), clients[endpoint].end());
    }
    ++result.samples;
  };

  const auto start = clock.Monotonic();
  const auto end = start + options.window;
  for (auto next = start;; next += options.interval) {
    if (next > end) next = end;
    if (!clock.SleepUntil(next, stop)) break;
    sample();
    if (next == end) break;
  }
  if (!read_any) {
    return Status::NotFound("no process of the service could be read: " +
                            (notes.empty() ? std::string("none sampled") : *notes.begin()));
  }

  // The listener of each loopback endpoint: the process holding the LISTEN socket's inode.
  std::map<uint64_t, TcpEndpoint> wanted;  // listener inode → the endpoint it serves
  for (const auto& [endpoint, tally] : tallies) {
    if (!endpoint.loopback()) continue;
    for (const auto& l : last_listeners) {
      if (Accepts(l, endpoint)) {
        wanted[listener_inodes[l]] = endpoint;
        break;
      }
    }
  }
  std::map<TcpEndpoint, ListeningProcess> listening;
  if (!wanted.empty()) {
    auto all = processes.List();
    if (all.ok()) {
      for (const auto& process : *all) {
        auto inodes = sockets.SocketInodes(process.pid);
        if (!inodes.ok()) continue;  // another user's process, or gone
        for (uint64_t inode : *inodes) {
          auto it = wanted.find(inode);
          if (it != wanted.end() && !listening.count(it->second)) {
            listening[it->second] = {process.pid, process.name};
          }
        }
      }
    } else {
      notes.insert("listening processes: " + all.status().message());
    }
  }

  for (auto& [endpoint, tally] : tallies) {
    DiscoveredDependency dependency;
    dependency.remote = endpoint;
    dependency.clients.assign(tally.clients.begin(), tally.clients.end());
    dependency.samples_seen = tally.samples_seen;
    dependency.max_connections = tally.max_connections;
    auto it = listening.find(endpoint);
    if (it != listening.end()) dependency.listener = it->second;
    result.dependencies.push_back(std::move(dependency));
  }
  result.notes.assign(notes.begin(), notes.end());
  return result;
}

}  // namespace ringfence
