#include "faults/latency/host_command.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

namespace ringfence {

namespace {

constexpr size_t kMaxOutput = 64 * 1024;
constexpr size_t kMaxInput = 32 * 1024;  // fits a pipe's default 64 KiB buffer

// Between fork and exec only async-signal-safe calls: the parent may have other threads.
[[noreturn]] void ExecChild(char* const* argv, int netns_fd, bool fresh_netns, int in_fd,
                            int out_fd, pid_t parent) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(126);
  if (netns_fd >= 0 && ::setns(netns_fd, CLONE_NEWNET) != 0) ::_exit(125);
  if (fresh_netns && ::unshare(CLONE_NEWNET) != 0) ::_exit(125);
  ::dup2(in_fd, 0);
  ::dup2(out_fd, 1);
  ::dup2(out_fd, 2);
  ::execv(argv[0], argv);
  ::_exit(127);
}

}  // namespace

std::string NetnsPath(const std::string& name) { return "/run/netns/" + name; }

Result<HostCommandResult> RunHostCommand(const std::vector<std::string>& argv,
                                         const std::string& input, const CommandNetns& netns,
                                         std::chrono::milliseconds timeout) {
  if (argv.empty()) return Status::Runtime("RunHostCommand: empty argv");
  if (input.size() > kMaxInput) return Status::Runtime("RunHostCommand: input over 32 KiB");
  int netns_fd = -1;
  if (!netns.name.empty()) {
    netns_fd = ::open(NetnsPath(netns.name).c_str(), O_RDONLY | O_CLOEXEC);
    if (netns_fd < 0) {
      return Status::FromErrno(errno, "network namespace '" + netns.name + "' (" +
                                          NetnsPath(netns.name) + ")");
    }
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  int in_pipe[2], out_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0) {
    const int err = errno;
    if (netns_fd >= 0) ::close(netns_fd);
    return Status::FromErrno(err, "pipe");
  }
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    const int err = errno;
    ::close(in_pipe[0]);
    ::close(in_pipe[1]);
    if (netns_fd >= 0) ::close(netns_fd);
    return Status::FromErrno(err, "pipe");
  }
  // The input is written whole before the fork, into the pipe's buffer, so that writing can
  // neither block nor raise SIGPIPE when the child exits without reading.
  size_t written = 0;
  while (written < input.size()) {
    const ssize_t n = ::write(in_pipe[1], input.data() + written, input.size() - written);
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  ::close(in_pipe[1]);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) ExecChild(args.data(), netns_fd, netns.fresh, in_pipe[0], out_pipe[1], parent);
  const int fork_errno = errno;
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  if (netns_fd >= 0) ::close(netns_fd);
  if (pid < 0) {
    ::close(out_pipe[0]);
    return Status::FromErrno(fork_errno, "fork");
  }

  HostCommandResult result;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  char buf[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{out_pipe[0], POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    const ssize_t n = ::read(out_pipe[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EOF: the child closed its end (exited)
    if (result.output.size() < kMaxOutput) {
      result.output.append(buf, std::min(static_cast<size_t>(n), kMaxOutput - result.output.size()));
    }
  }
  ::close(out_pipe[0]);
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    return Status::Timeout(argv[0] + " did not finish within " +
                           std::to_string(timeout.count()) + " ms");
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace ringfence
