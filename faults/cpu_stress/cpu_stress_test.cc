#include <gtest/gtest.h>

#include "core/fault/fault.h"
#include "core/sys/system_env.h"
#include "core/sys/system_process_table.h"
#include "faults/common/worker_group.h"
#include "faults/cpu_stress/cpu_stress.h"
#include "tests/support/fake_clock.h"

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

}  // namespace
}  // namespace ringfence
