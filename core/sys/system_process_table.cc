#include "core/sys/system_process_table.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <sstream>

#include "core/base/signals.h"

namespace ringfence {

namespace {

// From the kernel's include/linux/sched.h; not exported to user space headers.
constexpr unsigned long kPfKthread = 0x00200000;
constexpr pid_t kKthreaddPid = 2;

// Closes a file descriptor when it goes out of scope.
class OwnedFd {
 public:
  explicit OwnedFd(int fd) : fd_(fd) {}
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;
  ~OwnedFd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// /proc files report size 0, so they are read until EOF rather than by size.
Result<std::string> ReadProcFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, path);
  OwnedFd owned(fd);
  std::string text;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(errno, path);
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  return text;
}

std::string ProcPath(pid_t pid, const char* file) {
  return "/proc/" + std::to_string(pid) + "/" + file;
}

Status Gone(pid_t pid) {
  return Status::NotFound("pid " + std::to_string(pid) + ": no such process");
}

Result<ProcStat> ReadStat(pid_t pid) {
  auto text = ReadProcFile(ProcPath(pid, "stat"));
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) return Gone(pid);
    return text.status();
  }
  return ParseProcStat(*text);
}

// The real uid from /proc/PID/status ("Uid:\treal\teffective\tsaved\tfs").
Result<uid_t> ReadRealUid(pid_t pid) {
  auto text = ReadProcFile(ProcPath(pid, "status"));
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) return Gone(pid);
    return text.status();
  }
  std::istringstream lines(*text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("Uid:", 0) != 0) continue;
    std::istringstream fields(line.substr(4));
    unsigned long uid = 0;
    if (fields >> uid) return static_cast<uid_t>(uid);
    break;
  }
  return Status::Runtime(ProcPath(pid, "status") + ": no Uid line");
}

bool IsKernelThread(pid_t pid, const ProcStat& stat, const std::string& cmdline) {
  if (stat.flags & kPfKthread) return true;
  return pid == kKthreaddPid || (stat.ppid == kKthreaddPid && cmdline.empty());
}

// Every read may fail with kNotFound because the process exited meanwhile; callers decide
// whether that is an error (Get) or a reason to skip (List).
Result<ProcessInfo> ReadProcess(pid_t pid) {
  auto stat = ReadStat(pid);
  if (!stat.ok()) return stat.status();
  auto raw_cmdline = ReadProcFile(ProcPath(pid, "cmdline"));
  if (!raw_cmdline.ok()) return Gone(pid);
  std::string cmdline = std::move(raw_cmdline.value());
  while (!cmdline.empty() && cmdline.back() == '\0') cmdline.pop_back();
  for (char& c : cmdline) {
    if (c == '\0') c = ' ';
  }
  if (IsKernelThread(pid, *stat, cmdline)) {
    return Status::NotFound("pid " + std::to_string(pid) + ": a kernel thread");
  }
  auto uid = ReadRealUid(pid);
  if (!uid.ok()) return uid.status();

  ProcessInfo info;
  info.pid = pid;
  info.start_ticks = stat->start_ticks;
  info.name = stat->comm;
  info.cmdline = std::move(cmdline);
  info.uid = *uid;
  info.state = stat->state;
  return info;
}

std::string SignalText(int signo) { return signo == 0 ? "signal 0" : SignalName(signo); }

// An fd for exactly the process (pid, start_ticks): the pidfd is opened first and the start
// time checked afterwards, so that the fd cannot refer to a later process reusing the pid.
Result<int> OpenPidfdChecked(pid_t pid, unsigned long long start_ticks) {
  int fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) {
    if (errno == ESRCH) return Gone(pid);
    return Status::FromErrno(errno, "pidfd_open pid " + std::to_string(pid));
  }
  auto stat = ReadStat(pid);
  Status mismatch;
  if (!stat.ok()) {
    mismatch = Gone(pid);
  } else if (stat->start_ticks != start_ticks) {
    mismatch = Status::NotFound("pid " + std::to_string(pid) + ": now a different process (start " +
                                std::to_string(stat->start_ticks) + ", expected " +
                                std::to_string(start_ticks) + ")");
  } else if (stat->state == 'Z' || stat->state == 'X') {
    mismatch = Status::NotFound("pid " + std::to_string(pid) + ": already exited");
  }
  if (!mismatch.ok()) {
    close(fd);
    return mismatch;
  }
  return fd;
}

class SystemProcessTable : public ProcessTable {
 public:
  Result<std::vector<ProcessInfo>> List() override {
    DIR* dir = opendir("/proc");
    if (dir == nullptr) return Status::FromErrno(errno, "/proc");
    std::vector<ProcessInfo> out;
    while (dirent* entry = readdir(dir)) {
      char* end = nullptr;
      long pid = std::strtol(entry->d_name, &end, 10);
      if (end == entry->d_name || *end != '\0' || pid <= 0) continue;
      // A process may vanish (or be unreadable) between readdir and the reads: skip it.
      auto info = ReadProcess(static_cast<pid_t>(pid));
      if (info.ok()) out.push_back(std::move(info.value()));
    }
    closedir(dir);
    std::sort(out.begin(), out.end(),
              [](const ProcessInfo& a, const ProcessInfo& b) { return a.pid < b.pid; });
    return out;
  }

  Result<ProcessInfo> Get(pid_t pid) override {
    if (pid <= 0) return Gone(pid);
    return ReadProcess(pid);
  }

