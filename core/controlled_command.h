#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/process_table.h"
#include "core/status.h"

namespace ringfence {

// RunCommand (core/process_table.h) for a command that can be halted from outside while it runs:
// a rollout pipeline that must stop when a gate fails. Like every command, the child leads a
// process group of its own, so that signals reach everything it started; at the timeout the
// whole group gets SIGKILL. When `halt` is requested the group gets SIGTERM, then SIGKILL after
// `halt_grace`. Returns once the child is reaped and no process of its group is left (SIGKILL
// goes to what is left when the grace ends). Thread-safe as RunCommand is; `halt` may be requested from any
// thread.
struct CommandControl {
  StopSource* halt = nullptr;  // not owned
  std::chrono::milliseconds halt_grace{2000};
};

// What a halt did, for the caller's report.
struct CommandHalt {
  bool requested = false;  // the halt came while the command (or its group) ran
  bool sigkilled = false;  // SIGTERM was not enough within the grace: SIGKILL was sent
  std::chrono::milliseconds took{0};  // from the halt request to nothing of it left
  bool left_running = false;  // a process of its group was still alive at the end (bounded wait)
};

Result<CommandResult> RunControlledCommand(const std::vector<std::string>& argv,
                                           std::chrono::milliseconds timeout,
                                           const CommandControl& control,
                                           CommandHalt* halt = nullptr);

}  // namespace ringfence
