#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include "core/fault/fault.h"
#include "faults/disk_fill/fill_plan.h"

namespace ringfence {

// disk_fill: fills the filesystem of `path` to a `percent` used, by `size` bytes, or until
// `reserve` bytes are left, with fallocate (writing zeros where the filesystem has no
// fallocate), in one file the fault owns: <path>/.ringfence-fill-<run id>-<n>, named in the
// undo record before it is created. Revert deletes that file. Host fault, registered as
// "disk_fill". See docs/faults/disk_fill.md.
class DiskFillFactory : public FaultFactory {
 public:
  const FaultDecl& Declaration() const override;
  // Exactly one of percent, size, reserve; path absolute.
  void ValidateConfig(const nlohmann::json& params, const std::string& pointer,
                      ValidationErrors& errors) const override;
  std::unique_ptr<Fault> Create(const FaultStep& step, const TargetSpec& target) const override;
  // Deletes the recorded file; a file already gone is Ok.
  Status Revert(FaultEnv& env, const UndoRecord& undo) const override;
  // The fill file is gone (lstat), so the space it held is back; `found` gives the space now.
  Verification Verify(FaultEnv& env, const UndoRecord& undo) const override;
};

// disk_fill's params, typed: built once from params that validated (defaults from the
// declaration).
struct DiskFillConfig {
  std::string path;  // trailing slashes removed ("/" stays)
  bool allow_root_fs = false;
  FillRequest request;

  static DiskFillConfig FromParams(const nlohmann::json& params);
};

}  // namespace ringfence
