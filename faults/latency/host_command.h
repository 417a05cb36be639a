#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "core/base/status.h"

namespace ringfence {

// Where a host command runs, as far as networking goes.
struct CommandNetns {
  std::string name;         // a namespace in /run/netns; "" = the caller's
  bool fresh = false;       // a new, empty namespace of its own (gone when the command exits)
};

struct HostCommandResult {
  int exit_code = -1;  // 127 when the program could not be executed; -1 when killed (timeout)
  std::string output;  // stdout and stderr together, at most 64 KiB
};

// Runs `argv` (argv[0] an absolute path) with `input` (at most 32 KiB) on its stdin, in `netns`, bounded by
// `timeout` (then SIGKILL). The child gets PR_SET_PDEATHSIG(SIGKILL): it dies with the THREAD
// that forked it, so call this from a thread that outlives the command (any caller here does:
// the call blocks until the child is reaped). Errors: fork/pipe failures (kRuntime), a
// namespace that does not exist (kNotFound), a timeout (kTimeout).
Result<HostCommandResult> RunHostCommand(const std::vector<std::string>& argv,
                                         const std::string& input, const CommandNetns& netns,
                                         std::chrono::milliseconds timeout);

// The path of a network namespace's handle: "/run/netns/<name>".
std::string NetnsPath(const std::string& name);

}  // namespace ringfence
