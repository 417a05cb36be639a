#include "faults/latency/latency_redirect.h"

#include "faults/common/nft_table.h"

namespace ringfence {

namespace {

std::string ElementScript(const RedirectSpec& spec) {
  return "add element inet " + spec.table + " ports { " + std::to_string(spec.port) + " timeout " +
         std::to_string(kRedirectLeaseSeconds) + "s }\n";
}

}  // namespace

std::string RedirectRuleset(const RedirectSpec& spec) {
  char mark[16];
  std::snprintf(mark, sizeof mark, "0x%08x", kLatencyUpstreamMark);
  const std::string match = "meta nfproto ipv4 " +
                            (spec.address.empty() ? "" : "ip daddr " + spec.address + " ") +
                            "tcp dport @ports redirect to :" + std::to_string(spec.proxy_port);
  auto chain = [&](const char* name, const char* hook) {
    return std::string("  chain ") + name + " {\n    type nat hook " + hook +
           " priority -100; policy accept;\n    meta mark " + mark + " accept\n    " + match +
           "\n  }\n";
  };
  return "create table inet " + spec.table + "\n" +  // fails when the name is taken
         "table inet " + spec.table + " {\n" +
         "  set ports {\n    type inet_service\n    flags timeout\n  }\n" +
         chain("output", "output") + chain("prerouting", "prerouting") + "}\n" +
         ElementScript(spec);
}

Status CheckRedirect(Env& system, const RedirectSpec& spec) {
  return CheckNftRuleset(system, RedirectRuleset(spec), spec.netns);
}

Status ApplyRedirect(Env& system, const RedirectSpec& spec) {
  return ApplyNftRuleset(system, RedirectRuleset(spec), spec.netns);
}

Status RenewRedirectLease(Env& system, const RedirectSpec& spec) {
  return ApplyNftRuleset(system, "flush set inet " + spec.table + " ports\n" + ElementScript(spec),
                         spec.netns);
}

Status StopRedirecting(Env& system, const std::string& netns, const std::string& table) {
  return ApplyNftRulesetIfTableExists(system, "flush set inet " + table + " ports\n",
                                      NftTable{table, netns});
}

RedirectLease::RedirectLease(Env& system, RedirectSpec spec)
    : system_(system), spec_(std::move(spec)) {
  thread_ = std::thread([this] { Run(); });
}

RedirectLease::~RedirectLease() { Stop(); }

void RedirectLease::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::string RedirectLease::last_error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_error_;
}

void RedirectLease::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; })) return;
    lock.unlock();
    Status s = RenewRedirectLease(system_, spec_);
    lock.lock();
    if (stopping_) return;  // a renewal racing with revert must not count as a failure
    if (s.ok()) {
      renewals_.fetch_add(1);
    } else {
      failures_.fetch_add(1);
      last_error_ = s.message();
    }
  }
}

}  // namespace ringfence
