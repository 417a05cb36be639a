#pragma once

#include "core/base/worker_processes.h"

namespace ringfence {

// The real worker processes: forked through LaunchChild (core/sys/child_launcher.h), killed
// through pidfds, sampled from /proc. Stateless and thread-safe; one for the process.
WorkerProcesses& SystemWorkerProcesses();

}  // namespace ringfence
