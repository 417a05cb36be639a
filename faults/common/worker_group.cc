#include "faults/common/worker_group.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
// glibc 2.36's <sys/pidfd.h> lacks the extern "C" guards.
extern "C" {
#include <sys/pidfd.h>
}

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <sstream>
#include <thread>

#include "core/base/shell_quote.h"

namespace ringfence {
namespace {

// Workers files, cgroup.procs and /proc/self/cgroup are small; a longer one is not ours.
constexpr size_t kMaxListBytes = 1 << 20;

bool Exists(FileSystem& files, const std::string& path) {
  FsEntry entry;
  return files.Lstat(path, entry) == 0;
}

std::string Dirname(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos || slash == 0 ? "/" : path.substr(0, slash);
}

std::vector<pid_t> ReadCgroupProcs(FileSystem& files, const std::string& cgroup_dir) {
  std::vector<pid_t> pids;
  auto text = files.ReadFile(cgroup_dir + "/cgroup.procs", kMaxListBytes);
  if (!text.ok()) return pids;
  std::istringstream in(*text);
  pid_t pid = 0;
  while (in >> pid) pids.push_back(pid);
  return pids;
}

// Kills what is still in the cgroup: only our workers can be there (they do not fork), but a
// pid read from cgroup.procs is pinned with a pidfd and confirmed by a second read before the
// signal, so that a pid reused in between is never hit.
void KillCgroupMembers(FileSystem& files, const std::string& cgroup_dir) {
  std::vector<std::pair<pid_t, int>> pinned;
  for (pid_t pid : ReadCgroupProcs(files, cgroup_dir)) {
    int fd = ::pidfd_open(pid, 0);
    if (fd >= 0) pinned.push_back({pid, fd});
  }
  const std::vector<pid_t> still = ReadCgroupProcs(files, cgroup_dir);
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

WorkerGroupPlan PlanWorkerGroup(FileSystem& files, const std::string& kind,
                                const std::string& run_id, const std::string& cgroup_parent,
                                const std::string& state_dir) {
  const std::string base = SanitizeRunId(run_id) + "-" + kind + "-";
  // Bounded: each try takes a fresh index, and only names that exist are skipped.
  for (int tries = 0;; ++tries) {
    const std::string n = std::to_string(next_group_index.fetch_add(1));
    WorkerGroupPlan plan;
    plan.workers_file = state_dir + "/" + base + n + ".workers";
    if (!cgroup_parent.empty()) plan.cgroup_dir = cgroup_parent + "/ringfence-" + base + n;
    bool taken = Exists(files, plan.workers_file) ||
                 (!plan.cgroup_dir.empty() && Exists(files, plan.cgroup_dir));
    if (!taken || tries == 1000) return plan;
  }
}

WorkerGroup::~WorkerGroup() = default;

Status WorkerGroup::Create() {
  const std::string dir = Dirname(plan_.workers_file);
  // Another group's revert may remove the shared directory between mkdir and open: retry.
  FileSystem& files = env_.files();
  for (int attempt = 0; attempt < 3 && !file_; ++attempt) {
    const int made = files.MakeDirectory(dir, 0700);
    if (made != 0 && made != EEXIST) return Status::FromErrno(made, "mkdir " + dir);
    const int err = files.CreateExclusive(plan_.workers_file, 0600, true, file_);
    if (err != 0 && err != ENOENT) return Status::FromErrno(err, "create " + plan_.workers_file);
  }
  if (!file_) return Status::Runtime("create " + plan_.workers_file + ": directory vanished");
  if (!plan_.cgroup_dir.empty()) {
    if (int err = files.MakeDirectory(plan_.cgroup_dir, 0755)) {
      return Status::FromErrno(err, "mkdir " + plan_.cgroup_dir);
    }
  }
  return Status::Ok();
}

// Under an exclusive flock, which StopWorkerGroup also takes: a worker is either in the file
// before a revert reads it, or refused here because the revert already removed the file.
Status WorkerGroup::Record(const ProcessInfo& worker) {
  if (!file_) return Status::Runtime("workers file " + plan_.workers_file + " is not open");
  if (int err = file_->Lock()) return Status::FromErrno(err, "lock " + plan_.workers_file);
  Status result;
  uint64_t links = 0;
  const std::string line =
      std::to_string(worker.pid) + " " + std::to_string(worker.start_ticks) + "\n";
  if (int err = file_->LinkCount(links)) {
    result = Status::FromErrno(err, "stat " + plan_.workers_file);
  } else if (links == 0) {
    result = Status::Runtime("reverted while its workers were starting");
  } else if (int err = file_->Write(line)) {
    result = Status::FromErrno(err, "write " + plan_.workers_file);
  } else if (int err = file_->SyncData()) {
    result = Status::FromErrno(err, "fsync " + plan_.workers_file);
  }
  file_->Unlock();
  return result;
}

Result<ProcessRef> WorkerGroup::Start(WorkerSetup setup, WorkerBody body, const void* arg) {
  setup.cgroup_dir = plan_.cgroup_dir;
  auto worker = env_.workers().Start(setup, body, arg, *this);
  if (!worker.ok()) return worker.status();
  workers_.push_back(ProcessRef::Of(*worker));
  return workers_.back();
}

Result<std::vector<ProcessRef>> ReadWorkersFile(FileSystem& files, const std::string& path) {
  std::vector<ProcessRef> refs;
  auto text = files.ReadFile(path, kMaxListBytes);
  if (!text.ok()) {
    if (!Exists(files, path)) return refs;
    return Status::Error(text.status().code(), "read " + path + ": " + text.status().message());
  }
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    ProcessRef ref;
    if (fields >> ref.pid >> ref.start_ticks) refs.push_back(ref);
  }
  return refs;
}

namespace {

Status StopLockedWorkerGroup(Env& env, const WorkerGroupPlan& plan) {
  FileSystem& files = env.files();
  auto refs = ReadWorkersFile(files, plan.workers_file);
  if (!refs.ok()) return refs.status();
  Status first_error;
  for (const ProcessRef& ref : *refs) {
    Status s = env.workers().Kill(ref.pid, ref.start_ticks);
    if (!s.ok() && first_error.ok()) first_error = s;
  }
  // The file stays while a worker may live, so that a later revert can try again.
  if (!first_error.ok()) return first_error;
  if (!plan.cgroup_dir.empty() && Exists(files, plan.cgroup_dir)) {
    KillCgroupMembers(files, plan.cgroup_dir);
    // A killed task leaves the cgroup asynchronously: bounded retries while it is busy.
    for (int attempt = 0;; ++attempt) {
      const int err = files.RemoveDirectory(plan.cgroup_dir);
      if (err == 0 || err == ENOENT) break;
      if (err != EBUSY || attempt == 100) return Status::FromErrno(err, "rmdir " + plan.cgroup_dir);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  const int err = files.Remove(plan.workers_file);
  if (err != 0 && err != ENOENT) return Status::FromErrno(err, "rm " + plan.workers_file);
  // Shared by all groups: removed when this was the last file in it.
  (void)files.RemoveDirectory(Dirname(plan.workers_file));
  return Status::Ok();
}

}  // namespace

Status StopWorkerGroup(Env& env, const WorkerGroupPlan& plan) {
  // Held until the file is removed, so that no worker is recorded in between (see Record).
  std::unique_ptr<FsFile> lock;
  const int opened = env.files().OpenForRead(plan.workers_file, lock);
  if (opened != 0 && opened != ENOENT) {
    return Status::FromErrno(opened, "open " + plan.workers_file);
  }
  if (lock) {
    if (int err = lock->Lock()) return Status::FromErrno(err, "lock " + plan.workers_file);
  }
  return StopLockedWorkerGroup(env, plan);
}

Verification VerifyWorkerGroupGone(Env& env, const WorkerGroupPlan& plan) {
  FileSystem& files = env.files();
  auto refs = ReadWorkersFile(files, plan.workers_file);
  if (!refs.ok()) return Verification::Unknown(refs.status().message());
  std::string alive;
  for (const ProcessRef& ref : *refs) {
    auto p = env.processes().Get(ref.pid);
    if (p.ok() && p->start_ticks == ref.start_ticks && p->state != 'Z') {
      alive += (alive.empty() ? "" : ", ") + std::to_string(ref.pid);
    }
  }
  if (!alive.empty()) return Verification::NotReverted("workers still running: pid " + alive);
  if (Exists(files, plan.workers_file)) {
    return Verification::NotReverted("workers file " + plan.workers_file + " still exists");
  }
  std::string found = std::to_string(refs->size()) + " listed workers dead, workers file gone";
  if (!plan.cgroup_dir.empty()) {
    if (Exists(files, plan.cgroup_dir)) {
      std::string members;
      for (pid_t pid : ReadCgroupProcs(files, plan.cgroup_dir)) {
        members += (members.empty() ? "" : ", ") + std::to_string(pid);
      }
      return Verification::NotReverted("cgroup " + plan.cgroup_dir + " still exists" +
                                       (members.empty() ? "" : " with pid " + members));
    }
    found += ", cgroup " + plan.cgroup_dir + " removed";
  }
  return Verification::Reverted(found);
}

Result<std::string> OwnCgroupV1Dir(FileSystem& files, const std::string& controller) {
  const std::string root = "/sys/fs/cgroup/" + controller;
  auto text = files.ReadFile("/proc/self/cgroup", kMaxListBytes);
  std::istringstream in(text.ok() ? *text : "");
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
    if (Exists(files, dir + "/cgroup.procs")) return dir;
  }
  return Status::Unavailable("no cgroup v1 " + controller + " controller mounted at " + root);
}

}  // namespace ringfence
