#include "core/ledger/state_dir.h"

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace ringfence {

namespace {

constexpr char kKeyName[] = "ledger.key";
constexpr size_t kKeyBytes = 32;

Status Refuse(const std::string& what, const std::string& path, const std::string& reason) {
  return Status::Error(StatusCode::kPermission, what + " " + path + ": " + reason);
}

std::string Octal(mode_t mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// The error of an open(…, O_NOFOLLOW) as the rules word it.
Status OpenError(int err, const std::string& what, const std::string& path, bool dir) {
  if (err == ELOOP) return Refuse(what, path, "is a symbolic link; not followed");
  if (err == ENOTDIR && dir) return Refuse(what, path, "is not a directory");
  if (err == ENOENT) return Status::NotFound(what + " " + path + ": does not exist");
  return Status::FromErrno(err, what + " " + path);
}

// mkdir -p with mode 0700 for every directory it makes (the umask can only take bits away).
Status MakeDirs(const std::string& path) {
  for (size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos != path.size() && path[pos] != '/') continue;
    const std::string prefix = path.substr(0, pos);
    if (::mkdir(prefix.c_str(), 0700) == 0) {
      // Ours: 0700 exactly, also when the umask took more away (0777 leaves 0000).
      int fd = ::open(prefix.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd >= 0) {
        int rc = ::fchmod(fd, 0700);
        ::close(fd);
        if (rc != 0) return Status::FromErrno(errno, "state dir " + path + ": chmod " + prefix);
      }
    } else if (errno != EEXIST) {
      return Status::FromErrno(errno, "state dir " + path + ": cannot create " + prefix);
    }
  }
  return Status::Ok();
}

// Opens directory `name` relative to `at` (never through a link) and checks it.
Result<int> OpenCheckedDir(int at, const std::string& name, const std::string& what,
                           const std::string& shown, bool create) {
  bool created = false;
  if (create && at != AT_FDCWD) {
    created = ::mkdirat(at, name.c_str(), 0700) == 0;
    if (!created && errno != EEXIST) {
      return Status::FromErrno(errno, what + " " + shown + ": cannot create");
    }
  }
  int fd = ::openat(at, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    // O_DIRECTORY may win over O_NOFOLLOW: tell a link from a file.
    struct stat lst;
    if (err == ENOTDIR && ::fstatat(at, name.c_str(), &lst, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISLNK(lst.st_mode)) {
      err = ELOOP;
    }
    return OpenError(err, what, shown, true);
  }
  struct stat st;
  if ((created && ::fchmod(fd, 0700) != 0) || ::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return Status::FromErrno(err, what + " " + shown);
  }
  if (Status ok = CheckOwnerOnly(what, shown, st, true); !ok.ok()) {
    ::close(fd);
    return ok;
  }
  return fd;
}

Result<int> OpenCheckedFile(int dir_fd, const std::string& shown, const std::string& what,
                            const std::string& name, int flags);

Status ReadExactly(int fd, std::string& out, size_t n, const std::string& what) {
  out.resize(n);
  size_t off = 0;
  while (off < n) {
    ssize_t r = ::read(fd, out.data() + off, n - off);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return Status::FromErrno(errno, what);
    if (r == 0) return Status::Runtime(what + ": shorter than expected");
    off += static_cast<size_t>(r);
  }
  return Status::Ok();
}

}  // namespace

Status CheckOwnerOnly(const std::string& what, const std::string& path, const struct stat& st,
                      bool dir, bool secret) {
  if (S_ISLNK(st.st_mode)) return Refuse(what, path, "is a symbolic link; not followed");
  if (dir && !S_ISDIR(st.st_mode)) return Refuse(what, path, "is not a directory");
  if (!dir && !S_ISREG(st.st_mode)) return Refuse(what, path, "is not a regular file");
  const uid_t me = ::geteuid();
  if (st.st_uid != me && st.st_uid != 0) {
    const std::string who = me == 0 ? "root" : "uid " + std::to_string(me) + " (you) or root";
    return Refuse(what, path,
                  "is owned by uid " + std::to_string(st.st_uid) + ", not by " + who +
                      "; fix with chown " + std::to_string(me) + " " + path);
  }
  const char* fix = dir ? "700" : "600";
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return Refuse(what, path,
                  "is group- or world-writable (mode " + Octal(st.st_mode) + "); fix with chmod " +
                      fix + " " + path);
  }
  if (secret && (st.st_mode & (S_IRGRP | S_IROTH)) != 0) {
    return Refuse(what, path,
                  "is group- or world-readable (mode " + Octal(st.st_mode) + "); fix with chmod " +
                      fix + " " + path);
  }
  return Status::Ok();
}

Result<StateDir> StateDir::Open(const std::string& given, bool create) {
  std::string path = given;
  while (path.size() > 1 && path.back() == '/') path.pop_back();  // a trailing / follows links
  if (path.empty()) return Status::InvalidInput("state dir: empty path");
  if (create) {
    if (Status made = MakeDirs(path); !made.ok()) return made;
  }
  auto fd = OpenCheckedDir(AT_FDCWD, path, "state dir", path, false);
  if (!fd.ok()) return fd.status();
  StateDir dir(path, *fd, -1);
  auto runs = OpenCheckedDir(*fd, "runs", "runs dir", path + "/runs", create);
  if (!runs.ok()) {
    if (!create && runs.status().code() == StatusCode::kNotFound) return dir;
    return runs.status();
  }
  dir.runs_fd_ = *runs;
  if (create && ::fsync(dir.fd_) != 0) return Status::FromErrno(errno, "state dir " + path);
  return dir;
}

StateDir::StateDir(StateDir&& other) noexcept
    : path_(std::move(other.path_)), fd_(other.fd_), runs_fd_(other.runs_fd_) {
  other.fd_ = -1;
  other.runs_fd_ = -1;
}

StateDir::~StateDir() {
  if (fd_ >= 0) ::close(fd_);
  if (runs_fd_ >= 0) ::close(runs_fd_);
}

Result<std::string> StateDir::LedgerKey(bool create) const {
  const std::string shown = path_ + "/" + kKeyName;
  int fd = ::openat(fd_, kKeyName, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0 && errno == ENOENT && create) {
    // Made under a temporary name and linked into place: a reader never sees a short key, and
    // of two runs making it at once one wins and both use its key.
    std::string bytes(kKeyBytes, '\0');
    size_t got = 0;
    while (got < kKeyBytes) {
      ssize_t n = ::getrandom(bytes.data() + got, kKeyBytes - got, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Status::FromErrno(errno, "ledger key " + shown + ": getrandom");
      got += static_cast<size_t>(n);
    }
    const std::string tmp = std::string(kKeyName) + ".new." + std::to_string(::getpid());
    int w = ::openat(fd_, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (w < 0) return Status::FromErrno(errno, "ledger key " + shown + ": cannot create");
    bool written = ::fchmod(w, 0600) == 0 &&
                   ::write(w, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()) &&
                   ::fsync(w) == 0;
    int err = errno;
    ::close(w);
    if (!written) {
      ::unlinkat(fd_, tmp.c_str(), 0);
      return Status::FromErrno(err, "ledger key " + shown + ": cannot write");
    }
    int linked = ::linkat(fd_, tmp.c_str(), fd_, kKeyName, 0);
    err = errno;
    ::unlinkat(fd_, tmp.c_str(), 0);
    if (linked != 0 && err != EEXIST) return Status::FromErrno(err, "ledger key " + shown);
    ::fsync(fd_);
    fd = ::openat(fd_, kKeyName, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  }
  if (fd < 0) {
    Status st = OpenError(errno, "ledger key", shown, false);
    if (st.code() == StatusCode::kNotFound)
      return Status::NotFound("ledger key " + shown + ": does not exist");
    return st;
  }
  struct stat st;
  Status checked = ::fstat(fd, &st) == 0 ? CheckOwnerOnly("ledger key", shown, st, false, true)
                                         : Status::FromErrno(errno, "ledger key " + shown);
  if (checked.ok() && st.st_size != static_cast<off_t>(kKeyBytes)) {
    checked =
        Refuse("ledger key", shown,
               "is " + std::to_string(st.st_size) + " bytes, not " + std::to_string(kKeyBytes) +
                   "; move it away to make a new one (the "
                   "ledgers it signed are then not trusted)");
  }
  std::string key;
  if (checked.ok()) checked = ReadExactly(fd, key, kKeyBytes, "ledger key " + shown);
  ::close(fd);
  if (!checked.ok()) return checked;
  return key;
}

Result<int> StateDir::OpenInRuns(const std::string& what, const std::string& name,
                                 int flags) const {
  if (runs_fd_ < 0) return Status::NotFound("runs dir " + path_ + "/runs: does not exist");
  return OpenCheckedFile(runs_fd_, path_ + "/runs/" + name, what, name, flags);
}

Result<int> StateDir::OpenInTop(const std::string& what, const std::string& name, int flags) const {
  return OpenCheckedFile(fd_, path_ + "/" + name, what, name, flags);
}

namespace {
Result<int> OpenCheckedFile(int dir_fd, const std::string& shown, const std::string& what,
                            const std::string& name, int flags) {
  int fd = ::openat(dir_fd, name.c_str(), flags | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return OpenError(errno, what, shown, false);
  struct stat st;
  Status checked = ::fstat(fd, &st) == 0 ? CheckOwnerOnly(what, shown, st, false)
                                         : Status::FromErrno(errno, what + " " + shown);
  if (checked.ok() && (flags & O_CREAT) != 0 && ::fchmod(fd, 0600) != 0) {
    checked = Status::FromErrno(errno, what + " " + shown + ": chmod");
  }
  if (!checked.ok()) {
    ::close(fd);
    return checked;
  }
  return fd;
}
}  // namespace

Result<int> OpenOwnerOnlyFile(const std::string& what, const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    Status st = OpenError(errno, what, path, false);
    if (st.code() == StatusCode::kNotFound)
      return Status::NotFound(what + " " + path + ": no such file");
    return st;
  }
  struct stat st;
  Status checked = ::fstat(fd, &st) == 0 ? CheckOwnerOnly(what, path, st, false)
                                         : Status::FromErrno(errno, what + " " + path);
  if (!checked.ok()) {
    ::close(fd);
    return checked;
  }
  return fd;
}

}  // namespace ringfence
