#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/base/clock.h"
#include "core/base/command.h"
#include "core/base/status.h"

namespace ringfence {

// Runs a user command (argv, no shell) with a timeout; used by `restart_command`, command probes
// and rollbacks. The child dies with the runner (PR_SET_PDEATHSIG) and runs in a process group
// of its own: at the timeout, or as soon as `stop` (when given) is requested, the whole group
// gets SIGKILL (a shell's children too). Captures stdout and stderr (each capped at 64 KiB).
Result<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                 std::chrono::milliseconds timeout,
                                 const StopSource* stop = nullptr);
// argv0 itself when it contains '/' (and is an executable file), else the first executable file
// of that name in PATH; nullopt when there is none.
std::optional<std::string> FindExecutable(const std::string& argv0);
// The absolute path of a system program (nft, ip, tc) in /usr/sbin, /sbin, /usr/bin or /bin,
// whatever PATH says (a runner started by cron or sudo may have a short one); nullopt when it is
// not installed. Absolute, so that a wrapper such as `ip netns exec` cannot fail to find it.
std::optional<std::string> FindSystemProgram(const std::string& name);
// The path of the running binary (/proc/self/exe); "ringfence" when it cannot be read.
std::string SelfBinary();
// The same, with `input` written to the child's stdin, then EOF, and up to 1 MiB of each output
// kept (a protocol's reply, e.g. `ringfence host` over ssh). A child that stops reading fails
// that write; the caller must ignore SIGPIPE so that it is not fatal to the runner.
Result<CommandResult> RunCommandWithInput(const std::vector<std::string>& argv,
                                          const std::string& input,
                                          std::chrono::milliseconds timeout);
// RunCommand that can also be halted (core/base/command.h, CommandControl); thread-safe.
Result<CommandResult> RunControlledCommand(const std::vector<std::string>& argv,
                                           std::chrono::milliseconds timeout,
                                           const CommandControl& control,
                                           CommandHalt* halt = nullptr);

}  // namespace ringfence
