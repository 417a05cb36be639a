#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sstream>

#include <gtest/gtest.h>

#include "core/fault/fault.h"
#include "core/sys/system_clock.h"
#include "core/sys/system_env.h"
#include "core/sys/system_file_system.h"
#include "core/sys/system_process_table.h"
#include "core/sys/system_worker_processes.h"
#include "faults/common/worker_group.h"
#include "faults/memory_stress/memory_stress.h"
#include "tests/support/processes.h"

namespace ringfence {
namespace {

Result<WorkerSample> SampleWorker(const ProcessRef& worker) {
  return SystemWorkerProcesses().Sample(worker.pid, worker.start_ticks);
}

constexpr uint64_t kMiB = 1 << 20;

bool Exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

uint64_t StatusKiB(pid_t pid, const std::string& key) {
  std::istringstream in(testing::ReadFile("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) == 0) return std::stoull(line.substr(key.size() + 1));
  }
  return 0;
}

class MemoryStressIntegrationTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (const auto& undo : undos_) EXPECT_TRUE(factory_.Revert(env_, undo).ok());
  }

  std::unique_ptr<Fault> Make(nlohmann::json params) {
    if (!params.contains("mlock")) params["mlock"] = false;
    FaultStep step;
    step.name = "hog";
    step.type = "memory_stress";
    step.params = params;
    return factory_.Create(step, TargetSpec{});
  }

  Result<UndoRecord> Inject(Fault& fault) {
    Status s = fault.Prepare(env_, {host_});
    if (!s.ok()) return s;
    auto undo = fault.PlanUndo(env_, host_);
    if (!undo.ok()) return undo.status();
    undos_.push_back(*undo);
    s = fault.Inject(env_, host_, *undo);
    if (!s.ok()) return s;
    return *undo;
  }

  static ProcessRef Worker(const UndoRecord& undo) {
    auto refs = *ReadWorkersFile(SystemFileSystem(), undo.data["workers_file"].get<std::string>());
    return refs.empty() ? ProcessRef{} : refs[0];
  }

