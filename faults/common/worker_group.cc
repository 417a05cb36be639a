#include "faults/common/worker_group.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
// glibc 2.36's <sys/pidfd.h> lacks the extern "C" guards.
extern "C" {
#include <sys/pidfd.h>
}
#include <sys/file.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/base/shell_quote.h"

namespace ringfence {
namespace {

bool Exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

std::string Dirname(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos || slash == 0 ? "/" : path.substr(0, slash);
}

std::vector<pid_t> ReadCgroupProcs(const std::string& cgroup_dir) {
  std::vector<pid_t> pids;
  std::ifstream in(cgroup_dir + "/cgroup.procs");
  pid_t pid = 0;
  while (in >> pid) pids.push_back(pid);
  return pids;
}

// Kills what is still in the cgroup: only our workers can be there (they do not fork), but a
// pid read from cgroup.procs is pinned with a pidfd and confirmed by a second read before the
// signal, so that a pid reused in between is never hit.
void KillCgroupMembers(const std::string& cgroup_dir) {
  std::vector<std::pair<pid_t, int>> pinned;
  for (pid_t pid : ReadCgroupProcs(cgroup_dir)) {
    int fd = ::pidfd_open(pid, 0);
    if (fd >= 0) pinned.push_back({pid, fd});
  }
  const std::vector<pid_t> still = ReadCgroupProcs(cgroup_dir);
  for (auto [pid, fd] : pinned) {
    if (std::find(still.begin(), still.end(), pid) != still.end()) {
      ::pidfd_send_signal(fd, SIGKILL, nullptr, 0);
      struct pollfd p {
        fd, POLLIN, 0
      };
      ::poll(&p, 1, 5000);
      siginfo_t info{};
      ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(fd), &info, WEXITED | WNOHANG);
    }
    ::close(fd);
  }
}

std::atomic<int> next_group_index{0};

}  // namespace

std::string SanitizeRunId(const std::string& run_id) {
  std::string out;
  for (char c : run_id) {
    if (out.size() == 48) break;
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '.' || c == '-';
    out += keep ? c : '_';
  }
  return out.empty() ? "run" : out;
}

nlohmann::json WorkerGroupPlan::ToJson() const {
  return {{"workers_file", workers_file},
          {"cgroup", cgroup_dir.empty() ? nlohmann::json(nullptr) : nlohmann::json(cgroup_dir)}};
}

Result<WorkerGroupPlan> WorkerGroupPlan::FromJson(const nlohmann::json& data) {
  if (!data.is_object() || !data.contains("workers_file") || !data["workers_file"].is_string() ||
      data["workers_file"].get<std::string>().empty()) {
    return Status::InvalidInput("undo record has no workers_file: " + data.dump());
  }
  WorkerGroupPlan plan;
  plan.workers_file = data["workers_file"].get<std::string>();
  if (data.contains("cgroup") && data["cgroup"].is_string()) {
    plan.cgroup_dir = data["cgroup"].get<std::string>();
  }
  return plan;
}

std::string WorkerGroupPlan::ManualUndo() const {
  const std::string file = ShellQuote(workers_file);
  std::string cmd =
      "while read pid ticks; do [ \"$(cut -d' ' -f22 /proc/$pid/stat 2>/dev/null)\" "
      "= \"$ticks\" ] && kill -9 $pid; done < " +
      file + "; rm -f " + file;
  if (!cgroup_dir.empty()) {
    cmd += "; xargs -r kill -9 < " + ShellQuote(cgroup_dir + "/cgroup.procs") + "; rmdir " +
           ShellQuote(cgroup_dir);
  }
  return cmd;
}

