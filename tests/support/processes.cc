#include "tests/support/processes.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace ringfence::testing {

TempDir::TempDir() {
  char tmpl[] = "/tmp/ringfence-test-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void TempDir::Write(const std::string& name, const std::string& text) const {
  std::ofstream(File(name)) << text;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

SleepChildren::SleepChildren(int n) {
  // GNU sleep takes fractional seconds: a unique fraction marks these children.
  marker_ = "3600." + UniqueDigits();
  for (int i = 0; i < n; ++i) children_.Spawn({"sleep", marker_});
  // Wait until every child has exec'd, so that selectors see "sleep <marker>".
  for (pid_t pid : children_.pids()) {
    Eventually([pid] {
      return ReadFile("/proc/" + std::to_string(pid) + "/cmdline").rfind("sleep", 0) == 0;
    });
  }
}

bool SleepChildren::Exited(pid_t pid, int* status) {
  if (exited_.count(pid)) {
    if (status) *status = exited_[pid];
    return true;
  }
  int st = 0;
  if (!children_.TryReap(pid, &st)) return false;
  exited_[pid] = st;
  if (status) *status = st;
  return true;
}

ChildRun::ChildRun(const std::vector<std::string>& argv, const std::string& workdir) {
  out_path_ = workdir + "/child-" + std::to_string(reinterpret_cast<uintptr_t>(this)) + ".out";
  err_path_ = workdir + "/child-" + std::to_string(reinterpret_cast<uintptr_t>(this)) + ".err";
  pid_ = ::fork();
  if (pid_ == 0) {
    int out = ::open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(out, 1);
    ::dup2(err, 2);
    if (::chdir(workdir.c_str()) != 0) ::_exit(126);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
}

ChildRun::~ChildRun() {
  if (pid_ > 0 && !reaped_) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

int ChildRun::Wait(std::chrono::milliseconds timeout) {
  int status = 0;
  bool done = Eventually([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, timeout);
  if (!done) return -1;
  reaped_ = true;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

void ChildRun::Signal(int signo) {
  if (!reaped_) ::kill(pid_, signo);
}

std::string ChildRun::out() const { return ReadFile(out_path_); }
std::string ChildRun::err() const { return ReadFile(err_path_); }

}  // namespace ringfence::testing
