#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <string>

#include "core/base/status.h"

namespace ringfence {

// The rules of a state dir (docs/security.md), after OpenSSH's StrictModes: root acts on what
// its ledgers say, so only their owner may write them. The state dir, its `runs/` and every
// file in them
//   - is not a symbolic link (never followed: O_NOFOLLOW, openat relative to the opened dir),
//   - is owned by the invoking user (effective uid) or root,
//   - is not group- or world-writable (the ledger key: not group- or world-readable either).
// Failures are kPermission with "<what> <path>: <reason>", e.g.
//   state dir /x: is group- or world-writable (mode 0777); fix with chmod 700 /x
// What we create gets explicit modes whatever the umask: directories 0700, files 0600.
class StateDir {
 public:
  // Opens and checks `path` and `path/runs`. With `create`, what is missing is made (parents
  // included) with mode 0700; without, a missing state dir is kNotFound "state dir P: does not
  // exist" (a missing runs/ is fine: runs_fd() is -1 then).
  static Result<StateDir> Open(const std::string& path, bool create);
  StateDir(StateDir&& other) noexcept;
  StateDir& operator=(StateDir&&) = delete;
  ~StateDir();

  const std::string& path() const { return path_; }
  int fd() const { return fd_; }
  int runs_fd() const { return runs_fd_; }

  // The 32 bytes of `<state dir>/ledger.key` that authenticate every ledger line. With `create`
  // a missing key is made (0600, bytes from getrandom). kNotFound without `create` when there
  // is none; kPermission when it breaks the rules or is not 32 bytes.
  Result<std::string> LedgerKey(bool create) const;

  // Opens `name` in runs/ with `flags` (O_NOFOLLOW and O_CLOEXEC added; O_CREAT makes it 0600)
  // and checks it is a regular file that keeps the rules (`what` names it in errors: "ledger",
  // "file"). Returns the descriptor.
  Result<int> OpenInRuns(const std::string& what, const std::string& name, int flags) const;
  // The same in the state dir itself (run.lock).
  Result<int> OpenInTop(const std::string& what, const std::string& name, int flags) const;

 private:
  StateDir(std::string path, int fd, int runs_fd)
      : path_(std::move(path)), fd_(fd), runs_fd_(runs_fd) {}
  std::string path_;
  int fd_ = -1;
  int runs_fd_ = -1;
};

// Checks what `st` (from fstat of an open descriptor) describes against the rules above.
// `what` names it in the message ("state dir", "runs dir", "ledger", "ledger key", "file");
// `dir`: it must be a directory (else a regular file); `secret`: not group/world-readable.
Status CheckOwnerOnly(const std::string& what, const std::string& path, const struct stat& st,
                      bool dir, bool secret = false);

// Opens an existing file by path for reading without following a symbolic link in its last
// component, and checks it with CheckOwnerOnly. Returns the descriptor (O_CLOEXEC).
Result<int> OpenOwnerOnlyFile(const std::string& what, const std::string& path);

}  // namespace ringfence
