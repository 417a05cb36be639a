#include "core/sys/child_launcher.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace ringfence {

Result<pid_t> LaunchChild(const ChildLaunch& launch) {
  // The exec arguments as the child needs them, built before fork: the child allocates nothing.
  std::vector<char*> argv;
  argv.reserve(launch.argv.size() + 1);
  for (const std::string& a : launch.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  const pid_t pid = ::fork();
  if (pid < 0) return Status::FromErrno(errno, launch.what);
  if (pid == 0) {
    // Only async-signal-safe calls from here on.
    if (launch.new_session) ::setsid();
    if (launch.detach && ::fork() != 0) ::_exit(0);
    for (const auto& [from, to] : launch.fds) ::dup2(from, to);
    if (launch.close_from >= 0) ::close_range(static_cast<unsigned>(launch.close_from), ~0U, 0);
    if (!launch.argv.empty()) {
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    if (launch.body != nullptr) launch.body(launch.arg);
    ::_exit(0);
  }
  if (launch.detach) {
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  return pid;
}

}  // namespace ringfence
