#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "core/base/command.h"
#include "core/base/env.h"
#include "core/base/process_table.h"
#include "core/base/status.h"

namespace ringfence {

// Where a fault's command runs, as far as networking goes.
struct CommandNetns {
  std::string name;    // a namespace in /run/netns (as `ip netns` names it); "" = the runner's
  bool fresh = false;  // a new, empty namespace of its own, gone when the command exits
};

// The one way a fault runs a system program in a network namespace: `ip netns exec <name> …`
// (or `unshare --net …` for a fresh one, or the program itself for the runner's own namespace)
// through `system`'s Run, or RunWithInput when `input` is given. `argv[0]` must be absolute
// (FindSystemTool), so that the wrapper cannot fail to find it. kNotFound
// `network namespace "blue" not found (no /run/netns/blue)` when the namespace does not exist;
// kUnavailable when `ip` or `unshare` is missing; otherwise Run's result (a timeout is
// `timed_out`, not an error).
Result<CommandResult> RunInNetns(Env& system, const CommandNetns& netns,
                                 const std::vector<std::string>& argv,
                                 std::chrono::milliseconds timeout,
                                 const std::string* input = nullptr);

// `command` as a person types it in `netns`: "ip netns exec blue <command>", or `command` itself
// for "" (the manual_undo of an undo record).
std::string CommandInNetns(const std::string& netns, const std::string& command);

// The absolute path of system program `name` (FindSystemProgram), or kUnavailable
// "<name> not found: install the <package> package".
Result<std::string> FindSystemTool(const std::string& name, const std::string& package);

// The path of a network namespace's handle: "/run/netns/<name>".
std::string NetnsPath(const std::string& name);
// Whether /run/netns/<name> exists.
bool NetnsExists(const std::string& name);
// Ok when `netns` is "" or names an existing namespace; otherwise kNotFound
// "network namespace \"blue\" not found (no /run/netns/blue)".
Status CheckNetnsExists(const std::string& netns);

// Moves the calling thread (only it) into `netns` ("" = stay), for a thread that opens sockets
// there (the latency proxy). Errors: the namespace cannot be opened (kNotFound, kPermission), or
// setns failed.
Status EnterNetnsOnThisThread(const std::string& netns);

}  // namespace ringfence
