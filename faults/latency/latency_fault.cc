// The `latency` fault: a delaying TCP proxy (explicit or transparent through an nftables
// redirect) or, where the kernel has it, a netem qdisc.
//
// Where the proxy lives: inside the runner, on an I/O thread of its own. It cannot outlive the
// runner (no process to leak), and a crashed runner's redirect stops within the lease
// (latency_redirect.h) even before the watchdog deletes the table named in the undo record.

#include <unistd.h>

#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "core/fault/fault.h"
#include "faults/common/netns_command.h"
#include "faults/common/nft_table.h"
#include "faults/common/process_ref.h"
#include "faults/latency/latency_config.h"
#include "faults/latency/latency_netem.h"
#include "faults/latency/latency_proxy.h"
#include "faults/latency/latency_redirect.h"

namespace ringfence {

namespace {

constexpr char kFaultType[] = "latency";

// The in-process half of this process's proxy injections, by instance name. Revert receives
// only the undo record; this is how it finds the proxy and lease to stop when it runs in the
// process that injected. Thread-safe.
class LocalProxies {
 public:
  struct Entry {
    std::shared_ptr<LatencyProxy> proxy;
    std::shared_ptr<RedirectLease> lease;
  };

  static LocalProxies& Get() {
    static LocalProxies proxies;
    return proxies;
  }

  void Put(const std::string& instance, Entry entry) {
    std::lock_guard<std::mutex> lock(mu_);
    entries_[instance] = std::move(entry);
  }

  // Also remembers where its proxy listened, for Verify (the port must be closed after).
  std::optional<Entry> Take(const std::string& instance) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(instance);
    if (it == entries_.end()) return std::nullopt;
    Entry e = std::move(it->second);
    entries_.erase(it);
    if (e.proxy) released_[instance] = e.proxy->listening();
    return e;
  }

  // Where the proxy of `instance` listens (still running here) or listened (Take released it).
  std::optional<SocketAddress> Listening(const std::string& instance) {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto live = entries_.find(instance); live != entries_.end() && live->second.proxy) {
      return live->second.proxy->listening();
    }
    auto it = released_.find(instance);
    if (it == released_.end()) return std::nullopt;
    return it->second;
  }

 private:
  std::mutex mu_;
  std::map<std::string, Entry> entries_;
  std::map<std::string, SocketAddress> released_;
};

std::atomic<int> g_instances{0};

// Field 22 of /proc/<pid>/stat, or 0 when the process is gone.
unsigned long long StartTicks(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
    if (i == 22) return std::stoull(field);
  }
  return 0;
}

DirectionShaping Shaping(const LatencyConfig& c, bool shaped) {
  DirectionShaping s;
  if (!shaped) return s;
  s.delay = c.delay;
  s.jitter = c.jitter;
  s.rate_bytes_per_s = c.rate_kbit * 1000 / 8;
  return s;
}

class LatencyFault : public Fault {
 public:
  explicit LatencyFault(FaultStep step)
      : step_(std::move(step)), config_(ParseLatencyConfig(step_.params)) {}

