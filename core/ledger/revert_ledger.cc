#include "core/ledger/revert_ledger.h"

namespace ringfence {

Result<uint64_t> MemoryLedger::RecordIntent(const UndoRecord& undo) {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t id = entries_.size() + 1;
  entries_.emplace_back(id, undo);
  reverted_.push_back(false);
  return id;
}

Status MemoryLedger::RecordReverted(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (id == 0 || id > entries_.size())
    return Status::NotFound("no ledger entry " + std::to_string(id));
  reverted_[id - 1] = true;
  return Status::Ok();
}

std::vector<std::pair<uint64_t, UndoRecord>> MemoryLedger::Outstanding() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::pair<uint64_t, UndoRecord>> out;
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (!reverted_[i]) out.push_back(entries_[i]);
  }
  return out;
}

}  // namespace ringfence
