#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

#include "core/base/status.h"
#include "core/fault/fault.h"

namespace ringfence {

// The record of every injection and how to undo it, written BEFORE the injection happens.
// The lifecycle engine calls RecordIntent, then injects, and after a successful revert calls
// RecordReverted. Implementations are thread-safe.
class RevertLedger {
 public:
  virtual ~RevertLedger() = default;
  // Stores `undo` durably; returns the entry id. An error means the injection must not happen.
  virtual Result<uint64_t> RecordIntent(const UndoRecord& undo) = 0;
  // Marks entry `id` as undone.
  virtual Status RecordReverted(uint64_t id) = 0;
  // Entries not marked undone, oldest first.
  virtual std::vector<std::pair<uint64_t, UndoRecord>> Outstanding() const = 0;
};

// A ledger that lives only as long as the run (no crash safety): for unit tests and dry runs.
class MemoryLedger : public RevertLedger {
 public:
  Result<uint64_t> RecordIntent(const UndoRecord& undo) override;
  Status RecordReverted(uint64_t id) override;
  std::vector<std::pair<uint64_t, UndoRecord>> Outstanding() const override;

 private:
  mutable std::mutex mu_;
  std::vector<std::pair<uint64_t, UndoRecord>> entries_;
  std::vector<bool> reverted_;
};

}  // namespace ringfence
