#include "core/fault/executor.h"

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
  FaultEnv revert_env{env_.system, revert_stop_, env_.run_id};
  return Fenced("revert", [&] { return factory->Revert(revert_env, undo); });
}

Verification LocalExecutor::Verify(const UndoRecord& undo) {
  if (undo.host != host_) {
    return Verification::Unknown(undo.target + " is on host " + undo.host + ", not on " + host_);
  }
  const FaultFactory* factory = registry_.Find(undo.fault_type);
  if (factory == nullptr) return Verification::Unknown("no fault type '" + undo.fault_type + "'");
  FaultEnv verify_env{env_.system, revert_stop_, env_.run_id};
  try {
    return factory->Verify(verify_env, undo);
  } catch (const std::exception& e) {
    return Verification::Unknown(std::string("verify threw: ") + e.what());
  }
}

}  // namespace ringfence

namespace ringfence {

RevertOutcome RevertAndVerify(Executor& executor, const UndoRecord& undo, int attempts,
                              Clock& clock) {
  StopSource never;
  RevertOutcome last{Status::Ok(), Verification::Unknown("not checked: the revert failed")};
  for (int attempt = 1; attempt <= std::max(1, attempts); ++attempt) {
    last.status = executor.Revert(undo);
    if (last.status.ok()) {
      last.verification = executor.Verify(undo);
      if (last.verification.verified) return last;
      last.status =
          Status::Runtime("reverted, but the state is not back: " + last.verification.found);
    } else {
      last.verification = Verification::Unknown("not checked: the revert failed");
    }
    if (attempt < attempts) {
      clock.SleepUntil(clock.Monotonic() + std::chrono::milliseconds(100 * attempt), never);
    }
  }
  return last;
}

}  // namespace ringfence
