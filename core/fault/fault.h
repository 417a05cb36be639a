#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/clock.h"
#include "core/base/env.h"
#include "core/base/process_table.h"
#include "core/base/status.h"
#include "core/model/experiment.h"
#include "core/model/fault_catalog.h"
#include "core/model/params.h"

namespace ringfence {

// One concrete thing a fault acts on, resolved before anything is injected.
struct Target {
  std::string host = "local";  // the executor that reaches it: "local" or an inventory host
  ProcessInfo process;         // TargetKind::kProcess
  std::string label;           // human-readable, e.g. "pid 4242 (sleep)"
  nlohmann::json ToJson() const;
};

// How to undo one injection on one target, as plain data. It is registered (the ledger) before
// the injection happens, and a fault's revert needs nothing else: `recover` and a remote host
// can undo a fault without the process that injected it.
struct UndoRecord {
  std::string fault_type;  // the registry key whose Revert() understands `data`
  std::string fault_name;  // the method step's name
  std::string host = "local";
  std::string target;       // Target::label
  std::string manual_undo;  // a shell command a person can run if everything else fails
  int64_t deadline_ms = 0;  // Unix ms after which a watchdog reverts it even if the runner lives
  nlohmann::json data;      // fault-specific: e.g. {"pid": 42, "start_ticks": 123, "signal": 18}
  nlohmann::json ToJson() const;
  static UndoRecord FromJson(const nlohmann::json& j);
  // FromJson for records read back from disk or a peer: every member type-checked, errors as
  // "<pointer>/fault_type: found 3: expected a string" (`pointer` is the record's own, e.g.
  // "/undo"). Never throws.
  static Result<UndoRecord> Parse(const nlohmann::json& j, const std::string& pointer);
};

// What a fault's Verify found after a revert, looked at from outside the fault (the /proc
// state, the nft ruleset, the filesystem). `verified` is true only when the state was seen to
// be back; "could not check" is false, never assumed reverted.
struct Verification {
  bool verified = false;
  std::string found;  // what was looked at and seen, e.g. "pid 42 (sleep) is in state S"
  // Who brought the state back when it was not the revert just made: "host watchdog" when a
  // remote host's watchdog had reverted it by itself (its ledger says so); "" otherwise.
  std::string reverted_by;
  static Verification Reverted(std::string found) { return {true, std::move(found), ""}; }
  static Verification NotReverted(std::string found) { return {false, std::move(found), ""}; }
  // Could not check: counts as not reverted.
  static Verification Unknown(std::string why) { return {false, "unknown: " + std::move(why), ""}; }
  nlohmann::json ToJson() const { return {{"verified", verified}, {"found", found}}; }
};

// What a fault may use on the host it runs on. Everything with a side effect goes through here:
// `system` (commands, HTTP, the file system, worker processes, randomness), and its process
// table and clock.
struct FaultEnv {
  FaultEnv(Env& system, StopSource& stop, std::string run_id = "norun")
      : system(system),
        processes(system.processes()),
        clock(system.clock()),
        stop(stop),
        run_id(std::move(run_id)) {}
  Env& system;
  ProcessTable& processes;  // system.processes()
  Clock& clock;             // system.clock()
  StopSource& stop;         // long waits inside a fault must end early when a stop is requested
  std::string run_id;  // names what a fault creates per run (e.g. nft tables); "norun" by default
};

// An instance of a fault, configured from validated params. Called from one thread at a time.
class Fault {
 public:
  virtual ~Fault() = default;

  // Can it run here (privileges, kernel features, tools)? Called once before anything is
  // injected anywhere; an error means the run injects nothing.
  virtual Status Prepare(FaultEnv& env, const std::vector<Target>& targets) = 0;

  // The undo record for injecting on `target`, computed without any side effect.
  virtual Result<UndoRecord> PlanUndo(FaultEnv& env, const Target& target) = 0;

  // Injects on `target`. Called only after `undo` was registered. On failure the engine still
  // reverts with `undo`, so a half-done injection must be undoable from it.
  virtual Status Inject(FaultEnv& env, const Target& target, const UndoRecord& undo) = 0;

  // What was measured: called when the fault's active window ends, before its revert (the
  // journal's `faults[].observed`), and again once every target was reverted
  // (`faults[].observed_after_revert`); must not fail.
  virtual nlohmann::json Observe(FaultEnv& env) = 0;

  // False when the fault's own expectation did not hold (e.g. process_kill's
  // expect_restart_within); the run's verdict becomes `failed`. Valid after Observe().
  virtual bool ExpectationMet() const { return true; }
  // When ExpectationMet() is false: what did not hold, for the verdict (may be "").
  virtual std::string ExpectationDetail() const { return ""; }
};

// Builds faults of one type and reverts them. One per fault type, registered once.
// Its declaration and config checks (Declaration, ValidateConfig) are the FaultSchema.
class FaultFactory : public FaultSchema {
 public:
  // A fault for one method step. Called only with params that validated.
  virtual std::unique_ptr<Fault> Create(const FaultStep& step, const TargetSpec& target) const = 0;

  // Undoes one injection from its record alone. Idempotent: undoing what is already undone (the
  // process already resumed, already gone) is Ok. Safe to call from another process.
  virtual Status Revert(FaultEnv& env, const UndoRecord& undo) const = 0;

  // Checks from outside, with the record alone, that the state `undo` undoes is back; called
  // after each successful Revert (by the engine, `recover`, the watchdogs and the host side).
  // Must not change anything. A type that cannot check says so (Unknown), which the engine
  // treats as a failed revert.
  virtual Verification Verify(FaultEnv& env, const UndoRecord& undo) const {
    (void)env;
    return Verification::Unknown("fault type " + undo.fault_type + " has no verification");
  }
};

// Fault types by stable name. A duplicate name is a programming error and aborts at start-up.
class FaultRegistry : public FaultCatalog {
 public:
  // The registry that RINGFENCE_REGISTER_FAULT fills.
  static FaultRegistry& Global();

  void Register(std::unique_ptr<FaultFactory> factory);
  const FaultFactory* Find(const std::string& name) const;
  std::vector<const FaultFactory*> All() const;  // sorted by name

  const FaultSchema* FindSchema(const std::string& type) const override { return Find(type); }
  std::vector<const FaultSchema*> Schemas() const override;

 private:
  std::map<std::string, std::unique_ptr<FaultFactory>> factories_;
};

namespace internal {
struct FaultRegistration {
  explicit FaultRegistration(std::unique_ptr<FaultFactory> f) {
    FaultRegistry::Global().Register(std::move(f));
  }
};
}  // namespace internal

// One line at the bottom of a fault's .cc file registers its factory.
#define RINGFENCE_REGISTER_FAULT(FactoryClass)                                            \
  static ::ringfence::internal::FaultRegistration ringfence_registration_##FactoryClass { \
    std::make_unique<FactoryClass>()                                                      \
  }

}  // namespace ringfence