WorkerGroupPlan PlanWorkerGroup(const std::string& kind, const std::string& run_id,
                                const std::string& cgroup_parent, const std::string& state_dir) {
  const std::string base = SanitizeRunId(run_id) + "-" + kind + "-";
  // Bounded: each try takes a fresh index, and only names that exist are skipped.
  for (int tries = 0;; ++tries) {
    const std::string n = std::to_string(next_group_index.fetch_add(1));
    WorkerGroupPlan plan;
    plan.workers_file = state_dir + "/" + base + n + ".workers";
    if (!cgroup_parent.empty()) plan.cgroup_dir = cgroup_parent + "/ringfence-" + base + n;
    bool taken = Exists(plan.workers_file) || (!plan.cgroup_dir.empty() && Exists(plan.cgroup_dir));
    if (!taken || tries == 1000) return plan;
  }
}

WorkerGroup::~WorkerGroup() {
  if (fd_ >= 0) ::close(fd_);
}

Status WorkerGroup::Create() {
  const std::string dir = Dirname(plan_.workers_file);
  // Another group's revert may remove the shared directory between mkdir and open: retry.
  for (int attempt = 0; attempt < 3 && fd_ < 0; ++attempt) {
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return Status::FromErrno(errno, "mkdir " + dir);
    }
    fd_ = ::open(plan_.workers_file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC,
                 0600);
    if (fd_ < 0 && errno != ENOENT) return Status::FromErrno(errno, "create " + plan_.workers_file);
  }
  if (fd_ < 0) return Status::Runtime("create " + plan_.workers_file + ": directory vanished");
  if (!plan_.cgroup_dir.empty() && ::mkdir(plan_.cgroup_dir.c_str(), 0755) != 0) {
    return Status::FromErrno(errno, "mkdir " + plan_.cgroup_dir);
  }
  return Status::Ok();
}

// Under an exclusive flock, which StopWorkerGroup also takes: a worker is either in the file
// before a revert reads it, or refused here because the revert already removed the file.
Status WorkerGroup::Record(const ProcessRef& worker) {
  if (fd_ < 0) return Status::Runtime("workers file " + plan_.workers_file + " is not open");
  if (::flock(fd_, LOCK_EX) != 0) return Status::FromErrno(errno, "lock " + plan_.workers_file);
  Status result;
  struct stat st {};
  const std::string line =
      std::to_string(worker.pid) + " " + std::to_string(worker.start_ticks) + "\n";
  if (::fstat(fd_, &st) != 0) {
    result = Status::FromErrno(errno, "stat " + plan_.workers_file);
  } else if (st.st_nlink == 0) {
    result = Status::Runtime("reverted while its workers were starting");
  } else if (::write(fd_, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    result = Status::FromErrno(errno, "write " + plan_.workers_file);
  } else if (::fdatasync(fd_) != 0) {
    result = Status::FromErrno(errno, "fsync " + plan_.workers_file);
  }
  ::flock(fd_, LOCK_UN);
  return result;
}

Result<ProcessRef> WorkerGroup::Start(WorkerSetup setup, WorkerBody body, const void* arg) {
  setup.cgroup_dir = plan_.cgroup_dir;
  auto ref = StartWorker(setup, body, arg, *this);
  if (ref.ok()) workers_.push_back(*ref);
  return ref;
}

Result<std::vector<ProcessRef>> ReadWorkersFile(const std::string& path) {
  std::vector<ProcessRef> refs;
  std::ifstream in(path);
  if (!in) {
    if (!Exists(path)) return refs;
    return Status::FromErrno(errno, "read " + path);
  }
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    ProcessRef ref;
    if (fields >> ref.pid >> ref.start_ticks) refs.push_back(ref);
  }
  return refs;
}