  Status Signal(pid_t pid, unsigned long long start_ticks, int signo) override {
    if (pid <= 0) return Gone(pid);
    auto fd = OpenPidfdChecked(pid, start_ticks);
    if (!fd.ok()) return fd.status();
    OwnedFd owned(*fd);
    if (syscall(SYS_pidfd_send_signal, owned.get(), signo, nullptr, 0) != 0) {
      if (errno == ESRCH) return Gone(pid);
      return Status::FromErrno(errno,
                               "send " + SignalText(signo) + " to pid " + std::to_string(pid));
    }
    return Status::Ok();
  }

  bool WaitExit(pid_t pid, unsigned long long start_ticks,
                std::chrono::milliseconds timeout) override {
    if (pid <= 0) return true;
    auto fd = OpenPidfdChecked(pid, start_ticks);
    if (!fd.ok()) return fd.status().code() == StatusCode::kNotFound;
    OwnedFd owned(*fd);
    // A pidfd becomes readable when the process exits; EINTR restarts with the time left.
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() < 0) left = std::chrono::milliseconds(0);
      pollfd p{owned.get(), POLLIN, 0};
      int n = poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), INT_MAX)));
      if (n > 0) return true;
      if (n == 0) return false;
      if (errno != EINTR) return false;
    }
  }

  std::chrono::system_clock::time_point StartTime(unsigned long long start_ticks) override {
    // start_ticks counts CLOCK_BOOTTIME. The boot time is taken as REALTIME - BOOTTIME (what
    // btime in /proc/stat is, before it is truncated to whole seconds).
    timespec real{}, boot{};
    clock_gettime(CLOCK_REALTIME, &real);
    clock_gettime(CLOCK_BOOTTIME, &boot);
    auto to_ns = [](const timespec& t) {
      return std::chrono::nanoseconds(static_cast<long long>(t.tv_sec) * 1000000000LL + t.tv_nsec);
    };
    const auto boot_wall = to_ns(real) - to_ns(boot);
    static const long ticks_per_second = sysconf(_SC_CLK_TCK);
    const auto since_boot = std::chrono::milliseconds(static_cast<long long>(
        start_ticks * 1000ULL / static_cast<unsigned long long>(ticks_per_second)));
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(boot_wall + since_boot));
  }
};

class SystemSocketTable : public SocketTable {
 public:
  Result<std::vector<uint64_t>> SocketInodes(pid_t pid) override {
    const std::string fd_dir = ProcPath(pid, "fd");
    DIR* dir = opendir(fd_dir.c_str());
    if (dir == nullptr) return Status::FromErrno(errno, fd_dir);
    std::vector<uint64_t> inodes;
    constexpr std::string_view kPrefix = "socket:[";
    while (dirent* entry = readdir(dir)) {
      if (entry->d_name[0] == '.') continue;
      char link[64];
      const std::string path = fd_dir + "/" + entry->d_name;
      // A descriptor closed between readdir and readlink is simply no longer there.
      const ssize_t n = readlink(path.c_str(), link, sizeof link - 1);
      if (n <= 0) continue;
      const std::string_view target(link, static_cast<size_t>(n));
      if (target.substr(0, kPrefix.size()) != kPrefix || target.back() != ']') continue;
      const std::string digits(target.substr(kPrefix.size(), target.size() - kPrefix.size() - 1));
      char* end = nullptr;
      errno = 0;
      const unsigned long long inode = std::strtoull(digits.c_str(), &end, 10);
      if (errno == 0 && end != digits.c_str() && *end == '\0') inodes.push_back(inode);
    }
    closedir(dir);
    return inodes;
  }

  Result<std::string> TcpTableText(pid_t pid, bool ipv6) override {
    auto text = ReadProcFile(ProcPath(pid, ipv6 ? "net/tcp6" : "net/tcp"));
    // A kernel without IPv6 has no tcp6 table: no IPv6 sockets, not an error.
    if (!text.ok() && ipv6 && text.status().code() == StatusCode::kNotFound &&
        access(ProcPath(pid, "").c_str(), F_OK) == 0) {
      return std::string();
    }
    return text;
  }
};

}  // namespace

Result<ProcStat> ParseProcStat(std::string_view text) {
  auto malformed = [&] {
    return Status::InvalidInput("malformed /proc stat line: " + std::string(text.substr(0, 200)));
  };
  const size_t open = text.find('(');
  const size_t close_paren = text.rfind(')');
  if (open == std::string_view::npos || close_paren == std::string_view::npos ||
      close_paren < open) {
    return malformed();
  }
  ProcStat stat;
  stat.comm = std::string(text.substr(open + 1, close_paren - open - 1));
  // Fields 3, 4, ... follow the ')' separated by single spaces.
  std::istringstream fields{std::string(text.substr(close_paren + 1))};
  std::vector<std::string> tokens;
  std::string token;
  while (fields >> token && tokens.size() < 20) tokens.push_back(token);
  if (tokens.size() < 20 || tokens[0].size() != 1) return malformed();
  auto number = [](const std::string& s, unsigned long long& out) {
    char* end = nullptr;
    errno = 0;
    out = std::strtoull(s.c_str(), &end, 10);
    return errno == 0 && end != s.c_str() && *end == '\0';
  };
  unsigned long long ppid = 0, flags = 0, start = 0;
  // tokens[i] is field i + 3.
  if (!number(tokens[1], ppid) || !number(tokens[6], flags) || !number(tokens[19], start)) {
    return malformed();
  }
  stat.state = tokens[0][0];
  stat.ppid = static_cast<pid_t>(ppid);
  stat.flags = static_cast<unsigned long>(flags);
  stat.start_ticks = start;
  return stat;
}

std::unique_ptr<ProcessTable> MakeSystemProcessTable() {
  return std::make_unique<SystemProcessTable>();
}

std::unique_ptr<SocketTable> MakeSystemSocketTable() {
  return std::make_unique<SystemSocketTable>();
}

}  // namespace ringfence
