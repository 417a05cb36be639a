#include "tests/support/fake_process_table.h"

#include <signal.h>

namespace ringfence::testing {

ProcessInfo FakeProcessTable::Add(pid_t pid, std::string name, std::string cmdline, uid_t uid,
                                  unsigned long long start_ticks, char state) {
  ProcessInfo p;
  p.pid = pid;
  p.start_ticks = start_ticks != 0 ? start_ticks : static_cast<unsigned long long>(pid) * 100;
  p.name = std::move(name);
  p.cmdline = cmdline.empty() ? p.name : std::move(cmdline);
  p.uid = uid;
  p.state = state;
  Add(p);
  return p;
}

void FakeProcessTable::Add(const ProcessInfo& process) {
  std::lock_guard<std::mutex> lock(mu_);
  processes_[process.pid] = process;
}

void FakeProcessTable::Remove(pid_t pid) {
  std::lock_guard<std::mutex> lock(mu_);
  processes_.erase(pid);
}

void FakeProcessTable::FailSignals(pid_t pid, Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  failures_[pid] = std::move(status);
}

void FakeProcessTable::IgnoreSignal(pid_t pid, int signo) {
  std::lock_guard<std::mutex> lock(mu_);
  ignored_.insert({pid, signo});
}

void FakeProcessTable::OnSignalExit(std::function<void(const ProcessInfo&, int)> callback) {
  std::lock_guard<std::mutex> lock(mu_);
  on_signal_exit_ = std::move(callback);
}

void FakeProcessTable::SetBootTime(WallTime boot_time) {
  std::lock_guard<std::mutex> lock(mu_);
  boot_time_ = boot_time;
}

unsigned long long FakeProcessTable::TicksAt(WallTime t) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - boot_time_).count();
  return static_cast<unsigned long long>(ms) * kTicksPerSecond / 1000;
}

std::vector<FakeProcessTable::SignalCall> FakeProcessTable::signals() const {
  std::lock_guard<std::mutex> lock(mu_);
  return signals_;
}

int FakeProcessTable::wait_exit_calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return wait_exit_calls_;
}

bool FakeProcessTable::Has(pid_t pid) const {
  std::lock_guard<std::mutex> lock(mu_);
  return processes_.count(pid) != 0;
}

char FakeProcessTable::StateOf(pid_t pid) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = processes_.find(pid);
  return it == processes_.end() ? '?' : it->second.state;
}

Result<std::vector<ProcessInfo>> FakeProcessTable::List() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ProcessInfo> out;
  for (const auto& [pid, p] : processes_) out.push_back(p);
  return out;
}

Result<ProcessInfo> FakeProcessTable::Get(pid_t pid) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = processes_.find(pid);
  if (it == processes_.end()) {
    return Status::NotFound("pid " + std::to_string(pid) + ": no such process");
  }
  return it->second;
}

Status FakeProcessTable::Signal(pid_t pid, unsigned long long start_ticks, int signo) {
  ProcessInfo gone;
  std::function<void(const ProcessInfo&, int)> callback;
  {
    std::lock_guard<std::mutex> lock(mu_);
    signals_.push_back({pid, start_ticks, signo});
    if (auto f = failures_.find(pid); f != failures_.end()) return f->second;
    auto it = processes_.find(pid);
    if (it == processes_.end() || it->second.start_ticks != start_ticks ||
        it->second.state == 'Z') {
      return Status::NotFound("pid " + std::to_string(pid) + ": no such process");
    }
    ProcessInfo& p = it->second;
    if (signo == 0) return Status::Ok();
    if (signo != SIGKILL && ignored_.count({pid, signo}) != 0) return Status::Ok();
    if (signo == SIGSTOP || signo == SIGTSTP) {
      p.state = 'T';
      return Status::Ok();
    }
    if (signo == SIGCONT) {
      if (p.state == 'T') p.state = 'S';
      return Status::Ok();
    }
    gone = p;
    processes_.erase(it);
    callback = on_signal_exit_;
  }
  if (callback) callback(gone, signo);
  return Status::Ok();
}

bool FakeProcessTable::WaitExit(pid_t pid, unsigned long long start_ticks,
                                std::chrono::milliseconds timeout) {
  (void)timeout;
  std::lock_guard<std::mutex> lock(mu_);
  ++wait_exit_calls_;
  auto it = processes_.find(pid);
  return it == processes_.end() || it->second.start_ticks != start_ticks;
}

std::chrono::system_clock::time_point FakeProcessTable::StartTime(unsigned long long start_ticks) {
  std::lock_guard<std::mutex> lock(mu_);
  return boot_time_ + std::chrono::milliseconds(start_ticks * 1000 / kTicksPerSecond);
}

}  // namespace ringfence::testing
