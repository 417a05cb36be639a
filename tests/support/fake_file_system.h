#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/base/file_system.h"

namespace ringfence::testing {

// An in-memory FileSystem for unit tests. "/" is a directory from the start; everything else is
// added by the test (AddDirectory, AddFile, AddMount) or by the code under test. There are no
// symbolic links, owners or permission bits: modes are kept only to be asserted.
//
// Space: a path is on the mount (AddMount) with the longest prefix, or on the root filesystem
// (device 0, no space) when none. A mount's used bytes are the bytes it started with plus what
// the files under it have allocated (whole blocks); nothing is reserved for root, so
// avail = capacity - used, and growing past it fails with ENOSPC.
//
// Every call that changes something is logged ("mkdir /run/ringfence 0700", "create
// /tmp/f 0600", "write /tmp/f 12", "allocate /tmp/f 65536", "truncate /tmp/f 0",
// "sync /tmp/f", "remove /tmp/f", "rmdir /d", "write-file /f 3", "mkdirs /d 0700",
// "remove-tree /d"). Content is kept for the first 16 MiB of a file. Thread-safe.
class FakeFileSystem : public FileSystem {
 public:
  FakeFileSystem();
  ~FakeFileSystem() override;

  // A directory and its missing parents.
  void AddDirectory(const std::string& path);
  // A file (and its missing parent directories) holding `content`.
  void AddFile(const std::string& path, const std::string& content);
  // A filesystem mounted at `path` (made a directory) of `capacity` bytes, `used` of them taken
  // by what the test does not see; returns its device number (1, 2, …).
  uint64_t AddMount(const std::string& path, uint64_t capacity, uint64_t used = 0,
                    uint64_t block_bytes = 4096);
  // The mount at `path` has no fallocate (EOPNOTSUPP, as on some filesystems).
  void DisableAllocate(const std::string& mount);
  // The mount at `path` is read-only (Space says so; nothing else is refused).
  void SetReadOnly(const std::string& mount);
  // Every later call on exactly `path` fails with `error` (0: no longer).
  void Fail(const std::string& path, int error);
  // Changes the used bytes the test does not see (someone else writes or deletes).
  void SetOtherUse(const std::string& mount, uint64_t used);

  bool Exists(const std::string& path) const;
  bool IsDirectory(const std::string& path) const;
  // The kept content of a file ("" when there is none).
  std::string Content(const std::string& path) const;
  // A file's size and allocated bytes (0 when there is none).
  uint64_t Size(const std::string& path) const;
  uint64_t Allocated(const std::string& path) const;
  // A node's mode as created (0 when there is none).
  mode_t Mode(const std::string& path) const;
  // Every path, sorted.
  std::vector<std::string> Paths() const;
  std::vector<std::string> log() const;

  int Space(const std::string& path, FsSpace& space) override;
  int Stat(const std::string& path, FsEntry& entry) override;
  int Lstat(const std::string& path, FsEntry& entry) override;
  int CheckWritable(const std::string& path) override;
  int CreateExclusive(const std::string& path, mode_t mode, bool append,
                      std::unique_ptr<FsFile>& file) override;
  int OpenForWrite(const std::string& path, std::unique_ptr<FsFile>& file) override;
  int OpenForRead(const std::string& path, std::unique_ptr<FsFile>& file) override;
  int Remove(const std::string& path) override;
  int MakeDirectory(const std::string& path, mode_t mode) override;
  int RemoveDirectory(const std::string& path) override;
  Result<std::string> ReadFile(const std::string& path, size_t max_bytes,
                               const std::string& kind = "file") override;
  Status WriteFile(const std::string& path, const std::string& bytes) override;
  Status MakeDirectories(const std::string& path, mode_t mode) override;
  Status RemoveTree(const std::string& path) override;

 private:
  struct Node;
  struct Mount;
  class File;

  const Mount* MountOf(const std::string& path) const;
  uint64_t UsedOn(const Mount& mount) const;
  int CheckParent(const std::string& path) const;
  int FailureOf(const std::string& path) const;
  int Open(const std::string& path, bool write, std::unique_ptr<FsFile>& file);
  void MakeDirectoriesLocked(const std::string& path, mode_t mode);
  // Grows `node` (at `path`) to `end` bytes: ENOSPC when its mount has no room left.
  int Grow(Node& node, const std::string& path, uint64_t end);

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Node>> nodes_;
  std::vector<Mount> mounts_;
  std::map<std::string, int> failures_;
  std::vector<std::string> log_;
};

}  // namespace ringfence::testing
