#include "tests/support/fake_worker_processes.h"

#include <signal.h>

namespace ringfence::testing {

void FakeWorkerProcesses::SetSample(pid_t pid, const WorkerSample& sample) {
  std::lock_guard<std::mutex> lock(mu_);
  samples_[pid] = sample;
}

void FakeWorkerProcesses::FailStarts(Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  start_failure_ = std::move(status);
}

std::vector<FakeWorkerProcesses::Started> FakeWorkerProcesses::started() const {
  std::lock_guard<std::mutex> lock(mu_);
  return started_;
}

Result<ProcessInfo> FakeWorkerProcesses::Start(const WorkerSetup& setup, WorkerBody body,
                                               const void* arg, WorkerRecorder& recorder) {
  (void)body, (void)arg;
  pid_t pid = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!start_failure_.ok()) return start_failure_;
    pid = next_pid_++;
  }
  const ProcessInfo worker = table_.Add(pid, setup.comm);
  Status recorded = recorder.Record(worker);
  if (!recorded.ok()) {
    table_.Remove(pid);
    return recorded;
  }
  std::lock_guard<std::mutex> lock(mu_);
  started_.push_back({worker, setup});
  return worker;
}

Status FakeWorkerProcesses::Kill(pid_t pid, unsigned long long start_ticks,
                                 std::chrono::milliseconds timeout) {
  Status s = table_.Signal(pid, start_ticks, SIGKILL);
  if (s.code() == StatusCode::kNotFound) return Status::Ok();
  if (!s.ok()) return s;
  if (!table_.WaitExit(pid, start_ticks, timeout)) {
    return Status::Timeout("worker " + std::to_string(pid) + " did not exit within " +
                           std::to_string(timeout.count()) + " ms of SIGKILL");
  }
  return Status::Ok();
}

Result<WorkerSample> FakeWorkerProcesses::Sample(pid_t pid, unsigned long long start_ticks) {
  auto process = table_.Get(pid);
  if (!process.ok() || process->start_ticks != start_ticks || process->state == 'Z') {
    return Status::NotFound("worker " + std::to_string(pid) + " is gone");
  }
  std::lock_guard<std::mutex> lock(mu_);
  WorkerSample sample = samples_[pid];
  sample.state = process->state;
  return sample;
}

}  // namespace ringfence::testing
