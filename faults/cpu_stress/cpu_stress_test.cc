#include <gtest/gtest.h>

#include "core/fault/fault.h"
#include "core/sys/system_env.h"
#include "core/sys/system_process_table.h"
#include "faults/common/worker_group.h"
#include "faults/cpu_stress/cpu_stress.h"
#include "tests/support/fake_clock.h"
#include "tests/support/fake_env.h"

namespace ringfence {
namespace {

std::vector<std::string> ConfigErrors(const nlohmann::json& params) {
  ValidationErrors errors;
  CpuStressFactory().ValidateConfig(params, "/method/0/params", errors);
  return errors.Format("exp.json");
}

TEST(CpuStressTest, IsRegisteredAsHostFault) {
  const FaultFactory* f = FaultRegistry::Global().Find("cpu_stress");
  ASSERT_NE(f, nullptr);
  EXPECT_NE(dynamic_cast<const CpuStressFactory*>(f), nullptr);
  EXPECT_EQ(f->Declaration().target_kind, TargetKind::kHost);
}

TEST(CpuStressTest, DeclaresLimitsAndDefaults) {
  const FaultDecl& decl = CpuStressFactory().Declaration();
  ASSERT_EQ(decl.params.size(), 4u);
  EXPECT_EQ(decl.params[0].name, "workers");
  EXPECT_EQ(decl.params[0].min, 1);
  EXPECT_TRUE(decl.params[0].default_value.is_null());
  EXPECT_EQ(decl.params[1].name, "load");
  EXPECT_EQ(decl.params[1].min, 1);
  EXPECT_EQ(decl.params[1].max, 100);
  EXPECT_EQ(decl.params[1].default_value, 100);
  EXPECT_EQ(decl.params[2].name, "cpus");
  EXPECT_EQ(decl.params[3].name, "cgroup");
  EXPECT_EQ(decl.params[3].default_value, false);
}

TEST(CpuStressTest, ParsesCpuLists) {
  EXPECT_EQ(*ParseCpuList("0"), std::vector<int>{0});
  EXPECT_EQ(*ParseCpuList("0-3"), (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(*ParseCpuList("0,2-3,2"), (std::vector<int>{0, 2, 3}));
  EXPECT_EQ(*ParseCpuList("1023"), std::vector<int>{1023});
  for (const char* bad : {"", "a", "1-", "-1", "3-1", "1,,2", "1024", "0x1", " 1", "1,"}) {
    EXPECT_FALSE(ParseCpuList(bad).ok()) << bad;
  }
  EXPECT_EQ(FormatCpuList({0, 1, 2, 5, 7, 8}), "0-2,5,7-8");
  EXPECT_EQ(FormatCpuList({}), "");
}

TEST(CpuStressTest, ConfigChecksTheCpuList) {
  EXPECT_EQ(ConfigErrors({{"load", 50}, {"cpus", "0-a"}}),
            std::vector<std::string>{"exp.json: /method/0/params/cpus: \"0-a\": a CPU list such "
                                     "as \"0\", \"0-3\" or \"0,2-3\" (CPUs 0-1023)"});
  EXPECT_TRUE(ConfigErrors({{"load", 50}, {"cpus", "0,1"}}).empty());
  EXPECT_TRUE(ConfigErrors({{"load", 50}}).empty());
}

TEST(CpuStressTest, ConfigTakesItsDefaultsFromTheDeclaration) {
  const CpuStressConfig config = CpuStressConfig::FromParams(nlohmann::json::object());
  EXPECT_FALSE(config.workers);
  EXPECT_EQ(config.load, 100);
  EXPECT_TRUE(config.cpus.empty());
  EXPECT_FALSE(config.cgroup);
  const CpuStressConfig given = CpuStressConfig::FromParams(
      {{"workers", 3}, {"load", 40}, {"cpus", "0,2-3"}, {"cgroup", true}});
  EXPECT_EQ(given.workers, 3);
  EXPECT_EQ(given.load, 40);
  EXPECT_EQ(given.cpus, (std::vector<int>{0, 2, 3}));
  EXPECT_TRUE(given.cgroup);
}

TEST(CpuStressTest, PlanUndoNamesTheWorkersFileAndCgroupWithoutCreatingThem) {
  FaultStep step;
  step.name = "burn";
  step.type = "cpu_stress";
  step.params = {{"load", 50}, {"cgroup", false}};
  auto table = MakeSystemProcessTable();
  testing::FakeClock clock;
  StopSource stop;
  SystemEnv system_env{*table, clock};
  FaultEnv env{system_env, stop, "unit run"};
  auto fault = CpuStressFactory().Create(step, TargetSpec{});
  auto undo = fault->PlanUndo(env, Target{"local", {}, "host local"});
  ASSERT_TRUE(undo.ok());
  const std::string file = undo->data["workers_file"].get<std::string>();
  EXPECT_EQ(file.rfind(std::string(kWorkerStateDir) + "/unit_run-cpu_stress-", 0), 0u) << file;
  EXPECT_TRUE(undo->data["cgroup"].is_null());
  EXPECT_NE(::access(file.c_str(), F_OK), 0);
  EXPECT_EQ(undo->manual_undo,
            "while read pid ticks; do [ \"$(cut -d' ' -f22 /proc/$pid/stat 2>/dev/null)\" = "
            "\"$ticks\" ] && kill -9 $pid; done < '" +
                file + "'; rm -f '" + file + "'");
}

TEST(CpuStressTest, RevertOfNothingIsOkAndACorruptRecordIsNot) {
  auto table = MakeSystemProcessTable();
  testing::FakeClock clock;
  StopSource stop;
  SystemEnv system_env{*table, clock};
  FaultEnv env{system_env, stop};
  UndoRecord undo;
  undo.data = {{"workers_file", "/nonexistent-ringfence/x.workers"}, {"cgroup", nullptr}};
  EXPECT_TRUE(CpuStressFactory().Revert(env, undo).ok());
  undo.data = {{"cgroup", nullptr}};
  Status s = CpuStressFactory().Revert(env, undo);
  EXPECT_EQ(s.code(), StatusCode::kInvalidInput);
  EXPECT_EQ(s.message(), "cpu_stress: undo record has no workers_file: {\"cgroup\":null}");
}

TEST(WorkerGroupTest, ManualUndoAlsoEmptiesAndRemovesTheCgroup) {
  WorkerGroupPlan plan{"/run/ringfence/r-cpu_stress-0.workers", "/sys/fs/cgroup/cpu/ringfence-r"};
  EXPECT_EQ(plan.ManualUndo(),
            "while read pid ticks; do [ \"$(cut -d' ' -f22 /proc/$pid/stat 2>/dev/null)\" = "
            "\"$ticks\" ] && kill -9 $pid; done < '/run/ringfence/r-cpu_stress-0.workers'; "
            "rm -f '/run/ringfence/r-cpu_stress-0.workers'; "
            "xargs -r kill -9 < '/sys/fs/cgroup/cpu/ringfence-r/cgroup.procs'; "
            "rmdir '/sys/fs/cgroup/cpu/ringfence-r'");
  auto back = WorkerGroupPlan::FromJson(plan.ToJson());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->workers_file, plan.workers_file);
  EXPECT_EQ(back->cgroup_dir, plan.cgroup_dir);
}

TEST(WorkerGroupTest, SanitizesRunIds) {
  EXPECT_EQ(SanitizeRunId("2026-11-21T16:27 a/b"), "2026-11-21T16_27_a_b");
  EXPECT_EQ(SanitizeRunId(""), "run");
  EXPECT_EQ(SanitizeRunId(std::string(60, 'x')).size(), 48u);
}

std::unique_ptr<Fault> CreateBurn(const nlohmann::json& params) {
  FaultStep step;
  step.name = "burn";
  step.type = "cpu_stress";
  step.params = params;
  return CpuStressFactory().Create(step, TargetSpec{});
}

// cpu_stress driven through the fake Env alone: workers are entries of the fake process table,
// the workers file and the cgroup live in the fake file system.
TEST(CpuStressFakeEnvTest, StartsRecordedWorkersInTheirCgroupAndRevertKillsThem) {
  testing::FakeEnv system_env;
  testing::FakeFileSystem& files = system_env.fake_files();
  files.AddDirectory("/run");
  files.AddFile("/proc/self/cgroup", "5:cpu,cpuacct:/runner\n0::/user.slice\n");
  files.AddFile("/sys/fs/cgroup/cpu/runner/cgroup.procs", "1\n");
  StopSource stop;
  FaultEnv env{system_env, stop, "run1"};
  const Target host{"local", {}, "host local"};
  auto fault = CreateBurn({{"workers", 2}, {"load", 50}, {"cgroup", true}});

  ASSERT_TRUE(fault->Prepare(env, {host}).ok());
  auto undo = fault->PlanUndo(env, host);
  ASSERT_TRUE(undo.ok()) << undo.status().message();
  const std::string file = undo->data["workers_file"].get<std::string>();
  const std::string cgroup = undo->data["cgroup"].get<std::string>();
  EXPECT_EQ(file.rfind("/run/ringfence/run1-cpu_stress-", 0), 0u) << file;
  EXPECT_EQ(cgroup.rfind("/sys/fs/cgroup/cpu/runner/ringfence-run1-cpu_stress-", 0), 0u) << cgroup;
  EXPECT_TRUE(files.log().empty());  // PlanUndo creates nothing

  ASSERT_TRUE(fault->Inject(env, host, *undo).ok());
  EXPECT_EQ(files.log(),
            (std::vector<std::string>{"mkdir /run/ringfence 0700", "create " + file + " 0600",
                                      "mkdir " + cgroup + " 0755", "write " + file + " 12",
                                      "sync " + file, "write " + file + " 12", "sync " + file}));
  // Each worker is in the file (pid and start time) before its body may start.
  EXPECT_EQ(files.Content(file), "5000 500000\n5001 500100\n");
  const auto started = system_env.fake_workers().started();
  ASSERT_EQ(started.size(), 2u);
  for (const auto& worker : started) {
    EXPECT_EQ(worker.setup.comm, "ringfence-cpu");
    EXPECT_EQ(worker.setup.oom_score_adj, 1000);
    EXPECT_EQ(worker.setup.cgroup_dir, cgroup);
    EXPECT_FALSE(worker.setup.cpu);
  }
  EXPECT_TRUE(system_env.fake_processes().Has(5000));
  EXPECT_EQ(CpuStressFactory().Verify(env, *undo).found, "workers still running: pid 5000, 5001");

  // One second later each worker has used half a second of CPU.
  system_env.fake_clock().Advance(std::chrono::seconds(1));
  system_env.fake_workers().SetSample(5000, {50, 0, 0, 'R'});
  system_env.fake_workers().SetSample(5001, {50, 0, 0, 'R'});
  const nlohmann::json observed = fault->Observe(env);
  EXPECT_EQ(observed["load_achieved"], 50.0) << observed.dump();
  EXPECT_EQ(observed["workers"][1]["pid"], 5001);
  EXPECT_EQ(observed["cgroup"], cgroup);

  ASSERT_TRUE(CpuStressFactory().Revert(env, *undo).ok());
  EXPECT_EQ(system_env.fake_processes().signals(),
            (std::vector<testing::FakeProcessTable::SignalCall>{{5000, 500000, SIGKILL},
                                                                {5001, 500100, SIGKILL}}));
  EXPECT_FALSE(system_env.fake_processes().Has(5000));
  EXPECT_FALSE(files.Exists(file));
  EXPECT_FALSE(files.Exists(cgroup));
  EXPECT_FALSE(files.Exists("/run/ringfence"));  // the last workers file in it
  const Verification verified = CpuStressFactory().Verify(env, *undo);
  EXPECT_TRUE(verified.verified) << verified.found;
  EXPECT_EQ(verified.found,
            "0 listed workers dead, workers file gone, cgroup " + cgroup + " removed");
  // Idempotent.
  EXPECT_TRUE(CpuStressFactory().Revert(env, *undo).ok());
  EXPECT_EQ(system_env.fake_processes().signals().size(), 2u);
}

TEST(CpuStressFakeEnvTest, NeverReusesAPlantedWorkersFile) {
  testing::FakeEnv system_env;
  StopSource stop;
  FaultEnv env{system_env, stop, "run1"};
  const Target host{"local", {}, "host local"};
  auto fault = CreateBurn({{"workers", 1}});
  auto undo = fault->PlanUndo(env, host);
  ASSERT_TRUE(undo.ok());
  const std::string file = undo->data["workers_file"].get<std::string>();
  system_env.fake_files().AddFile(file, "1 100\n");  // e.g. naming init, planted in between
  EXPECT_EQ(fault->Inject(env, host, *undo).message(), "create " + file + ": File exists");
  EXPECT_TRUE(system_env.fake_workers().started().empty());
}

}  // namespace
}  // namespace ringfence
