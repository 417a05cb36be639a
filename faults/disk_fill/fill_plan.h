#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/base/file_system.h"
#include "core/base/status.h"

namespace ringfence {

// Free space disk_fill never takes: the revert (an unlink, the ledger's "reverted" mark) and
// whatever else runs on the host keep this much room.
inline constexpr uint64_t kDiskFillSafetyMarginBytes = 4ull << 20;

// A filesystem's usage as df shows it: Use% = used / (used + avail), where avail is what an
// unprivileged user may still allocate (root-reserved blocks are neither used nor avail).
struct FsUsage {
  uint64_t used_bytes = 0;   // (f_blocks - f_bfree) * f_frsize
  uint64_t avail_bytes = 0;  // f_bavail * f_frsize
  uint64_t block_bytes = 4096;
  uint64_t capacity() const { return used_bytes + avail_bytes; }
  double percent() const;         // 0 for an empty-capacity filesystem
  nlohmann::json ToJson() const;  // {"used_bytes", "avail_bytes", "percent"}
};

// The statvfs of `path` (through `files`) as an FsUsage.
Result<FsUsage> ReadFsUsage(FileSystem& files, const std::string& path);

// What a disk_fill step asks for: exactly one of the three.
struct FillRequest {
  enum class Mode { kPercent, kSize, kReserve } mode = Mode::kSize;
  double percent = 0;    // kPercent: fill until the filesystem is this % used
  uint64_t size = 0;     // kSize: add this many bytes
  uint64_t reserve = 0;  // kReserve: fill until this many bytes are left available

  nlohmann::json ToJson() const;  // {"percent": 90} / {"size": N} / {"reserve": N}
};

// Whether `request` can be met on a filesystem that is `usage` now (`path` names it in the
// error): kInvalidInput with the reason when it asks for more than the filesystem has (less
// the safety margin) or the level is already reached.
Status CheckFillPossible(const FillRequest& request, const FsUsage& usage, const std::string& path);

// How many more bytes to allocate now, given the filesystem's usage just measured and the bytes
// `written` by this fill so far: what is still missing to meet `request`, but never so much that
// less than the safety margin would be left. Level modes (percent, reserve) are re-computed from
// the current usage, so that a filesystem that grows, shrinks or fills up meanwhile is never
// filled past the level asked; they are rounded down to whole blocks. 0 when there is nothing
// (more) to do.
uint64_t NextFillBytes(const FillRequest& request, const FsUsage& usage, uint64_t written);

}  // namespace ringfence
