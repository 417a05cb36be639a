#include "faults/common/netns_command.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include "core/sys/run_command.h"  // FindSystemProgram

namespace ringfence {

Result<std::string> FindSystemTool(const std::string& name, const std::string& package) {
  auto path = FindSystemProgram(name);
  if (!path) return Status::Unavailable(name + " not found: install the " + package + " package");
  return *path;
}

std::string NetnsPath(const std::string& name) { return "/run/netns/" + name; }

bool NetnsExists(const std::string& name) {
  struct stat st {};
  return ::stat(NetnsPath(name).c_str(), &st) == 0;
}

Status CheckNetnsExists(const std::string& netns) {
  if (netns.empty() || NetnsExists(netns)) return Status::Ok();
  return Status::NotFound("network namespace \"" + netns + "\" not found (no " + NetnsPath(netns) +
                          ")");
}

std::string CommandInNetns(const std::string& netns, const std::string& command) {
  return netns.empty() ? command : "ip netns exec " + netns + " " + command;
}

Result<CommandResult> RunInNetns(Env& system, const CommandNetns& netns,
                                 const std::vector<std::string>& argv,
                                 std::chrono::milliseconds timeout, const std::string* input) {
  std::vector<std::string> full;
  if (netns.fresh) {
    auto unshare = FindSystemTool("unshare", "util-linux");
    if (!unshare.ok()) return unshare.status();
    full = {*unshare, "--net"};
  } else if (!netns.name.empty()) {
    Status exists = CheckNetnsExists(netns.name);
    if (!exists.ok()) return exists;
    auto ip = FindSystemTool("ip", "iproute2");
    if (!ip.ok()) return ip.status();
    full = {*ip, "netns", "exec", netns.name};
  }
  full.insert(full.end(), argv.begin(), argv.end());
  return input != nullptr ? system.RunWithInput(full, *input, timeout) : system.Run(full, timeout);
}

Status EnterNetnsOnThisThread(const std::string& netns) {
  if (netns.empty()) return Status::Ok();
  const int fd = ::open(NetnsPath(netns).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Status::FromErrno(errno, "network namespace '" + netns + "' (" + NetnsPath(netns) + ")");
  }
  const int rc = ::setns(fd, CLONE_NEWNET);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return Status::FromErrno(err, "setns into network namespace '" + netns + "'");
  return Status::Ok();
}

}  // namespace ringfence
