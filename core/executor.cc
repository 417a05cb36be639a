#include "core/executor.h"

#include <algorithm>
#include <exception>

namespace ringfence {

// Faults report failures as Status values; an exception escaping one is still a failure of that
// action (never of the whole run's ability to revert), so each call is fenced here.
namespace {
template <typename F>
auto Fenced(const char* what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::exception& e) {
    return Status::Runtime(std::string(what) + " threw: " + e.what());
  }
}
}  // namespace

Status LocalExecutor::Prepare(Fault& fault, const std::vector<Target>& targets) {
  return Fenced("prepare", [&] { return fault.Prepare(env_, targets); });
}

Result<UndoRecord> LocalExecutor::PlanUndo(Fault& fault, const Target& target) {
  return Fenced("plan", [&]() -> Result<UndoRecord> { return fault.PlanUndo(env_, target); });
}

Status LocalExecutor::Inject(Fault& fault, const Target& target, const UndoRecord& undo) {
  return Fenced("inject", [&] { return fault.Inject(env_, target, undo); });
}

nlohmann::json LocalExecutor::Observe(Fault& fault) {
  try {
    return fault.Observe(env_);
  } catch (const std::exception& e) {
    return {{"error", std::string("observe threw: ") + e.what()}};
  }
}

Status LocalExecutor::Revert(const UndoRecord& undo) {
  if (undo.host != host_) {
    return Status::Unavailable(undo.target + " is on host " + undo.host + ", not on " + host_ +
                               ": the host-side watchdog there reverts it; `ringfence recover "
                               "--inventory F` reverts it from here");
  }
  const FaultFactory* factory = registry_.Find(undo.fault_type);
  if (factory == nullptr) {
    return Status::Runtime("no fault type '" + undo.fault_type + "' to revert with");
  }
  FaultEnv revert_env{env_.processes, env_.clock, revert_stop_, env_.run_id};
  return Fenced("revert", [&] { return factory->Revert(revert_env, undo); });
}

}  // namespace ringfence

namespace ringfence {

Status RevertWithRetries(Executor& executor, const UndoRecord& undo, int attempts, Clock& clock) {
  StopSource never;
  Status last;
  for (int attempt = 1; attempt <= std::max(1, attempts); ++attempt) {
    last = executor.Revert(undo);
    if (last.ok()) return last;
    if (attempt < attempts) {
      clock.SleepUntil(clock.Monotonic() + std::chrono::milliseconds(100 * attempt), never);
    }
  }
  return last;
}

}  // namespace ringfence