  Status Prepare(FaultEnv& env, const std::vector<Target>& targets) override {
    (void)targets;
    if (!config_.ok()) return config_.status();
    const LatencyConfig& c = *config_;
    if (!c.netns.empty() && !NetnsExists(c.netns)) {
      return Status::NotFound("latency: network namespace '" + c.netns + "' not found (no " +
                              NetnsPath(c.netns) + ")");
    }
    bool netem_available = false;
    const bool may_use_netem =
        c.backend == LatencyBackend::kNetem ||
        (c.backend == LatencyBackend::kAuto && !c.interface.empty() && !c.needs_proxy());
    if (may_use_netem) {
      auto probe = KernelHasNetem(env.system);
      if (!probe.ok()) return probe.status();
      netem_available = *probe;
    }
    auto backend = ResolveLatencyBackend(c, netem_available);
    if (!backend.ok()) return backend.status();
    backend_ = *backend;
    seed_ = c.seed.value_or(LatencySeedFor(env.run_id, step_.name));
    prepared_ = true;
    if (backend_ == LatencyBackend::kNetem)
      return CheckNetemInterface(env.system, c.netns, c.interface);
    if (c.transparent()) {
      auto nft = FindSystemTool("nft", "nftables");
      if (!nft.ok()) return nft.status();
      RedirectSpec probe{"ringfence_check_" + std::to_string(::getpid()), c.netns, *c.port,
                         c.address, 1};
      Status s = CheckRedirect(env.system, probe);
      if (!s.ok()) {
        return Status::Unavailable("latency: nftables cannot redirect here: " + s.message());
      }
      return Status::Ok();
    }
    return CheckListenAddress(c.netns, *c.listen);
  }

  Result<UndoRecord> PlanUndo(FaultEnv& env, const Target& target) override {
    if (!prepared_) return Status::Runtime("latency: PlanUndo before a successful Prepare");
    const LatencyConfig& c = *config_;
    instance_ = LatencyInstanceName(env.run_id, g_instances.fetch_add(1) + 1);
    UndoRecord undo;
    undo.fault_type = kFaultType;
    undo.fault_name = step_.name;
    undo.host = target.host;
    undo.target = target.label;
    nlohmann::json data = {
        {"backend", LatencyBackendName(backend_)}, {"instance", instance_}, {"netns", c.netns}};
    if (backend_ == LatencyBackend::kNetem) {
      data["interface"] = c.interface;
      data["qdisc_handle"] = kNetemHandle;
      undo.manual_undo = NetemManualUndo(c.netns, c.interface);
    } else {
      const pid_t self = ::getpid();
      data["mode"] = c.transparent() ? "transparent" : "explicit";
      data["in_flight"] = InFlightPolicyName(c.in_flight);
      data["finish_timeout_ms"] = c.finish_timeout.count();
      data["owner"] = ProcessRef{self, StartTicks(self), "ringfence"}.ToJson();
      if (c.transparent()) {
        data["nft_table"] = instance_;
        data["nft_family"] = "inet";
        undo.manual_undo = NftTable{instance_, c.netns}.ManualUndo();
      } else {
        data["listen"] = c.listen->ToString();
        undo.manual_undo =
            "kill " + std::to_string(self) + "  # the proxy lives in the runner and closes with it";
      }
    }
    undo.data = std::move(data);
    return undo;
  }

  Status Inject(FaultEnv& env, const Target& target, const UndoRecord& undo) override {
    (void)target, (void)undo;
    if (!prepared_ || instance_.empty()) {
      return Status::Runtime("latency: Inject before Prepare and PlanUndo");
    }
    const LatencyConfig& c = *config_;
    if (backend_ == LatencyBackend::kNetem) {
      return ApplyNetem(env.system, c.netns, c.interface, c.delay, c.jitter, c.rate_kbit);
    }
    LatencyProxyOptions options;
    options.netns = c.netns;
    options.listen = c.transparent() ? SocketAddress{"0.0.0.0", 0, false} : *c.listen;
    options.upstream = c.upstream;
    options.upstream_mark = c.transparent() ? kLatencyUpstreamMark : 0;
    options.to_client = Shaping(c, c.direction != LatencyDirection::kUpstream);
    options.to_upstream = Shaping(c, c.direction != LatencyDirection::kDownstream);
    options.reset_percent = c.reset_percent;
    options.blackhole = c.blackhole;
    options.seed = seed_;
    options.max_connections = c.max_connections;
    auto started = LatencyProxy::Start(options);
    if (!started.ok()) return started.status();
    proxy_ = std::move(*started);
    LocalProxies::Get().Put(instance_, {proxy_, nullptr});
    if (!c.transparent()) return Status::Ok();

    RedirectSpec spec{instance_, c.netns, *c.port, c.address, proxy_->listening().port};
    Status applied = ApplyRedirect(env.system, spec);
    if (!applied.ok()) return applied;  // the engine reverts: proxy stopped, table deleted
    lease_ = std::make_shared<RedirectLease>(env.system, spec);
    LocalProxies::Get().Put(instance_, {proxy_, lease_});
    return Status::Ok();
  }