namespace {

Status StopLockedWorkerGroup(const WorkerGroupPlan& plan) {
  auto refs = ReadWorkersFile(plan.workers_file);
  if (!refs.ok()) return refs.status();
  Status first_error;
  for (const ProcessRef& ref : *refs) {
    Status s = KillWorker(ref);
    if (!s.ok() && first_error.ok()) first_error = s;
  }
  // The file stays while a worker may live, so that a later revert can try again.
  if (!first_error.ok()) return first_error;
  if (!plan.cgroup_dir.empty() && Exists(plan.cgroup_dir)) {
    KillCgroupMembers(plan.cgroup_dir);
    // A killed task leaves the cgroup asynchronously: bounded retries while it is busy.
    for (int attempt = 0;; ++attempt) {
      if (::rmdir(plan.cgroup_dir.c_str()) == 0 || errno == ENOENT) break;
      if (errno != EBUSY || attempt == 100) {
        return Status::FromErrno(errno, "rmdir " + plan.cgroup_dir);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  if (::unlink(plan.workers_file.c_str()) != 0 && errno != ENOENT) {
    return Status::FromErrno(errno, "rm " + plan.workers_file);
  }
  // Shared by all groups: removed when this was the last file in it.
  ::rmdir(Dirname(plan.workers_file).c_str());
  return Status::Ok();
}

}  // namespace

Status StopWorkerGroup(const WorkerGroupPlan& plan) {
  // Held until the file is removed, so that no worker is recorded in between (see Record).
  int lock_fd = ::open(plan.workers_file.c_str(), O_RDONLY | O_CLOEXEC);
  if (lock_fd < 0 && errno != ENOENT) return Status::FromErrno(errno, "open " + plan.workers_file);
  if (lock_fd >= 0 && ::flock(lock_fd, LOCK_EX) != 0) {
    int err = errno;
    ::close(lock_fd);
    return Status::FromErrno(err, "lock " + plan.workers_file);
  }
  Status s = StopLockedWorkerGroup(plan);
  if (lock_fd >= 0) ::close(lock_fd);
  return s;
}

Verification VerifyWorkerGroupGone(const WorkerGroupPlan& plan, ProcessTable& processes) {
  auto refs = ReadWorkersFile(plan.workers_file);
  if (!refs.ok()) return Verification::Unknown(refs.status().message());
  std::string alive;
  for (const ProcessRef& ref : *refs) {
    auto p = processes.Get(ref.pid);
    if (p.ok() && p->start_ticks == ref.start_ticks && p->state != 'Z') {
      alive += (alive.empty() ? "" : ", ") + std::to_string(ref.pid);
    }
  }
  if (!alive.empty()) return Verification::NotReverted("workers still running: pid " + alive);
  if (Exists(plan.workers_file)) {
    return Verification::NotReverted("workers file " + plan.workers_file + " still exists");
  }
  std::string found = std::to_string(refs->size()) + " listed workers dead, workers file gone";
  if (!plan.cgroup_dir.empty()) {
    if (Exists(plan.cgroup_dir)) {
      std::string members;
      for (pid_t pid : ReadCgroupProcs(plan.cgroup_dir)) {
        members += (members.empty() ? "" : ", ") + std::to_string(pid);
      }
      return Verification::NotReverted("cgroup " + plan.cgroup_dir + " still exists" +
                                       (members.empty() ? "" : " with pid " + members));
    }
    found += ", cgroup " + plan.cgroup_dir + " removed";
  }
  return Verification::Reverted(found);
}

Result<std::string> OwnCgroupV1Dir(const std::string& controller) {
  const std::string root = "/sys/fs/cgroup/" + controller;
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    // "4:cpu,cpuacct:/path"; "0::/path" is cgroup v2.
    size_t first = line.find(':');
    size_t second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    std::stringstream controllers(line.substr(first + 1, second - first - 1));
    std::string c;
    bool match = false;
    while (std::getline(controllers, c, ',')) match = match || c == controller;
    if (!match) continue;
    std::string path = line.substr(second + 1);
    std::string dir = path == "/" ? root : root + path;
    if (Exists(dir + "/cgroup.procs")) return dir;
  }
  return Status::Unavailable("no cgroup v1 " + controller + " controller mounted at " + root);
}

}  // namespace ringfence
