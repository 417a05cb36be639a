// RunCommand (declared in core/sys/run_command.h): Boost.Process v2 with pipes for stdout and
// stderr, a deadline, a stop request, PR_SET_PDEATHSIG and a process group of its own in the
// child.
#include <dirent.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/readable_pipe.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/writable_pipe.hpp>
#include <boost/asio/write.hpp>
#include <boost/process/v2.hpp>

#include "core/base/clock.h"
#include "core/base/process_table.h"
#include "core/sys/child_exec_setup.h"
#include "core/sys/run_command.h"

namespace ringfence {
namespace {

namespace asio = boost::asio;
namespace bp = boost::process::v2;

constexpr size_t kCaptureCap = 64 * 1024;       // a user command's output
constexpr size_t kInputReplyCap = 1024 * 1024;  // RunCommandWithInput: a protocol's reply
// After the child exited, its output is read until EOF; a grandchild that keeps the pipes open
// would hold us up to the deadline, so the pipes are closed this long after the exit.
constexpr std::chrono::milliseconds kDrainAfterExit{250};
// How often a running command looks at its stop request, and a halted one at its halt (a rollout
// pipeline: every 10 ms it runs on is another host deployed).
constexpr std::chrono::milliseconds kStopPollInterval{50};
constexpr std::chrono::milliseconds kHaltPollInterval{10};
// No command waits longer than this, whatever it was given (the longest settings.max_fault_lifetime
// allows); it also keeps the deadline's arithmetic far from overflowing.
constexpr std::chrono::milliseconds kMaxCommandTimeout = std::chrono::hours(24);

// Puts the child in a process group of its own (its pid), so that a timeout or a stop can kill
// everything it started with one signal. Async-signal-safe.
struct OwnProcessGroupInit {
  template <typename Launcher, typename Path, typename Argv>
  boost::system::error_code on_exec_setup(Launcher&, const Path&, Argv&) const {
    if (::setpgid(0, 0) == 0) return {};
    return boost::system::error_code(errno, boost::system::system_category());
  }
};

bool IsExecutableFile(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// Reads one pipe to EOF, keeping the first `cap` bytes and discarding the rest (the child must
// never block on a full pipe).
class OutputCapture {
 public:
  OutputCapture(asio::io_context& ctx, size_t cap) : pipe_(ctx), cap_(cap) {}

  asio::readable_pipe& pipe() { return pipe_; }
  bool done() const { return done_; }
  std::string& data() { return data_; }

  void Start(std::function<void()> on_done) {
    on_done_ = std::move(on_done);
    ReadMore();
  }
  void Close() {
    boost::system::error_code ignored;
    pipe_.close(ignored);
  }

 private:
  void ReadMore() {
    pipe_.async_read_some(asio::buffer(buf_),
                          [this](const boost::system::error_code& ec, size_t n) {
                            size_t room = cap_ - std::min(cap_, data_.size());
                            data_.append(buf_.data(), std::min(n, room));
                            if (ec) {  // EOF, or closed by us
                              done_ = true;
                              on_done_();
                              return;
                            }
                            ReadMore();
                          });
  }

  asio::readable_pipe pipe_;
  size_t cap_;
  std::array<char, 16 * 1024> buf_{};
  std::string data_;
  bool done_ = false;
  std::function<void()> on_done_;
};

// The exit code, or 128 + the signal number when a signal ended the child (as shells report).
int DecodeWaitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Whether a process other than a zombie is in process group `pgid` (from /proc/PID/stat: state
// is field 3, pgrp field 5).
bool GroupHasLiveMember(pid_t pgid) {
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return ::kill(-pgid, 0) == 0;
  bool live = false;
  while (dirent* e = ::readdir(proc)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    std::ifstream in(std::string("/proc/") + e->d_name + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t close = text.rfind(')');
    if (close == std::string::npos || close + 2 >= text.size()) continue;
    char state = 0;
    long ppid = 0, pgrp = 0;
    if (std::sscanf(text.c_str() + close + 2, "%c %ld %ld", &state, &ppid, &pgrp) != 3) continue;
    if (pgrp == pgid && state != 'Z' && state != 'X') {
      live = true;
      break;
    }
  }
  ::closedir(proc);
  return live;
}

// `input`: null for stdin on /dev/null, else written to the child's stdin, then EOF.
// `control`: null for a plain command.
Result<CommandResult> RunExecutable(const std::string& executable,
                                    const std::vector<std::string>& argv, const std::string* input,
                                    std::chrono::milliseconds timeout, const StopSource* stop,
                                    const CommandControl* control = nullptr,
                                    CommandHalt* halt_report = nullptr) {
  asio::io_context ctx;
  const size_t cap = input != nullptr ? kInputReplyCap : kCaptureCap;
  OutputCapture out(ctx, cap);
  OutputCapture err(ctx, cap);
  asio::writable_pipe in(ctx);
  std::vector<std::string> args(argv.begin() + 1, argv.end());

  boost::system::error_code launch_error;
  bp::posix::default_launcher launcher;
  auto launch = [&](bp::process_stdio stdio) {
    return launcher(ctx.get_executor(), launch_error, bp::filesystem::path(executable), args,
                    std::move(stdio), DieWithParentInit{::getpid()}, OwnProcessGroupInit{});
  };
  // The stdio binding makes its pipe ends when it is constructed: one expression each.
  auto proc = input != nullptr ? launch(bp::process_stdio{in, out.pipe(), err.pipe()})
                               : launch(bp::process_stdio{nullptr, out.pipe(), err.pipe()});
  if (launch_error) {
    int e = launch_error.value();
    if (e == ENOENT || e == EACCES || e == ENOEXEC || e == ENOTDIR) {
      return Status::NotFound("command not found: " + argv[0]);
    }
    return Status::Runtime("start " + argv[0] + ": " + launch_error.message());
  }

  // Our own pidfd, opened while the child cannot have been reaped yet: a signal through it can
  // never hit a later process that reuses the pid.
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, proc.id(), 0));
  const pid_t pgid = static_cast<pid_t>(proc.id());

  CommandResult result;
  bool exited = false;
  std::optional<Status> wait_failure;
  asio::steady_timer deadline(ctx, timeout);
  asio::steady_timer drain(ctx);
  asio::steady_timer poll_timer(ctx);
  asio::steady_timer halt_kill(ctx);
  bool halt_sent = false;
  std::chrono::steady_clock::time_point halt_at{};
  // To the whole group (the child is not reaped yet, or the group still has members, so the
  // pgid cannot name another group), and to the child through its pidfd.
  auto signal_all = [&](int signo) {
    ::kill(-pgid, signo);
    if (pidfd >= 0) ::syscall(SYS_pidfd_send_signal, pidfd, signo, nullptr, 0);
  };
  auto finish_if_done = [&] {
    if (exited && out.done() && err.done()) {
      deadline.cancel();
      drain.cancel();
      poll_timer.cancel();
      halt_kill.cancel();
    }
  };
  // The stop (SIGKILL at once: the run is being reverted) and the halt (SIGTERM, then SIGKILL
  // after the grace), polled together: a StopSource has no file descriptor to wait on.
  const StopSource* halt = control != nullptr ? control->halt : nullptr;
  auto interrupt = [&] {
    result.interrupted = true;
    result.exit_code = -1;
    signal_all(SIGKILL);
  };
  auto halt_now = [&] {
    halt_sent = true;
    halt_at = std::chrono::steady_clock::now();
    signal_all(SIGTERM);
    halt_kill.expires_after(control->halt_grace);
    halt_kill.async_wait([&](const boost::system::error_code& k) {
      if (k || exited) return;
      if (halt_report != nullptr) halt_report->sigkilled = true;
      signal_all(SIGKILL);
    });
  };
  std::function<void()> poll = [&] {
    if (stop == nullptr && halt == nullptr) return;
    poll_timer.expires_after(halt != nullptr ? kHaltPollInterval : kStopPollInterval);
    poll_timer.async_wait([&](const boost::system::error_code& e) {
      if (e || exited || result.timed_out) return;
      if (stop != nullptr && stop->stop_requested()) return interrupt();
      if (halt != nullptr && !halt_sent && halt->stop_requested()) halt_now();
      poll();
    });
  };
  if (stop != nullptr && stop->stop_requested()) {
    interrupt();
  } else {
    poll();
  }
  out.Start(finish_if_done);
  err.Start(finish_if_done);
  if (input != nullptr) {
    // A child that stops reading fails this write (EPIPE), nothing else.
    asio::async_write(in, asio::buffer(*input), [&](const boost::system::error_code&, size_t) {
      boost::system::error_code ignored;
      in.close(ignored);
    });
  }

  proc.async_wait([&](const boost::system::error_code& ec, int) {
    exited = true;
    if (ec) {
      wait_failure = Status::Runtime("wait for " + argv[0] + ": " + ec.message());
    } else if (!result.timed_out && !result.interrupted) {
      result.exit_code = DecodeWaitStatus(proc.native_exit_code());
    }
    deadline.cancel();
    poll_timer.cancel();
    drain.expires_after(kDrainAfterExit);
    drain.async_wait([&](const boost::system::error_code& e) {
      if (e) return;
      out.Close();
      err.Close();
    });
    finish_if_done();
  });
  deadline.async_wait([&](const boost::system::error_code& e) {
    if (e || exited || result.interrupted) return;
    result.timed_out = true;
    result.exit_code = -1;
    signal_all(SIGKILL);
  });
  ctx.run();
  if (pidfd >= 0) ::close(pidfd);

  const bool halted = halt != nullptr && halt->stop_requested();
  if (halt_sent || result.timed_out || result.interrupted || halted) {
    // The child is gone; what it started in its group is stopped too: SIGTERM (when the halt
    // came after the child's own exit), the rest of the grace, then SIGKILL.
    if (!halt_sent) {
      halt_sent = true;
      halt_at = std::chrono::steady_clock::now();
      if (GroupHasLiveMember(pgid)) {
        ::kill(-pgid, result.timed_out || result.interrupted ? SIGKILL : SIGTERM);
      }
    }
    const auto kill_at =
        halt_at + (control != nullptr ? control->halt_grace : std::chrono::milliseconds(0));
    bool killed = result.timed_out || result.interrupted;
    for (int i = 0; i < 2000 && GroupHasLiveMember(pgid); ++i) {  // bounded: ~20 s + grace
      if (!killed && std::chrono::steady_clock::now() >= kill_at) {
        ::kill(-pgid, SIGKILL);
        killed = true;
        if (halt_report != nullptr) halt_report->sigkilled = true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  if (halt_report != nullptr && halt_sent) {
    halt_report->requested = true;
    halt_report->left_running = GroupHasLiveMember(pgid);
    halt_report->took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - halt_at);
  }

  if (wait_failure) return *wait_failure;
  result.out = std::move(out.data());
  result.err = std::move(err.data());
  return result;
}

}  // namespace

namespace {

Result<CommandResult> Run(const std::vector<std::string>& argv, const std::string* input,
                          std::chrono::milliseconds timeout, const StopSource* stop,
                          const CommandControl* control = nullptr, CommandHalt* halt = nullptr) {
  if (argv.empty() || argv[0].empty()) return Status::InvalidInput("command has an empty argv");
  std::optional<std::string> executable = FindExecutable(argv[0]);
  if (!executable) return Status::NotFound("command not found: " + argv[0]);
  try {
    return RunExecutable(*executable, argv, input,
                         std::clamp(timeout, std::chrono::milliseconds(0), kMaxCommandTimeout),
                         stop, control, halt);
  } catch (const std::exception& e) {
    return Status::Runtime("run " + argv[0] + ": " + e.what());
  }
}

}  // namespace

namespace {

// The first executable file `name` in the ':'-separated `dirs` ("" is the current directory).
std::optional<std::string> FindInDirectories(const std::string& name, const std::string& dirs) {
  size_t begin = 0;
  while (begin <= dirs.size()) {
    size_t end = dirs.find(':', begin);
    if (end == std::string::npos) end = dirs.size();
    std::string dir = dirs.substr(begin, end - begin);
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + name;
    if (IsExecutableFile(candidate)) return candidate;
    begin = end + 1;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> FindExecutable(const std::string& argv0) {
  if (argv0.find('/') != std::string::npos) {
    if (IsExecutableFile(argv0)) return argv0;
    return std::nullopt;
  }
  const char* env_path = std::getenv("PATH");
  return FindInDirectories(argv0, env_path != nullptr ? env_path : "/usr/local/bin:/usr/bin:/bin");
}

std::optional<std::string> FindSystemProgram(const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos) return std::nullopt;
  return FindInDirectories(name, "/usr/sbin:/sbin:/usr/bin:/bin");
}

Result<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                 std::chrono::milliseconds timeout, const StopSource* stop) {
  return Run(argv, nullptr, timeout, stop);
}

Result<CommandResult> RunCommandWithInput(const std::vector<std::string>& argv,
                                          const std::string& input,
                                          std::chrono::milliseconds timeout) {
  return Run(argv, &input, timeout, nullptr);
}

Result<CommandResult> RunControlledCommand(const std::vector<std::string>& argv,
                                           std::chrono::milliseconds timeout,
                                           const CommandControl& control, CommandHalt* halt) {
  return Run(argv, nullptr, timeout, nullptr, &control, halt);
}

std::string SelfBinary() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "ringfence";
}

}  // namespace ringfence