  nlohmann::json Observe(FaultEnv& env) override {
    (void)env;
    nlohmann::json out = {{"backend", LatencyBackendName(backend_)}};
    if (!config_.ok()) return out;
    const LatencyConfig& c = *config_;
    out["delay_ms"] = c.delay.count();
    out["jitter_ms"] = c.jitter.count();
    out["rate_kbit"] = c.rate_kbit;
    if (!c.netns.empty()) out["netns"] = c.netns;
    if (backend_ == LatencyBackend::kNetem) {
      out["interface"] = c.interface;
      return out;
    }
    out["mode"] = c.transparent() ? "transparent" : "explicit";
    out["seed"] = seed_;
    out["direction"] = LatencyDirectionName(c.direction);
    out["reset_percent"] = c.reset_percent;
    out["blackhole"] = c.blackhole;
    if (c.transparent()) {
      out["port"] = *c.port;
      if (!c.address.empty()) out["address"] = c.address;
      out["nft_table"] = instance_;
    } else {
      out["upstream"] = c.upstream->ToString();
    }
    if (proxy_) {
      out["listen"] = proxy_->listening().ToString();
      out.update(proxy_->Stats().ToJson());
    }
    if (lease_) {
      out["lease"] = {{"renewals", lease_->renewals()}, {"failures", lease_->failures()}};
      if (lease_->failures() > 0) out["lease"]["last_error"] = lease_->last_error();
    }
    return out;
  }

 private:
  FaultStep step_;
  Result<LatencyConfig> config_;
  bool prepared_ = false;
  LatencyBackend backend_ = LatencyBackend::kProxy;
  uint64_t seed_ = 0;
  std::string instance_;
  std::shared_ptr<LatencyProxy> proxy_;
  std::shared_ptr<RedirectLease> lease_;
};

class LatencyFactory : public FaultFactory {
 public:
  const FaultDecl& Declaration() const override { return LatencyDeclaration(); }

  void ValidateConfig(const nlohmann::json& params, const std::string& pointer,
                      ValidationErrors& errors) const override {
    ValidateLatencyConfig(params, pointer, errors);
  }

  std::unique_ptr<Fault> Create(const FaultStep& step, const TargetSpec& target) const override {
    (void)target;
    return std::make_unique<LatencyFault>(step);
  }

