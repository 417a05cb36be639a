#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "core/base/env.h"
#include "core/base/status.h"

namespace ringfence {

// The transparent mode's redirect: an nftables table of the fault's own (family inet) whose nat
// chains on the output and prerouting hooks send IPv4 TCP traffic for `port` (optionally only to
// `address`) to the proxy's port. Deleting the table undoes everything.
//
// The proxy's own upstream connections carry SO_MARK kLatencyUpstreamMark and the chains accept
// marked packets before the redirect, so they reach the real server. A mark (rather than the
// proxy's uid or cgroup) because it is exactly "this proxy's sockets": the runner and the
// service usually share uid 0, and this host has no cgroup v2 for `socket cgroupv2`.
//
// The port is an element of a set with a timeout (a lease of kRedirectLeaseSeconds) that
// RedirectLease renews; when the runner dies the element expires and the kernel stops
// redirecting within the lease, even before a watchdog deletes the table.
inline constexpr uint32_t kLatencyUpstreamMark = 0x52460001;
inline constexpr int kRedirectLeaseSeconds = 3;

struct RedirectSpec {
  std::string table;    // e.g. "ringfence_run42_1"
  std::string netns;    // "" = the runner's namespace
  uint16_t port = 0;    // the service's port
  std::string address;  // "" = any IPv4 destination
  uint16_t proxy_port = 0;
};

// The whole script that creates the table (fails if it exists) with the lease element. Applied,
// checked and deleted through the one nft driver (faults/common/nft_table.h); its manual undo is
// NftTable::ManualUndo.
std::string RedirectRuleset(const RedirectSpec& spec);

// `nft --check`: whether the kernel and nft accept the ruleset, without applying it.
Status CheckRedirect(Env& system, const RedirectSpec& spec);
Status ApplyRedirect(Env& system, const RedirectSpec& spec);
// Renews the lease: one transaction that flushes the set and adds the port again. Fails (and
// creates nothing) when the table is gone.
Status RenewRedirectLease(Env& system, const RedirectSpec& spec);
// Empties the set: new connections are no longer redirected; connections already redirected
// keep their NAT mapping (the chains stay) and can finish. Ok when the table or namespace is gone.
// DeleteNftTable then deletes the table.
Status StopRedirecting(Env& system, const std::string& netns, const std::string& table);

// Renews a redirect's lease every second on a thread of its own until Stop().
class RedirectLease {
 public:
  // `system` must outlive the lease.
  RedirectLease(Env& system, RedirectSpec spec);
  ~RedirectLease();  // Stop()
  RedirectLease(const RedirectLease&) = delete;
  RedirectLease& operator=(const RedirectLease&) = delete;

  // Waits for the thread (at most one renewal in progress, bounded by nft's 10 s timeout).
  void Stop();
  uint64_t renewals() const { return renewals_.load(); }
  uint64_t failures() const { return failures_.load(); }
  std::string last_error() const;

 private:
  void Run();

  Env& system_;
  RedirectSpec spec_;
  std::atomic<uint64_t> renewals_{0};
  std::atomic<uint64_t> failures_{0};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::string last_error_;
  std::thread thread_;
};

}  // namespace ringfence
