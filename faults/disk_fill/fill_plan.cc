#include "faults/disk_fill/fill_plan.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace ringfence {
namespace {

std::string FormatPercent(double p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", p);
  return buf;
}

// 50 → "50", 62.5 → "62.5": as the user wrote it.
std::string FormatNumber(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", x);
  return buf;
}

// Bytes available after the fill when the request is a level (percent or reserve).
uint64_t TargetAvail(const FillRequest& request, const FsUsage& usage) {
  if (request.mode == FillRequest::Mode::kReserve) return request.reserve;
  const double capacity = static_cast<double>(usage.capacity());
  const auto target_used = static_cast<uint64_t>(std::ceil(capacity * request.percent / 100.0));
  return usage.capacity() > target_used ? usage.capacity() - target_used : 0;
}

}  // namespace

double FsUsage::percent() const {
  if (capacity() == 0) return 0;
  return 100.0 * static_cast<double>(used_bytes) / static_cast<double>(capacity());
}

nlohmann::json FsUsage::ToJson() const {
  return {{"used_bytes", used_bytes},
          {"avail_bytes", avail_bytes},
          {"percent", std::round(percent() * 100) / 100}};
}

Result<FsUsage> ReadFsUsage(FileSystem& files, const std::string& path) {
  FsSpace space;
  if (int err = files.Space(path, space)) return Status::FromErrno(err, "statvfs " + path);
  FsUsage usage;
  usage.block_bytes = space.block_bytes > 0 ? space.block_bytes : 4096;
  usage.used_bytes = (space.blocks - space.free_blocks) * usage.block_bytes;
  usage.avail_bytes = space.avail_blocks * usage.block_bytes;
  return usage;
}

nlohmann::json FillRequest::ToJson() const {
  switch (mode) {
    case Mode::kPercent:
      return {{"percent", percent}};
    case Mode::kReserve:
      return {{"reserve", reserve}};
    case Mode::kSize:
      break;
  }
  return {{"size", size}};
}

Status CheckFillPossible(const FillRequest& request, const FsUsage& usage,
                         const std::string& path) {
  const std::string margin = std::to_string(kDiskFillSafetyMarginBytes);
  const std::string avail = std::to_string(usage.avail_bytes);
  switch (request.mode) {
    case FillRequest::Mode::kSize:
      if (usage.avail_bytes < kDiskFillSafetyMarginBytes ||
          request.size > usage.avail_bytes - kDiskFillSafetyMarginBytes) {
        return Status::InvalidInput("disk_fill: size " + std::to_string(request.size) +
                                    " bytes is more than the filesystem of " + path +
                                    " can take: " + avail +
                                    " bytes free, less a safety margin of " + margin + " bytes");
      }
      return Status::Ok();
    case FillRequest::Mode::kReserve:
      if (usage.avail_bytes <= request.reserve) {
        return Status::InvalidInput("disk_fill: the filesystem of " + path + " has " + avail +
                                    " bytes free, already no more than reserve " +
                                    std::to_string(request.reserve) + " bytes");
      }
      return Status::Ok();
    case FillRequest::Mode::kPercent: {
      const std::string asked = FormatNumber(request.percent);
      const uint64_t target_avail = TargetAvail(request, usage);
      if (usage.avail_bytes <= target_avail) {
        return Status::InvalidInput("disk_fill: the filesystem of " + path + " is already " +
                                    FormatPercent(usage.percent()) +
                                    "% used, at or above percent " + asked);
      }
      if (target_avail < kDiskFillSafetyMarginBytes) {
        return Status::InvalidInput("disk_fill: percent " + asked + " would leave " +
                                    std::to_string(target_avail) +
                                    " bytes free on the filesystem of " + path +
                                    ", less than the safety margin of " + margin + " bytes");
      }
      return Status::Ok();
    }
  }
  return Status::Ok();
}

uint64_t NextFillBytes(const FillRequest& request, const FsUsage& usage, uint64_t written) {
  const uint64_t room = usage.avail_bytes > kDiskFillSafetyMarginBytes
                            ? usage.avail_bytes - kDiskFillSafetyMarginBytes
                            : 0;
  uint64_t want = 0;
  if (request.mode == FillRequest::Mode::kSize) {
    want = request.size > written ? request.size - written : 0;
  } else {
    const uint64_t target_avail = TargetAvail(request, usage);
    want = usage.avail_bytes > target_avail ? usage.avail_bytes - target_avail : 0;
    want -= want % usage.block_bytes;
  }
  uint64_t n = std::min(want, room);
  if (request.mode == FillRequest::Mode::kSize && n < want) n -= n % usage.block_bytes;
  return n;
}

}  // namespace ringfence
