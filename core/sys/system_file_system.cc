#include "core/sys/system_file_system.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>

#include "core/base/input_file.h"

namespace ringfence {
namespace {

namespace stdfs = std::filesystem;

class SystemFile : public FsFile {
 public:
  explicit SystemFile(int fd) : fd_(fd) {}
  ~SystemFile() override { ::close(fd_); }
  SystemFile(const SystemFile&) = delete;
  SystemFile& operator=(const SystemFile&) = delete;

  int WriteAt(uint64_t offset, std::string_view data, uint64_t& written) override {
    while (!data.empty()) {
      const ssize_t w = ::pwrite(fd_, data.data(), data.size(), static_cast<off_t>(offset));
      if (w < 0) {
        if (errno == EINTR) continue;
        return errno;
      }
      written += static_cast<uint64_t>(w);
      offset += static_cast<uint64_t>(w);
      data.remove_prefix(static_cast<size_t>(w));
    }
    return 0;
  }

  int Write(std::string_view data) override {
    const ssize_t w = ::write(fd_, data.data(), data.size());
    if (w < 0) return errno;
    return static_cast<size_t>(w) == data.size() ? 0 : EIO;
  }

  int Allocate(uint64_t offset, uint64_t length) override {
    return ::fallocate(fd_, 0, static_cast<off_t>(offset), static_cast<off_t>(length)) == 0 ? 0
                                                                                            : errno;
  }

  int Truncate(uint64_t size) override {
    return ::ftruncate(fd_, static_cast<off_t>(size)) == 0 ? 0 : errno;
  }

  int SyncData() override { return ::fdatasync(fd_) == 0 ? 0 : errno; }
  int Lock() override { return ::flock(fd_, LOCK_EX) == 0 ? 0 : errno; }
  void Unlock() override { ::flock(fd_, LOCK_UN); }

  int LinkCount(uint64_t& links) override {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return errno;
    links = st.st_nlink;
    return 0;
  }

 private:
  int fd_;
};

int Open(const std::string& path, int flags, mode_t mode, std::unique_ptr<FsFile>& file) {
  const int fd = ::open(path.c_str(), flags, mode);
  if (fd < 0) return errno;
  file = std::make_unique<SystemFile>(fd);
  return 0;
}

FsEntry EntryOf(const struct stat& st) {
  FsEntry entry;
  entry.directory = S_ISDIR(st.st_mode);
  entry.device = st.st_dev;
  entry.allocated_bytes = static_cast<uint64_t>(st.st_blocks) * 512;
  return entry;
}

class RealFileSystem : public FileSystem {
 public:
  int Space(const std::string& path, FsSpace& space) override {
    struct statvfs vfs {};
    if (::statvfs(path.c_str(), &vfs) != 0) return errno;
    space.block_bytes = vfs.f_frsize;
    space.blocks = vfs.f_blocks;
    space.free_blocks = vfs.f_bfree;
    space.avail_blocks = vfs.f_bavail;
    space.read_only = (vfs.f_flag & ST_RDONLY) != 0;
    return 0;
  }

  int Stat(const std::string& path, FsEntry& entry) override {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return errno;
    entry = EntryOf(st);
    return 0;
  }

  int Lstat(const std::string& path, FsEntry& entry) override {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return errno;
    entry = EntryOf(st);
    return 0;
  }

  int CheckWritable(const std::string& path) override {
    return ::access(path.c_str(), W_OK) == 0 ? 0 : errno;
  }

  int CreateExclusive(const std::string& path, mode_t mode, bool append,
                      std::unique_ptr<FsFile>& file) override {
    const int flags =
        O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | (append ? O_APPEND : 0);
    return Open(path, flags, mode, file);
  }

  int OpenForWrite(const std::string& path, std::unique_ptr<FsFile>& file) override {
    return Open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0, file);
  }

  int OpenForRead(const std::string& path, std::unique_ptr<FsFile>& file) override {
    return Open(path, O_RDONLY | O_CLOEXEC, 0, file);
  }

  int Remove(const std::string& path) override { return ::unlink(path.c_str()) == 0 ? 0 : errno; }

  int MakeDirectory(const std::string& path, mode_t mode) override {
    return ::mkdir(path.c_str(), mode) == 0 ? 0 : errno;
  }

  int RemoveDirectory(const std::string& path) override {
    return ::rmdir(path.c_str()) == 0 ? 0 : errno;
  }

  Result<std::string> ReadFile(const std::string& path, size_t max_bytes,
                               const std::string& kind) override {
    return ReadInputFile(path, max_bytes, kind);
  }

  Status WriteFile(const std::string& path, const std::string& bytes) override {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) return Status::FromErrno(errno, "write " + path);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) return Status::Runtime("write " + path + ": I/O error");
    return Status::Ok();
  }

  Status MakeDirectories(const std::string& path, mode_t mode) override {
    std::error_code ec;
    stdfs::create_directories(path, ec);
    if (ec) return Status::Runtime("create " + path + ": " + ec.message());
    ::chmod(path.c_str(), mode);
    return Status::Ok();
  }

  Status RemoveTree(const std::string& path) override {
    std::error_code ec;
    stdfs::remove_all(path, ec);
    if (ec) return Status::Runtime("remove " + path + ": " + ec.message());
    return Status::Ok();
  }
};

}  // namespace

FileSystem& SystemFileSystem() {
  static RealFileSystem files;
  return files;
}

}  // namespace ringfence