  // Order: stop renewing the lease; stop redirecting new connections; stop the proxy (open
  // connections finish or are reset, per the record); delete the table. Deleting the table
  // before the proxy has drained would drop the NAT of the connections still finishing.
  Status Revert(FaultEnv& env, const UndoRecord& undo) const override {
    const nlohmann::json& d = undo.data;
    const std::string backend = d.value("backend", "");
    const std::string netns = d.value("netns", "");
    if (backend == "netem") return RemoveNetem(env.system, netns, d.value("interface", ""));
    if (backend != "proxy") {
      return Status::InvalidInput("latency: undo record without a known backend: " + d.dump());
    }
    const std::string instance = d.value("instance", "");
    const std::string table = d.value("nft_table", "");
    // A corrupt or foreign ledger entry must not delete someone else's table.
    if (!table.empty() && table.rfind("ringfence_", 0) != 0) {
      return Status::InvalidInput("latency: refusing to delete nft table '" + table +
                                  "': not a ringfence table");
    }
    if (netns.find('/') != std::string::npos) {
      return Status::InvalidInput("latency: undo record names an invalid namespace '" + netns +
                                  "'");
    }
    const InFlightPolicy policy = d.value("in_flight", "finish") == "reset"
                                      ? InFlightPolicy::kReset
                                      : InFlightPolicy::kFinish;
    const Duration finish_timeout(d.value("finish_timeout_ms", int64_t{0}));

    Status first_error;
    auto keep = [&first_error](Status s) {
      if (!s.ok() && first_error.ok()) first_error = std::move(s);
    };
    std::optional<LocalProxies::Entry> local = LocalProxies::Get().Take(instance);
    if (local && local->lease) local->lease->Stop();
    if (!table.empty()) {
      keep(policy == InFlightPolicy::kFinish && local
               ? StopRedirecting(env.system, netns, table)
               : DeleteNftTable(env.system, NftTable{table, netns}));
    }
    if (local && local->proxy) local->proxy->Stop(policy, finish_timeout);
    if (!table.empty()) keep(DeleteNftTable(env.system, NftTable{table, netns}));
    if (!local && d.value("mode", "") == "explicit") {
      // Another process injected it: its proxy is in that process and closes with it.
      auto owner = ProcessRef::FromJson(d.value("owner", nlohmann::json::object()));
      if (owner.ok() && owner->pid != ::getpid() && owner->start_ticks != 0 &&
          StartTicks(owner->pid) == owner->start_ticks) {
        keep(Status::Unavailable("latency: the proxy " + instance + " lives in process " +
                                 std::to_string(owner->pid) +
                                 ", which is still running; it closes when that process reverts "
                                 "or exits"));
      }
    }
    return first_error;
  }

  // netem: its qdisc is gone. proxy: the redirect table is gone (transparent) and the port the
  // proxy listened on is closed (it can be bound again); the port is known from the record
  // (explicit) or, for a transparent proxy, when it was reverted in this process. A proxy that
  // lived in a process that is gone went with it.
  Verification Verify(FaultEnv& env, const UndoRecord& undo) const override {
    const nlohmann::json& d = undo.data;
    const std::string backend = d.value("backend", "");
    const std::string netns = d.value("netns", "");
    if (backend == "netem") return VerifyNetemGone(env.system, netns, d.value("interface", ""));
    if (backend != "proxy") return Verification::Unknown("undo record without a known backend");
    std::string found;
    const std::string table = d.value("nft_table", "");
    if (!table.empty()) {
      Verification gone = VerifyNftTableGone(env.system, NftTable{table, netns});
      if (!gone.verified) return gone;
      found = gone.found + "; ";
    }
    std::optional<SocketAddress> listen = LocalProxies::Get().Listening(d.value("instance", ""));
    if (!listen && d.contains("listen") && d["listen"].is_string()) {
      listen = ParseSocketAddress(d["listen"].get<std::string>());
    }
    if (!listen || listen->port == 0) {
      auto owner = ProcessRef::FromJson(d.value("owner", nlohmann::json::object()));
      if (owner.ok() && owner->pid != ::getpid() && StartTicks(owner->pid) != owner->start_ticks) {
        return Verification::Reverted(found + "the process that ran the proxy (pid " +
                                      std::to_string(owner->pid) + ") is gone, and the proxy");
      }
      if (owner.ok() && owner->pid == ::getpid()) {
        // Put follows Start at once: without an entry, no proxy of it ever ran here.
        return Verification::Reverted(found + "no proxy of " + d.value("instance", "") +
                                      " ran in this process");
      }
      return Verification::Unknown(found + "the proxy's port is not known here");
    }
    Status free = CheckListenAddress(netns, *listen);
    if (!free.ok()) {
      return Verification::NotReverted(found + "the proxy's port " + listen->ToString() +
                                       " is still taken: " + free.message());
    }
    return Verification::Reverted(found + "port " + listen->ToString() + " is closed");
  }
};

}  // namespace

RINGFENCE_REGISTER_FAULT(LatencyFactory);

}  // namespace ringfence
