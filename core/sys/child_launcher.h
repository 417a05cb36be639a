#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "core/base/status.h"

namespace ringfence {

// How LaunchChild starts a child. Everything is prepared in the parent: between fork and exec
// (or the body) the child makes async-signal-safe system calls only, so that it is safe to start
// from a multi-threaded process.
struct ChildLaunch {
  // The program to exec (execv: argv[0] is a path, no PATH search) and its arguments; a child
  // whose exec fails exits with 127. Empty: the child runs `body(arg)` instead and exits with 0
  // if it returns.
  std::vector<std::string> argv;
  void (*body)(const void* arg) = nullptr;  // async-signal-safe calls only (see above)
  const void* arg = nullptr;
  // setsid(): a session and process group of its own, no controlling terminal, so that signals
  // to the parent's group (Ctrl-C, sshd closing the session) do not reach it.
  bool new_session = false;
  // After setsid, fork once more and let the first child exit: the grandchild is nobody's child
  // here (reparented to init or a subreaper). LaunchChild reaps the first child before returning.
  bool detach = false;
  // dup2(from, to) in the child, in this order (the new descriptor loses close-on-exec). Every
  // other descriptor is inherited as it is: make the parent's own O_CLOEXEC.
  std::vector<std::pair<int, int>> fds;
  // When >= 0: after the dup2s, every descriptor from this number up is closed.
  int close_from = -1;
  // Names the fork in an error: "<what>: <strerror>".
  std::string what = "fork";
};

// Starts a child process as `launch` says; the one place where ringfence forks. Returns its pid
// (with `detach`, the pid of the first child, already reaped). Errors: the fork failed.
// Thread-safe.
Result<pid_t> LaunchChild(const ChildLaunch& launch);

}  // namespace ringfence
