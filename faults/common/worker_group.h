#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/env.h"
#include "core/base/status.h"
#include "core/base/worker_processes.h"
#include "core/fault/fault.h"
#include "faults/common/process_ref.h"

namespace ringfence {

// The workers of one injection, named before any of them exists (in PlanUndo), so that the undo
// record alone can stop them from another process:
// - `workers_file`: every worker is appended to it ("<pid> <start_ticks>" per line, fsync'd)
//   before its body starts (see WorkerProcesses::Start);
// - `cgroup_dir` (optional): a cgroup v1 directory made for them; every worker joins it.
// In the undo record as {"workers_file": "...", "cgroup": "..." or null}.
struct WorkerGroupPlan {
  std::string workers_file;
  std::string cgroup_dir;  // empty: no cgroup

  nlohmann::json ToJson() const;
  // kInvalidInput when `data` has no workers_file (a corrupt or foreign record).
  static Result<WorkerGroupPlan> FromJson(const nlohmann::json& data);
  // A shell command that does what StopWorkerGroup does (kills only processes whose start time
  // still matches the file), for UndoRecord::manual_undo.
  std::string ManualUndo() const;
};

// Where workers files live. /run is a tmpfs: the files vanish at reboot, as do the workers.
inline constexpr char kWorkerStateDir[] = "/run/ringfence";

// Chooses names nobody uses yet: <state_dir>/<run>-<kind>-<n>.workers and, when `cgroup_parent`
// is not empty, <cgroup_parent>/ringfence-<run>-<kind>-<n>, with <run> the sanitized run id and
// <n> counting up within this process past names that exist (in `files`). Reads only; creates
// nothing.
WorkerGroupPlan PlanWorkerGroup(FileSystem& files, const std::string& kind,
                                const std::string& run_id, const std::string& cgroup_parent,
                                const std::string& state_dir = kWorkerStateDir);

// Starts the workers of one plan. Not thread-safe; used by one fault between Inject and its end.
// Destroying it closes the workers file but does not stop the workers: StopWorkerGroup (from the
// undo record) does. Its files and workers are made through `env`, which must outlive it.
class WorkerGroup : private WorkerRecorder {
 public:
  WorkerGroup(Env& env, WorkerGroupPlan plan) : env_(env), plan_(std::move(plan)) {}
  ~WorkerGroup() override;
  WorkerGroup(const WorkerGroup&) = delete;
  WorkerGroup& operator=(const WorkerGroup&) = delete;

  // Creates the workers file (it must not exist yet) and the cgroup directory.
  Status Create();
  // Starts one worker (WorkerProcesses::Start); `setup.cgroup_dir` is set to the plan's cgroup.
  Result<ProcessRef> Start(WorkerSetup setup, WorkerBody body, const void* arg);
  const std::vector<ProcessRef>& workers() const { return workers_; }
  const WorkerGroupPlan& plan() const { return plan_; }

 private:
  Status Record(const ProcessInfo& worker) override;

  Env& env_;
  WorkerGroupPlan plan_;
  std::unique_ptr<FsFile> file_;
  std::vector<ProcessRef> workers_;
};

// The revert of a worker group: kills (SIGKILL, by pid and start time) every worker in the file
// and every process left in the cgroup, waits for them to exit, reaps those that are children
// of this process, then removes the file and the cgroup. Idempotent: a missing file, cgroup or
// worker is Ok. kTimeout when a worker does not die, kRuntime when the cgroup stays busy.
Status StopWorkerGroup(Env& env, const WorkerGroupPlan& plan);

// The verification of a worker group's revert, from outside: every worker the file still lists
// is dead (gone, a zombie, or its pid reused), the workers file is gone (StopWorkerGroup removes
// it only once each worker was seen dead), and the cgroup directory is gone (which the kernel
// allows only once no task is left in it; when it still exists its members are listed).
Verification VerifyWorkerGroupGone(Env& env, const WorkerGroupPlan& plan);

// The workers a file lists; empty when the file does not exist.
Result<std::vector<ProcessRef>> ReadWorkersFile(FileSystem& files, const std::string& path);

// The directory of this process's own cgroup in the cgroup v1 hierarchy of `controller`,
// e.g. "/sys/fs/cgroup/cpu" or "/sys/fs/cgroup/cpu/runner". kUnavailable when this host has no
// cgroup v1 hierarchy for it mounted at /sys/fs/cgroup/<controller>.
Result<std::string> OwnCgroupV1Dir(FileSystem& files, const std::string& controller);

// The run id as a name part: [A-Za-z0-9_.-] kept, anything else '_', at most 48 characters.
std::string SanitizeRunId(const std::string& run_id);

}  // namespace ringfence
