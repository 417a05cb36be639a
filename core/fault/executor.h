#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/status.h"
#include "core/fault/fault.h"

namespace ringfence {

// Runs host-side fault actions on one host ("run this action on host H"). The lifecycle engine
// talks to faults only through an Executor, so that a remote host (reached over SSH, running
// `ringfence host <action>` with the same inputs as JSON) can stand where the local one does.
// Called from the engine's thread.
class Executor {
 public:
  virtual ~Executor() = default;
  virtual const std::string& host() const = 0;
  virtual Status Prepare(Fault& fault, const std::vector<Target>& targets) = 0;
  virtual Result<UndoRecord> PlanUndo(Fault& fault, const Target& target) = 0;
  virtual Status Inject(Fault& fault, const Target& target, const UndoRecord& undo) = 0;
  virtual nlohmann::json Observe(Fault& fault) = 0;
  // Undoes from the record alone, through the factory registered under undo.fault_type.
  virtual Status Revert(const UndoRecord& undo) = 0;
  // Checks, on the host of `undo`, that its state is back (FaultFactory::Verify there).
  virtual Verification Verify(const UndoRecord& undo) = 0;
};

// Forwards every call to another Executor, so that a router or a test double overrides only the
// calls it changes. `target` must outlive the wrapper.
class ExecutorWrapper : public Executor {
 public:
  explicit ExecutorWrapper(Executor& target) : target_(target) {}
  Executor& target() const { return target_; }
  const std::string& host() const override { return target_.host(); }
  Status Prepare(Fault& fault, const std::vector<Target>& targets) override {
    return target_.Prepare(fault, targets);
  }
  Result<UndoRecord> PlanUndo(Fault& fault, const Target& target) override {
    return target_.PlanUndo(fault, target);
  }
  Status Inject(Fault& fault, const Target& target, const UndoRecord& undo) override {
    return target_.Inject(fault, target, undo);
  }
  nlohmann::json Observe(Fault& fault) override { return target_.Observe(fault); }
  Status Revert(const UndoRecord& undo) override { return target_.Revert(undo); }
  Verification Verify(const UndoRecord& undo) override { return target_.Verify(undo); }

 private:
  Executor& target_;
};

// The outcome of undoing one record: `status` is Ok only when the revert succeeded *and* its
// verification saw the state back; `verification` is what the last check found (not verified,
// "not checked", when no revert succeeded).
struct RevertOutcome {
  Status status;
  Verification verification;
  bool ok() const { return status.ok(); }
};

// Executor::Revert then Executor::Verify, tried up to `attempts` times with a growing pause
// (100 ms, 200 ms, ...) that no stop request cuts short: a verification that finds the state
// not back counts as a failed attempt. Returns the last failure when every attempt failed.
RevertOutcome RevertAndVerify(Executor& executor, const UndoRecord& undo, int attempts,
                              Clock& clock);

// This host. `env` and `registry` must outlive the executor. `host` is the name this host has
// in undo records: "local" for the runner's own host, the inventory name when `ringfence host`
// acts on a fleet host. Revert refuses an undo record of another host (kUnavailable): a fault
// on a remote host is undone there, never by signalling whatever has its pid here.
class LocalExecutor : public Executor {
 public:
  LocalExecutor(FaultEnv& env, const FaultRegistry& registry, std::string host = "local")
      : host_(std::move(host)), env_(env), registry_(registry) {}
  const std::string& host() const override { return host_; }
  Status Prepare(Fault& fault, const std::vector<Target>& targets) override;
  Result<UndoRecord> PlanUndo(Fault& fault, const Target& target) override;
  Status Inject(Fault& fault, const Target& target, const UndoRecord& undo) override;
  nlohmann::json Observe(Fault& fault) override;
  Status Revert(const UndoRecord& undo) override;
  Verification Verify(const UndoRecord& undo) override;

 private:
  const std::string host_;
  FaultEnv& env_;
  // Reverts wait on their own stop source, which nothing requests: a stop (Ctrl-C) ends
  // injections early but must never cut a revert short.
  StopSource revert_stop_;
  const FaultRegistry& registry_;
};

}  // namespace ringfence
