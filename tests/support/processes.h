#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "tests/support/child_processes.h"

namespace ringfence::testing {

// A temporary directory, removed with everything in it when the object goes away.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }
  void Write(const std::string& name, const std::string& text) const;

 private:
  std::string path_;
};

// `sleep` children of the test with a unique command line (so a selector matches only them),
// started through ChildProcesses: killed (SIGCONT first) and reaped on destruction.
class SleepChildren {
 public:
  explicit SleepChildren(int n);
  const std::vector<pid_t>& pids() const { return children_.pids(); }
  // A regex that matches exactly these children's command lines.
  std::string cmdline_regex() const { return "^sleep " + marker_ + "$"; }
  // Reaps `pid` if it has exited; true when it is gone (and how, in *status).
  bool Exited(pid_t pid, int* status = nullptr);
  // The state letter from /proc/PID/stat ('T' when stopped), or '?' when gone.
  static char State(pid_t pid) { return ProcState(pid); }

 private:
  std::string marker_;
  ChildProcesses children_;
  std::map<pid_t, int> exited_;  // reaped children and their wait status
};

// The ringfence binary (or another program) run as a child with stdout and stderr in files.
class ChildRun {
 public:
  ChildRun(const std::vector<std::string>& argv, const std::string& workdir);
  ~ChildRun();  // kills it (SIGKILL) if still running, reaps it
  pid_t pid() const { return pid_; }
  // Waits (bounded) for the exit; returns the exit code, 128+signal if killed, -1 on timeout.
  int Wait(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  void Signal(int signo);
  std::string out() const;
  std::string err() const;

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  std::string out_path_, err_path_;
};

// Polls `pred` every 20 ms until it is true or `timeout` passes; returns its last value.
template <typename Pred>
bool Eventually(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Reads a whole file ("" when missing).
std::string ReadFile(const std::string& path);

}  // namespace ringfence::testing

#include <thread>

template <typename Pred>
bool ringfence::testing::Eventually(Pred pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}
