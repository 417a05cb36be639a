#include "tests/support/child_processes.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

namespace ringfence::testing {

ChildProcesses::~ChildProcesses() {
  for (pid_t pid : pids_) {
    if (std::find(reaped_.begin(), reaped_.end(), pid) != reaped_.end()) continue;
    // The pid is still ours (not reaped), so it cannot have been reused.
    kill(pid, SIGKILL);
    kill(pid, SIGCONT);
    waitpid(pid, nullptr, 0);
  }
}

pid_t ChildProcesses::Spawn(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    execvp(args[0], args.data());
    _exit(127);
  }
  if (pid > 0) pids_.push_back(pid);
  return pid;
}

bool ChildProcesses::TryReap(pid_t pid, int* wait_status) {
  if (std::find(reaped_.begin(), reaped_.end(), pid) != reaped_.end()) return false;
  int status = 0;
  if (waitpid(pid, &status, WNOHANG) != pid) return false;
  reaped_.push_back(pid);
  if (wait_status != nullptr) *wait_status = status;
  return true;
}

bool ChildProcesses::ReapWithin(pid_t pid, int timeout_ms, int* wait_status) {
  for (int waited = 0; waited <= timeout_ms; waited += 10) {
    if (TryReap(pid, wait_status)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

std::string UniqueDigits() {
  // The pid padded to a fixed width keeps (pid, counter) pairs apart.
  static int counter = 0;
  char pid_digits[16];
  std::snprintf(pid_digits, sizeof pid_digits, "%07d", static_cast<int>(getpid()));
  return pid_digits + std::to_string(++counter);
}

char ProcState(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::stringstream text;
  text << in.rdbuf();
  const std::string s = text.str();
  const size_t close = s.rfind(')');
  if (close == std::string::npos || close + 2 >= s.size()) return '?';
  return s[close + 2];
}

}  // namespace ringfence::testing
