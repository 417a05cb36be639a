#pragma once

#include <cstddef>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/status.h"
#include "core/fault/executor.h"
#include "core/fault/fault.h"
#include "core/model/experiment.h"

namespace ringfence {

// The hosts a run reaches besides this one, as the lifecycle engine sees them: an executor per
// host, the resolution of targets that live on inventory hosts, and the health of the hosts
// while the run goes on. The engine works without one (everything local). The SSH
// implementation is SshFleet (core/fleet/ssh_executor.h).
class HostDirectory {
 public:
  virtual ~HostDirectory() = default;

  // The executor that reaches `host`; nullptr when the directory does not know it. Executors
  // are called from one thread at a time per host, possibly from several threads for
  // different hosts.
  virtual Executor* ExecutorFor(const std::string& host) = 0;

  // The targets of a spec with `hosts`: hosts by tags or names and the selection mode (with
  // `rng`, in inventory order), then, for a spec with a process selector, the processes it
  // matches ON each host with the spec's process selection applied per host (with `rng`, in
  // host order). Errors: kInvalidInput for the input (exit 2), kUnavailable for a host that
  // cannot be reached (when unreachable hosts abort the run).
  virtual Result<std::vector<Target>> ResolveTargets(const TargetSpec& spec,
                                                     std::mt19937_64& rng) = 0;

  // Remote executors send the step a fault was built from, not the object: the engine tells
  // the directory which step (and target spec) each fault it created came from.
  virtual void RegisterFault(const Fault* fault, const FaultStep& step, const TargetSpec& spec) = 0;

  // Host-side actions in flight at once (≥ 1).
  virtual int max_concurrency() const = 0;
  // True when unreachable hosts are skipped (counted as unknown) instead of aborting the run.
  virtual bool skip_unreachable() const = 0;

  // Calls `on_lost(host, why)` (from a thread of the directory) when a host that has faults
  // armed stops answering, at most once per host; only when unreachable hosts abort the run.
  virtual void OnHostLost(
      std::function<void(const std::string& host, const Status& why)> on_lost) = 0;

  // Per host: address, whether it was reached, selected, lost; for the journal's "fleet".
  virtual nlohmann::json ToJson() const = 0;
};

}  // namespace ringfence
