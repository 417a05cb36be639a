#include "core/base/input_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>

namespace ringfence {

namespace {

// "a FIFO", "a directory", … for what is not a regular file.
const char* FileTypeText(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISLNK(mode)) return "a symbolic link";
  return "not a regular file";
}

std::string SizeAllowed(size_t max_bytes) {
  std::string text = "a file of at most " + std::to_string(max_bytes) + " bytes";
  if (max_bytes >= (1u << 20) && max_bytes % (1u << 20) == 0) {
    text += " (" + std::to_string(max_bytes >> 20) + " MiB)";
  } else if (max_bytes >= 1024 && max_bytes % 1024 == 0) {
    text += " (" + std::to_string(max_bytes >> 10) + " KiB)";
  }
  return text;
}

Status Refuse(StatusCode code, std::string found, std::string allowed, InputFileRefusal* refusal) {
  std::string message = found + ": " + allowed;
  if (refusal != nullptr) *refusal = {std::move(found), std::move(allowed)};
  return Status::Error(code, std::move(message));
}

Status Unreadable(int err, const std::string& kind, InputFileRefusal* refusal) {
  const StatusCode code = err == ENOENT || err == ENOTDIR ? StatusCode::kNotFound
                          : err == EACCES || err == EPERM ? StatusCode::kPermission
                                                          : StatusCode::kInvalidInput;
  return Refuse(code, "cannot read the file (" + std::string(std::strerror(err)) + ")",
                "a readable " + kind, refusal);
}

// Reads the opened `fd` (described by `opened`) to its end, at most `max_bytes`: the one
// bounded read behind ReadInputFile and ReadInputStream.
Result<std::string> ReadOpened(int fd, const struct stat& opened, size_t max_bytes,
                               const std::string& kind, InputFileRefusal* refusal) {
  if (S_ISREG(opened.st_mode) && static_cast<unsigned long long>(opened.st_size) > max_bytes) {
    return Refuse(StatusCode::kInvalidInput, std::to_string(opened.st_size) + " bytes",
                  SizeAllowed(max_bytes), refusal);
  }
  // st_size may be 0 (/proc) or stale (a growing file): read up to one byte past the limit.
  std::string text;
  text.resize(std::min<size_t>(max_bytes, static_cast<size_t>(opened.st_size)) + 1);
  size_t used = 0;
  for (;;) {
    if (used == text.size()) {
      if (text.size() > max_bytes) break;
      text.resize(std::min<size_t>(max_bytes + 1, text.size() * 2 + 4096));
    }
    const ssize_t n = ::read(fd, text.data() + used, text.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Unreadable(errno, kind, refusal);
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  if (used > max_bytes) {
    return Refuse(StatusCode::kInvalidInput, "more than " + std::to_string(max_bytes) + " bytes",
                  SizeAllowed(max_bytes), refusal);
  }
  text.resize(used);
  return text;
}

}  // namespace

Result<std::string> ReadInputFile(const std::string& path, size_t max_bytes,
                                  const std::string& kind, InputFileRefusal* refusal) {
  // Checked before the open: opening a FIFO blocks (without O_NONBLOCK) and opening a device
  // may act (a watchdog device starts counting).
  struct stat before {};
  if (::stat(path.c_str(), &before) != 0) return Unreadable(errno, kind, refusal);
  if (!S_ISREG(before.st_mode)) {
    return Refuse(StatusCode::kInvalidInput, FileTypeText(before.st_mode), "a regular " + kind,
                  refusal);
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return Unreadable(errno, kind, refusal);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat opened {};
  if (::fstat(fd, &opened) != 0) return Unreadable(errno, kind, refusal);
  if (!S_ISREG(opened.st_mode)) {
    return Refuse(StatusCode::kInvalidInput, FileTypeText(opened.st_mode), "a regular " + kind,
                  refusal);
  }
  return ReadOpened(fd, opened, max_bytes, kind, refusal);
}

Result<std::string> ReadInputStream(int fd, size_t max_bytes, const std::string& kind,
                                    InputFileRefusal* refusal) {
  struct stat opened {};
  if (::fstat(fd, &opened) != 0) return Unreadable(errno, kind, refusal);
  if (S_ISDIR(opened.st_mode)) {
    return Refuse(StatusCode::kInvalidInput, FileTypeText(opened.st_mode), "a regular " + kind,
                  refusal);
  }
  return ReadOpened(fd, opened, max_bytes, kind, refusal);
}

Result<std::string> ReadStandardInput(size_t max_bytes, const std::string& kind,
                                      InputFileRefusal* refusal) {
  static std::once_flag once;
  static Result<std::string> read = Status::Runtime("standard input was not read");
  static InputFileRefusal read_refusal;
  std::call_once(once,
                 [&] { read = ReadInputStream(STDIN_FILENO, max_bytes, kind, &read_refusal); });
  if (!read.ok()) {
    if (refusal != nullptr) *refusal = read_refusal;
    return read.status();
  }
  if (read->size() > max_bytes) {
    return Refuse(StatusCode::kInvalidInput, std::to_string(read->size()) + " bytes",
                  SizeAllowed(max_bytes), refusal);
  }
  return *read;
}

Result<std::string> ReadCommandLineInput(const std::string& path, size_t max_bytes,
                                         const std::string& kind, InputFileRefusal* refusal) {
  if (path == kStandardInputName) return ReadStandardInput(max_bytes, kind, refusal);
  return ReadInputFile(path, max_bytes, kind, refusal);
}

}  // namespace ringfence
