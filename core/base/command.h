#pragma once

#include <chrono>
#include <string>

namespace ringfence {

class StopSource;

// What a command run (core/sys/run_command.h) returned.
struct CommandResult {
  int exit_code = -1;  // -1 when it did not exit by itself (killed at the timeout or a stop)
  bool timed_out = false;
  bool interrupted = false;  // killed because `stop` was requested
  std::string out;
  std::string err;
};

// For RunControlledCommand (core/sys/run_command.h): a command that can be halted from outside
// while it runs, such as a rollout pipeline that must stop when a gate fails. Like every command,
// the child leads a process group of its own, so that signals reach everything it started; at the
// timeout the whole group gets SIGKILL. When `halt` is requested the group gets SIGTERM, then
// SIGKILL after `halt_grace`. Returns once the child is reaped and no process of its group is left
// (SIGKILL goes to what is left when the grace ends). `halt` may be requested from any thread.
struct CommandControl {
  StopSource* halt = nullptr;  // not owned
  std::chrono::milliseconds halt_grace{2000};
};

// What a halt did, for the caller's report.
struct CommandHalt {
  bool requested = false;             // the halt came while the command (or its group) ran
  bool sigkilled = false;             // SIGTERM was not enough within the grace: SIGKILL was sent
  std::chrono::milliseconds took{0};  // from the halt request to nothing of it left
  bool left_running = false;  // a process of its group was still alive at the end (bounded wait)
};

}  // namespace ringfence
