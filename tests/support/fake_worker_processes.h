#pragma once

#include <sys/types.h>

#include <map>
#include <mutex>
#include <vector>

#include "core/base/worker_processes.h"
#include "tests/support/fake_process_table.h"

namespace ringfence::testing {

// Worker processes that are entries of a FakeProcessTable: Start adds one (pid 5000, 5001, …,
// named after setup.comm), records it with the recorder (and takes it out again when that
// fails) and keeps the setup it was given; Kill is the table's SIGKILL (a worker already gone
// is Ok); Sample reads the table, with the CPU and memory figures a test set. Bodies never run.
// Thread-safe.
class FakeWorkerProcesses : public WorkerProcesses {
 public:
  static constexpr long kTicksPerSecond = 100;

  struct Started {
    ProcessInfo worker;
    WorkerSetup setup;
  };

  explicit FakeWorkerProcesses(FakeProcessTable& table) : table_(table) {}

  // What Sample says about `pid` from now on (the state comes from the table).
  void SetSample(pid_t pid, const WorkerSample& sample);
  // Every later Start fails with `status` before any worker exists (Ok: no longer).
  void FailStarts(Status status);
  std::vector<Started> started() const;

  Result<ProcessInfo> Start(const WorkerSetup& setup, WorkerBody body, const void* arg,
                            WorkerRecorder& recorder) override;
  Status Kill(pid_t pid, unsigned long long start_ticks,
              std::chrono::milliseconds timeout) override;
  Result<WorkerSample> Sample(pid_t pid, unsigned long long start_ticks) override;
  long TicksPerSecond() override { return kTicksPerSecond; }

 private:
  FakeProcessTable& table_;
  mutable std::mutex mu_;
  pid_t next_pid_ = 5000;
  Status start_failure_;
  std::vector<Started> started_;
  std::map<pid_t, WorkerSample> samples_;
};

}  // namespace ringfence::testing
