#include "faults/latency/latency_redirect.h"

#include <unistd.h>

#include "faults/latency/host_command.h"

namespace ringfence {

namespace {

constexpr std::chrono::seconds kNftTimeout{5};

std::string Trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// Runs `nft [-c] -f -` with `script`. `missing_ok`: a table or namespace that does not exist is
// success (the thing to undo is already gone).
Status RunNft(const std::string& netns, const std::string& script, bool check_only,
              bool missing_ok) {
  auto nft = FindNft();
  if (!nft.ok()) return nft.status();
  std::vector<std::string> argv = {*nft};
  if (check_only) argv.push_back("-c");
  argv.insert(argv.end(), {"-f", "-"});
  auto run = RunHostCommand(argv, script, CommandNetns{netns, false}, kNftTimeout);
  if (!run.ok()) {
    if (missing_ok && run.status().code() == StatusCode::kNotFound) return Status::Ok();
    return run.status();
  }
  if (run->exit_code == 0) return Status::Ok();
  if (missing_ok && run->output.find("No such file or directory") != std::string::npos) {
    return Status::Ok();
  }
  if (run->exit_code == 127) return Status::Unavailable(*nft + " could not be executed");
  return Status::Runtime("nft failed (exit " + std::to_string(run->exit_code) + "): " +
                         Trim(run->output));
}

std::string ElementScript(const RedirectSpec& spec) {
  return "add element inet " + spec.table + " ports { " + std::to_string(spec.port) +
         " timeout " + std::to_string(kRedirectLeaseSeconds) + "s }\n";
}

}  // namespace

Result<std::string> FindNft() {
  for (const char* path : {"/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft"}) {
    if (::access(path, X_OK) == 0) return std::string(path);
  }
  return Status::Unavailable(
      "nft not found in /usr/sbin, /sbin or /usr/bin (Debian package nftables)");
}

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

std::string RedirectManualUndo(const std::string& netns, const std::string& table) {
  return (netns.empty() ? "" : "ip netns exec " + netns + " ") + "nft delete table inet " + table;
}

Status CheckRedirect(const RedirectSpec& spec) {
  return RunNft(spec.netns, RedirectRuleset(spec), /*check_only=*/true, /*missing_ok=*/false);
}

Status ApplyRedirect(const RedirectSpec& spec) {
  return RunNft(spec.netns, RedirectRuleset(spec), false, false);
}

Status RenewRedirectLease(const RedirectSpec& spec) {
  return RunNft(spec.netns, "flush set inet " + spec.table + " ports\n" + ElementScript(spec),
                false, false);
}

Status StopRedirecting(const std::string& netns, const std::string& table) {
  return RunNft(netns, "flush set inet " + table + " ports\n", false, true);
}

Status DeleteRedirectTable(const std::string& netns, const std::string& table) {
  return RunNft(netns, "delete table inet " + table + "\n", false, true);
}

RedirectLease::RedirectLease(RedirectSpec spec) : spec_(std::move(spec)) {
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
    Status s = RenewRedirectLease(spec_);
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