  MemoryStressFactory factory_;
  std::unique_ptr<ProcessTable> table_ = MakeSystemProcessTable();
  StopSource stop_;
  SystemEnv system_env_{*table_};
  FaultEnv env_{system_env_, stop_, "mem-it-" + std::to_string(::getpid())};
  Target host_{"local", {}, "host local"};
  std::vector<UndoRecord> undos_;
};

TEST_F(MemoryStressIntegrationTest, HoldsTheMemoryAskedAndRevertFreesIt) {
  auto fault = Make({{"size", 64 * kMiB}});
  auto undo = Inject(*fault);
  ASSERT_TRUE(undo.ok()) << undo.status().message();
  const ProcessRef worker = Worker(*undo);
  ASSERT_GT(worker.pid, 0);
  EXPECT_TRUE(testing::Eventually([&] {
    auto s = SampleWorker(worker);
    return s.ok() && s->rss_bytes >= 60 * kMiB;
  }));
  EXPECT_EQ(testing::ReadFile("/proc/" + std::to_string(worker.pid) + "/oom_score_adj"), "1000\n");
  nlohmann::json observed = fault->Observe(env_);
  EXPECT_EQ(observed["requested_bytes"], 64 * kMiB);
  EXPECT_EQ(observed["pid"], worker.pid);
  EXPECT_GE(observed["rss_peak_bytes"].get<uint64_t>(), 60 * kMiB);

  ASSERT_TRUE(factory_.Revert(env_, *undo).ok());
  EXPECT_FALSE(Exists("/proc/" + std::to_string(worker.pid)));  // killed and reaped
  EXPECT_FALSE(Exists(undo->data["workers_file"].get<std::string>()));
  observed = fault->Observe(env_);
  EXPECT_EQ(observed["rss_bytes"], 0);
  EXPECT_GE(observed["rss_peak_bytes"].get<uint64_t>(), 60 * kMiB);
  EXPECT_TRUE(factory_.Revert(env_, *undo).ok());
}

TEST_F(MemoryStressIntegrationTest, GrowsAtARateAndLocksWhenAsked) {
  auto fault = Make({{"size", 16 * kMiB}, {"rate", 32 * kMiB}, {"mlock", true}});
  auto undo = Inject(*fault);
  ASSERT_TRUE(undo.ok()) << undo.status().message();
  const ProcessRef worker = Worker(*undo);
  EXPECT_TRUE(testing::Eventually([&] { return StatusKiB(worker.pid, "VmLck") >= 16 * 1024; }))
      << StatusKiB(worker.pid, "VmLck");
  ASSERT_TRUE(factory_.Revert(env_, *undo).ok());
  EXPECT_FALSE(SampleWorker(worker).ok());
}

TEST_F(MemoryStressIntegrationTest, RefusesMoreThanPhysicalMemoryAndStartsNothing) {
  auto info = ReadMemInfo(SystemFileSystem());
  ASSERT_TRUE(info.ok());
  const uint64_t size = info->total_bytes + 4096;
  auto fault = Make({{"size", size}});
  Status s = fault->Prepare(env_, {host_});
  EXPECT_EQ(s.code(), StatusCode::kInvalidInput);
  EXPECT_EQ(s.message(), "memory_stress: size " + std::to_string(size) +
                             " bytes is more than the physical memory of this host (" +
                             std::to_string(info->total_bytes) + " bytes)");
  // Inject checks again and starts nothing.
  auto undo = fault->PlanUndo(env_, host_);
  ASSERT_TRUE(undo.ok());
  EXPECT_EQ(fault->Inject(env_, host_, *undo).message(), s.message());
  EXPECT_FALSE(Exists(undo->data["workers_file"].get<std::string>()));
}

TEST_F(MemoryStressIntegrationTest, AWorkerDiesWithTheProcessThatStartedIt) {
  // This test becomes the orphaned worker's parent (a subreaper), so that it can reap it.
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t runner = ::fork();
  ASSERT_GE(runner, 0);
  if (runner == 0) {
    // A stand-in runner: injects, reports the record, and exits without reverting.
    ::close(pipe_fds[0]);
    auto fault = Make({{"size", 16 * kMiB}});
    auto undo = Inject(*fault);
    std::string report = undo.ok() ? undo->ToJson().dump() : "{}";
    ssize_t written = ::write(pipe_fds[1], report.data(), report.size());
    ::_exit(written == static_cast<ssize_t>(report.size()) ? 0 : 1);
  }
  ::close(pipe_fds[1]);
  std::string report;
  char buf[4096];
  for (ssize_t n; (n = ::read(pipe_fds[0], buf, sizeof buf)) > 0;) report.append(buf, n);
  ::close(pipe_fds[0]);
  int runner_status = 0;
  ASSERT_EQ(::waitpid(runner, &runner_status, 0), runner);
  EXPECT_EQ(runner_status, 0);

  const UndoRecord undo = UndoRecord::FromJson(nlohmann::json::parse(report));
  undos_.push_back(undo);
  const ProcessRef worker = Worker(undo);
  ASSERT_GT(worker.pid, 0);
  int status = 0;
  const bool reaped =
      testing::Eventually([&] { return ::waitpid(worker.pid, &status, WNOHANG) == worker.pid; });
  if (!reaped) {
    ::kill(worker.pid, SIGKILL);
    ::waitpid(worker.pid, nullptr, 0);
  }
  ::prctl(PR_SET_CHILD_SUBREAPER, 0);
  ASSERT_TRUE(reaped);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  // The dead runner left its workers file: the revert removes it, the dead worker is no error.
  EXPECT_TRUE(factory_.Revert(env_, undo).ok());
  EXPECT_FALSE(Exists(undo.data["workers_file"].get<std::string>()));
}

}  // namespace
}  // namespace ringfence
