#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "core/base/process_table.h"
#include "core/base/status.h"

namespace ringfence {

// Worker children: processes a fault forks to create load (CPU, memory). They cannot outlive
// the runner: each sets PR_SET_PDEATHSIG(SIGKILL) and exits at once if its parent is already
// gone. The kernel sends the death signal when the THREAD that forked the worker exits, so
// workers must be started from a thread that lives as long as the fault (the engine's thread).

// How a worker is set up before its body runs. Every field is prepared in the parent, before
// fork(): the child only makes system calls.
struct WorkerSetup {
  std::string comm;        // its name in /proc/PID/comm (PR_SET_NAME), at most 15 chars
  int oom_score_adj = 0;   // written to /proc/self/oom_score_adj when not 0 (-1000..1000)
  std::optional<int> cpu;  // pinned to this CPU with sched_setaffinity when set
  std::string cgroup_dir;  // joins this cgroup v1 directory (its cgroup.procs) when set
};

// The body of a worker. It runs in a child forked from a possibly multi-threaded process, so it
// must be async-signal-safe: system calls only (mmap, clock_gettime, nanosleep, ...), no malloc,
// no locks, no stdio. It should not return; if it does the worker exits with status 0.
using WorkerBody = void (*)(const void* arg);

// Called in the parent once the worker is set up but before its body starts, with its identity
// (pid, start_ticks and name). The caller records it (fsync'd) here; an error kills the worker
// before it has done anything.
class WorkerRecorder {
 public:
  virtual ~WorkerRecorder() = default;
  virtual Status Record(const ProcessInfo& worker) = 0;
};

// What /proc says about a live worker.
struct WorkerSample {
  uint64_t cpu_ticks = 0;       // utime + stime, in clock ticks (TicksPerSecond())
  uint64_t rss_bytes = 0;       // VmRSS
  uint64_t rss_peak_bytes = 0;  // VmHWM
  char state = '?';
};

// Starting, stopping and measuring workers; reached through Env::workers(). The real one is
// core/sys/system_worker_processes.h; unit tests use a fake on their fake process table
// (tests/support/fake_worker_processes.h). Thread-safe.
class WorkerProcesses {
 public:
  virtual ~WorkerProcesses() = default;

  // Forks a worker: the child applies `setup` (a failure there is reported, and the child
  // exits), waits until `recorder` has recorded it, then runs body(arg). Inherited file
  // descriptors above 2 are closed in the child, and its signal mask and dispositions are reset.
  // Errors: fork/pipe failures, a setup step refused by the kernel (with what failed), or the
  // recorder's error; in each case no worker is left behind.
  virtual Result<ProcessInfo> Start(const WorkerSetup& setup, WorkerBody body, const void* arg,
                                    WorkerRecorder& recorder) = 0;

  // Sends SIGKILL to the worker if it is still the process (pid, start_ticks), waits up to
  // `timeout` for it to exit, and reaps it when it is a child of this process. Idempotent: a
  // worker already gone (or a pid now used by another process) is Ok. kTimeout when it did not
  // exit in time (e.g. stuck in uninterruptible sleep).
  virtual Status Kill(pid_t pid, unsigned long long start_ticks,
                      std::chrono::milliseconds timeout = std::chrono::seconds(5)) = 0;

  // /proc/PID/stat and /proc/PID/status of the worker. kNotFound when it is gone, a zombie, or
  // the pid belongs to another process now.
  virtual Result<WorkerSample> Sample(pid_t pid, unsigned long long start_ticks) = 0;

  // The kernel's clock tick (USER_HZ) of WorkerSample::cpu_ticks.
  virtual long TicksPerSecond() = 0;
};

}  // namespace ringfence
