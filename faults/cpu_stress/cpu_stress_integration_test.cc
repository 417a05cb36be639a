#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "core/fault/fault.h"
#include "core/sys/system_clock.h"
#include "core/sys/system_env.h"
#include "core/sys/system_file_system.h"
#include "core/sys/system_process_table.h"
#include "core/sys/system_worker_processes.h"
#include "faults/common/worker_group.h"
#include "faults/cpu_stress/cpu_stress.h"
#include "tests/support/processes.h"

namespace ringfence {
namespace {

Result<WorkerSample> SampleWorker(const ProcessRef& worker) {
  return SystemWorkerProcesses().Sample(worker.pid, worker.start_ticks);
}

bool Exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

std::string StatusField(pid_t pid, const std::string& key) {
  std::istringstream in(testing::ReadFile("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) == 0) {
      std::string value = line.substr(key.size() + 1);
      return value.substr(value.find_first_not_of(" \t"));
    }
  }
  return "";
}

// Drives cpu_stress as the engine does and reverts whatever the test leaves injected, so that
// no worker, workers file or cgroup outlives a failing test.
class CpuStressIntegrationTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (const auto& undo : undos_) EXPECT_TRUE(factory_.Revert(env_, undo).ok());
  }

  std::unique_ptr<Fault> Make(nlohmann::json params) {
    if (!params.contains("load")) params["load"] = 100;
    if (!params.contains("cgroup")) params["cgroup"] = false;
    FaultStep step;
    step.name = "burn";
    step.type = "cpu_stress";
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

  static std::vector<ProcessRef> Workers(const UndoRecord& undo) {
    return *ReadWorkersFile(SystemFileSystem(), undo.data["workers_file"].get<std::string>());
  }

  CpuStressFactory factory_;
  std::unique_ptr<ProcessTable> table_ = MakeSystemProcessTable();
  StopSource stop_;
  SystemEnv system_env_{*table_};
  FaultEnv env_{system_env_, stop_, "cpu-it-" + std::to_string(::getpid())};
  Target host_{"local", {}, "host local"};
  std::vector<UndoRecord> undos_;
};

TEST_F(CpuStressIntegrationTest, LoadsACpuAtTheDutyCycleAndRevertLeavesNothing) {
  auto fault = Make({{"workers", 1}, {"load", 50}});
  auto undo = Inject(*fault);
  ASSERT_TRUE(undo.ok()) << undo.status().message();
  auto workers = Workers(*undo);
  ASSERT_EQ(workers.size(), 1u);
  EXPECT_EQ(testing::ReadFile("/proc/" + std::to_string(workers[0].pid) + "/comm"),
            "ringfence-cpu\n");
  EXPECT_EQ(testing::ReadFile("/proc/" + std::to_string(workers[0].pid) + "/oom_score_adj"),
            "1000\n");

  auto first = SampleWorker(workers[0]);
  ASSERT_TRUE(first.ok());
  const auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  auto second = SampleWorker(workers[0]);
  ASSERT_TRUE(second.ok());
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double load = 100.0 * static_cast<double>(second->cpu_ticks - first->cpu_ticks) /
                      static_cast<double>(SystemWorkerProcesses().TicksPerSecond()) / wall;
  // Clearly busy, and clearly not spinning all the time.
  EXPECT_GT(load, 20) << load;
  EXPECT_LT(load, 80) << load;

  nlohmann::json observed = fault->Observe(env_);
  EXPECT_EQ(observed["load_requested"], 50);
  ASSERT_EQ(observed["workers"].size(), 1u);
  EXPECT_EQ(observed["workers"][0]["pid"], workers[0].pid);
  EXPECT_GT(observed["load_achieved"].get<double>(), 20);

  ASSERT_TRUE(factory_.Revert(env_, *undo).ok());
  EXPECT_FALSE(SampleWorker(workers[0]).ok());
  EXPECT_FALSE(Exists("/proc/" + std::to_string(workers[0].pid)));  // killed and reaped
  EXPECT_FALSE(Exists(undo->data["workers_file"].get<std::string>()));
  EXPECT_TRUE(factory_.Revert(env_, *undo).ok());
  // The last observation keeps what was measured before the revert.
  EXPECT_GT(fault->Observe(env_)["workers"][0]["cpu_seconds"].get<double>(), 0);
}

TEST_F(CpuStressIntegrationTest, StartsOneWorkerPerCpuByDefault) {
  auto fault = Make({{"load", 5}});
  auto undo = Inject(*fault);
  ASSERT_TRUE(undo.ok()) << undo.status().message();
  EXPECT_EQ(Workers(*undo).size(), AllowedCpus().size());
  ASSERT_TRUE(factory_.Revert(env_, *undo).ok());
  for (const auto& w : Workers(*undo)) EXPECT_FALSE(Exists("/proc/" + std::to_string(w.pid)));
}

TEST_F(CpuStressIntegrationTest, PinsWorkersToTheGivenCpus) {
  const int cpu = AllowedCpus().back();
  auto fault = Make({{"workers", 2}, {"load", 5}, {"cpus", std::to_string(cpu)}});
  auto undo = Inject(*fault);
  ASSERT_TRUE(undo.ok()) << undo.status().message();
  auto workers = Workers(*undo);
  ASSERT_EQ(workers.size(), 2u);
  for (const auto& w : workers) {
    EXPECT_EQ(StatusField(w.pid, "Cpus_allowed_list"), std::to_string(cpu));
  }
  EXPECT_EQ(fault->Observe(env_)["workers"][1]["cpu"], cpu);
  ASSERT_TRUE(factory_.Revert(env_, *undo).ok());
}

TEST_F(CpuStressIntegrationTest, RefusesACpuItMayNotUse) {
  auto fault = Make({{"cpus", "1023"}});
  Status s = fault->Prepare(env_, {host_});
  EXPECT_EQ(s.code(), StatusCode::kInvalidInput);
  EXPECT_EQ(s.message(), "cpu_stress: cpu 1023 is not available to this process (available: " +
                             FormatCpuList(AllowedCpus()) + ")");
}

TEST_F(CpuStressIntegrationTest, PlacesWorkersInACgroupAndRemovesIt) {
  auto parent = OwnCgroupV1Dir(SystemFileSystem(), "cpu");
  if (!parent.ok()) GTEST_SKIP() << parent.status().message();
  auto fault = Make({{"workers", 1}, {"load", 5}, {"cgroup", true}});
  auto undo = Inject(*fault);
  ASSERT_TRUE(undo.ok()) << undo.status().message();
  const std::string cgroup = undo->data["cgroup"].get<std::string>();
  EXPECT_EQ(cgroup.rfind(*parent + "/ringfence-cpu-it-", 0), 0u) << cgroup;
  auto workers = Workers(*undo);
  ASSERT_EQ(workers.size(), 1u);
  EXPECT_EQ(testing::ReadFile(cgroup + "/cgroup.procs"), std::to_string(workers[0].pid) + "\n");
  EXPECT_EQ(fault->Observe(env_)["cgroup"], cgroup);

  ASSERT_TRUE(factory_.Revert(env_, *undo).ok());
  EXPECT_FALSE(Exists(cgroup));
  EXPECT_FALSE(Exists("/proc/" + std::to_string(workers[0].pid)));
}

TEST_F(CpuStressIntegrationTest, RevertFromTheRecordAloneKillsWorkersItDidNotStart) {
  auto fault = Make({{"workers", 2}, {"load", 5}});
  auto undo = Inject(*fault);
  ASSERT_TRUE(undo.ok()) << undo.status().message();
  auto workers = Workers(*undo);
  fault.reset();  // the Fault object is gone, as after a crash of the engine thread
  UndoRecord restored = UndoRecord::FromJson(nlohmann::json::parse(undo->ToJson().dump()));
  ASSERT_TRUE(CpuStressFactory().Revert(env_, restored).ok());
  for (const auto& w : workers) EXPECT_FALSE(SampleWorker(w).ok());
}

TEST_F(CpuStressIntegrationTest, NeverKillsAProcessThatReusedARecordedPid) {
  // A record naming a live process with another start time: revert must leave it alone.
  testing::SleepChildren sleeper(1);
  const pid_t pid = sleeper.pids()[0];
  auto process = table_->Get(pid);
  ASSERT_TRUE(process.ok());
  const std::string file =
      std::string(kWorkerStateDir) + "/cpu-it-reuse-" + std::to_string(::getpid()) + ".workers";
  ::mkdir(kWorkerStateDir, 0700);
  {
    std::ofstream out(file);
    out << pid << " " << (process->start_ticks + 1) << "\n";
  }
  UndoRecord undo;
  undo.data = WorkerGroupPlan{file, ""}.ToJson();
  EXPECT_TRUE(factory_.Revert(env_, undo).ok());
  EXPECT_FALSE(sleeper.Exited(pid));
  EXPECT_FALSE(Exists(file));
}

}  // namespace
}  // namespace ringfence

namespace ringfence {
namespace {

TEST(WorkerGroupIntegrationTest, NoWorkerStartsAfterTheGroupWasReverted) {
  SystemEnv system_env;
  WorkerGroup group(system_env, PlanWorkerGroup(SystemFileSystem(), "wg_test",
                                                "wg-" + std::to_string(::getpid()), ""));
  WorkerSetup setup;
  setup.comm = "ringfence-test";
  ASSERT_TRUE(group.Create().ok());
  auto first = group.Start(
      setup, [](const void*) { ::pause(); }, nullptr);
  ASSERT_TRUE(first.ok()) << first.status().message();
  // A revert (e.g. a guard breach) while the fault is still starting workers.
  ASSERT_TRUE(StopWorkerGroup(system_env, group.plan()).ok());
  EXPECT_FALSE(SampleWorker(*first).ok());
  auto second = group.Start(
      setup, [](const void*) { ::pause(); }, nullptr);
  EXPECT_EQ(second.status().message(), "reverted while its workers were starting");
  EXPECT_EQ(group.workers().size(), 1u);
  EXPECT_FALSE(Exists(group.plan().workers_file));
}

}  // namespace
}  // namespace ringfence
