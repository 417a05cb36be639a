#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/base/status.h"

namespace ringfence {

// What statvfs(2) says about the filesystem a path is on.
struct FsSpace {
  uint64_t block_bytes = 0;   // f_frsize
  uint64_t blocks = 0;        // f_blocks
  uint64_t free_blocks = 0;   // f_bfree (root-reserved blocks included)
  uint64_t avail_blocks = 0;  // f_bavail (what an unprivileged user may still allocate)
  bool read_only = false;     // ST_RDONLY
};

// What stat(2) / lstat(2) says about one path.
struct FsEntry {
  bool directory = false;
  uint64_t device = 0;           // st_dev: which filesystem it is on
  uint64_t allocated_bytes = 0;  // st_blocks * 512
};

// An open file; destroying it closes it. The calls return 0 or the errno value they failed with,
// so that the caller words its own error (Status::FromErrno(err, "disk_fill: truncate " + file))
// and acts on the value (ENOSPC, EOPNOTSUPP). Not thread-safe.
class FsFile {
 public:
  virtual ~FsFile() = default;

  // pwrite(2) of all of `data` at `offset`, retrying EINTR and short writes; `written` grows by
  // what was written, also when it fails part-way.
  [[nodiscard]] virtual int WriteAt(uint64_t offset, std::string_view data, uint64_t& written) = 0;
  // One write(2) of `data` (at the end for a file created to append); a short write is EIO.
  [[nodiscard]] virtual int Write(std::string_view data) = 0;
  // fallocate(2) of [offset, offset + length), mode 0; EOPNOTSUPP where the filesystem has none.
  [[nodiscard]] virtual int Allocate(uint64_t offset, uint64_t length) = 0;
  // ftruncate(2).
  [[nodiscard]] virtual int Truncate(uint64_t size) = 0;
  // fdatasync(2).
  [[nodiscard]] virtual int SyncData() = 0;
  // flock(2) LOCK_EX (waits) and LOCK_UN: an advisory lock between processes on the same file.
  [[nodiscard]] virtual int Lock() = 0;
  virtual void Unlock() = 0;
  // fstat(2)'s st_nlink: 0 once the file was removed by name.
  [[nodiscard]] virtual int LinkCount(uint64_t& links) = 0;
};

// The file system where a fault writes: its fill files, its workers files and cgroup directories,
// its backups. Reached through Env::files(); the real one is core/sys/system_file_system.h, unit
// tests hand an in-memory fake (tests/support/fake_file_system.h).
//
// The calls are the system calls the faults need, one each, returning 0 or the errno value like
// FsFile's; those that read or write a whole file or tree return a Status with their own words.
// The tool runs as root and what is planted in a directory it writes to is hostile input: every
// call documents whether it follows a symbolic link, and those that create never reuse what
// exists. Every method is thread-safe.
class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // statvfs(2) of the filesystem `path` is on.
  [[nodiscard]] virtual int Space(const std::string& path, FsSpace& space) = 0;
  // stat(2): follows a symbolic link.
  [[nodiscard]] virtual int Stat(const std::string& path, FsEntry& entry) = 0;
  // lstat(2): a symbolic link itself.
  [[nodiscard]] virtual int Lstat(const std::string& path, FsEntry& entry) = 0;
  // access(2) W_OK, as the real user.
  [[nodiscard]] virtual int CheckWritable(const std::string& path) = 0;

  // open(2) O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC (|O_APPEND when `append`) with `mode`:
  // EEXIST for anything at `path`, a planted symbolic link included; never follows or reuses it.
  [[nodiscard]] virtual int CreateExclusive(const std::string& path, mode_t mode, bool append,
                                            std::unique_ptr<FsFile>& file) = 0;
  // open(2) O_WRONLY|O_NOFOLLOW|O_CLOEXEC of an existing file: ELOOP for a symbolic link.
  [[nodiscard]] virtual int OpenForWrite(const std::string& path,
                                         std::unique_ptr<FsFile>& file) = 0;
  // open(2) O_RDONLY|O_CLOEXEC of an existing file, e.g. to Lock() it.
  [[nodiscard]] virtual int OpenForRead(const std::string& path, std::unique_ptr<FsFile>& file) = 0;

  // unlink(2): a symbolic link itself, never what it points to.
  [[nodiscard]] virtual int Remove(const std::string& path) = 0;
  // mkdir(2) with `mode`; EEXIST when anything is at `path`.
  [[nodiscard]] virtual int MakeDirectory(const std::string& path, mode_t mode) = 0;
  // rmdir(2): only an empty directory (EBUSY for a cgroup with tasks).
  [[nodiscard]] virtual int RemoveDirectory(const std::string& path) = 0;

  // The whole file, read as ReadInputFile (core/base/input_file.h) reads it: a regular file
  // only, at most `max_bytes`; its refusals word for word (kNotFound when there is none).
  virtual Result<std::string> ReadFile(const std::string& path, size_t max_bytes,
                                       const std::string& kind = "file") = 0;
  // Replaces the file's content with `bytes` (created when missing, following a symbolic link,
  // as an std::ofstream does). Errors: "write <path>: <reason>".
  virtual Status WriteFile(const std::string& path, const std::string& bytes) = 0;
  // `path` and its missing parents, then chmod(2) `mode` on `path`. Errors: "create <path>:
  // <reason>".
  virtual Status MakeDirectories(const std::string& path, mode_t mode) = 0;
  // `path` and everything under it, without following symbolic links; Ok when it is gone
  // already. Errors: "remove <path>: <reason>".
  virtual Status RemoveTree(const std::string& path) = 0;
};

}  // namespace ringfence
