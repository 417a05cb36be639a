// RunCommand (declared in core/process_table.h): Boost.Process v2 with pipes for stdout and
// stderr, a deadline, a stop request, PR_SET_PDEATHSIG and a process group of its own in the
// child.
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/readable_pipe.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/writable_pipe.hpp>
#include <boost/asio/write.hpp>
#include <boost/process/v2.hpp>

#include "core/child_exec_setup.h"
#include "core/clock.h"
#include "core/process_table.h"

namespace ringfence {
namespace {

namespace asio = boost::asio;
namespace bp = boost::process::v2;

constexpr size_t kCaptureCap = 64 * 1024;         // a user command's output
constexpr size_t kInputReplyCap = 1024 * 1024;    // RunCommandWithInput: a protocol's reply
// After the child exited, its output is read until EOF; a grandchild that keeps the pipes open
// would hold us up to the deadline, so the pipes are closed this long after the exit.
constexpr std::chrono::milliseconds kDrainAfterExit{250};
// How often a running command looks at its stop request.
constexpr std::chrono::milliseconds kStopPollInterval{50};
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
    pipe_.async_read_some(asio::buffer(buf_), [this](const boost::system::error_code& ec,
                                                     size_t n) {
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

// `input`: null for stdin on /dev/null, else written to the child's stdin, then EOF.
Result<CommandResult> RunExecutable(const std::string& executable,
                                    const std::vector<std::string>& argv,
                                    const std::string* input, std::chrono::milliseconds timeout,
                                    const StopSource* stop) {
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

  CommandResult result;
  bool exited = false;
  std::optional<Status> wait_failure;
  asio::steady_timer deadline(ctx, timeout);
  asio::steady_timer drain(ctx);
  asio::steady_timer stop_poll(ctx);
  auto finish_if_done = [&] {
    if (exited && out.done() && err.done()) {
      deadline.cancel();
      drain.cancel();
      stop_poll.cancel();
    }
  };
  // The child's group (its pid is the group's id, and it cannot be reused before the child is
  // reaped, which happens in async_wait's handler), then the child itself through its pidfd.
  auto kill_child = [&] {
    ::kill(-proc.id(), SIGKILL);
    if (pidfd >= 0) {
      ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
    } else {
      boost::system::error_code ignored;
      proc.terminate(ignored);  // kill(pid): the child is not reaped yet, so the pid is still its
    }
  };
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
    stop_poll.cancel();
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
    kill_child();
  });
  std::function<void()> poll_stop = [&] {
    stop_poll.expires_after(kStopPollInterval);
    stop_poll.async_wait([&](const boost::system::error_code& e) {
      if (e || exited) return;
      if (!stop->stop_requested()) return poll_stop();
      if (result.timed_out) return;
      result.interrupted = true;
      result.exit_code = -1;
      kill_child();
    });
  };
  if (stop != nullptr) {
    if (stop->stop_requested()) {
      result.interrupted = true;
      kill_child();
    } else {
      poll_stop();
    }
  }
  ctx.run();
  if (pidfd >= 0) ::close(pidfd);

  if (wait_failure) return *wait_failure;
  result.out = std::move(out.data());
  result.err = std::move(err.data());
  return result;
}

}  // namespace

namespace {

Result<CommandResult> Run(const std::vector<std::string>& argv, const std::string* input,
                          std::chrono::milliseconds timeout, const StopSource* stop) {
  if (argv.empty() || argv[0].empty()) return Status::InvalidInput("command has an empty argv");
  std::optional<std::string> executable = FindExecutable(argv[0]);
  if (!executable) return Status::NotFound("command not found: " + argv[0]);
  try {
    return RunExecutable(*executable, argv, input, std::clamp(timeout, std::chrono::milliseconds(0),
                                                              kMaxCommandTimeout),
                         stop);
  } catch (const std::exception& e) {
    return Status::Runtime("run " + argv[0] + ": " + e.what());
  }
}

}  // namespace

std::optional<std::string> FindExecutable(const std::string& argv0) {
  if (argv0.find('/') != std::string::npos) {
    if (IsExecutableFile(argv0)) return argv0;
    return std::nullopt;
  }
  const char* env_path = std::getenv("PATH");
  std::string path = env_path != nullptr ? env_path : "/usr/local/bin:/usr/bin:/bin";
  size_t begin = 0;
  while (begin <= path.size()) {
    size_t end = path.find(':', begin);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(begin, end - begin);
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + argv0;
    if (IsExecutableFile(candidate)) return candidate;
    begin = end + 1;
  }
  return std::nullopt;
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

}  // namespace ringfence
