#include "faults/bad_update/bad_update.h"

#include <gtest/gtest.h>

#include "core/fault/fault.h"
#include "tests/support/fake_env.h"

namespace ringfence {
namespace {

// bad_update driven through the fake Env alone: the hosts file, the artifacts and the hosts'
// files are in the fake file system, the deploy and rollback commands copy there, and a host is
// healthy (HTTP 200) while its file is the good one. Nothing real is touched.
class BadUpdateFakeEnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    files_.AddFile("/etc/fleet/hosts.json", nlohmann::json::array({Host(0), Host(1)}).dump());
    files_.AddFile("/etc/fleet/good.txt", "good");
    files_.AddFile("/etc/fleet/bad.txt", "bad");
    files_.AddFile("/srv/h0/app.txt", "good");
    files_.AddFile("/srv/h1/app.txt", "good");
    // "cp FROM TO" within the fake file system.
    system_env_.OnCommand([this](const testing::FakeEnv::CommandCall& call) {
      CommandResult result;
      auto bytes = files_.ReadFile(call.argv.at(1), 1 << 20);
      result.exit_code = bytes.ok() && files_.WriteFile(call.argv.at(2), *bytes).ok() ? 0 : 1;
      return Result<CommandResult>(result);
    });
    system_env_.OnHttp([this](const HttpRequest& request) {
      const std::string host = request.url.substr(7, 2);  // "http://h0/health"
      HttpResponse response;
      response.status = files_.Content("/srv/" + host + "/app.txt") == "good" ? 200 : 500;
      response.body = R"({"pid": 7})";
      return Result<HttpResponse>(response);
    });
  }

  static nlohmann::json Host(int i) {
    const std::string h = "h" + std::to_string(i);
    return {
        {"name", h}, {"path", "/srv/" + h + "/app.txt"}, {"health_url", "http://" + h + "/health"}};
  }

  std::unique_ptr<Fault> Create() {
    FaultStep step;
    step.name = "update";
    step.type = "bad_update";
    step.params = {{"hosts_file", "/etc/fleet/hosts.json"},
                   {"artifact", "/etc/fleet/good.txt"},
                   {"bad_artifact", "/etc/fleet/bad.txt"},
                   {"deploy", {"cp", "{artifact}", "{path}"}},
                   {"rollback", {"cp", "{backup}", "{path}"}},
                   {"waves", {1, "100%"}},
                   {"bake", "1s"},
                   {"gate_interval", "100ms"},
                   {"max_blast_radius", 0.5}};
    return BadUpdateFactory().Create(step, TargetSpec{});
  }

  testing::FakeEnv system_env_;
  testing::FakeFileSystem& files_ = system_env_.fake_files();
  StopSource stop_;
  FaultEnv env_{system_env_, stop_, "run1"};
  Target host_{"local", {}, "fleet"};
};

TEST_F(BadUpdateFakeEnvTest, StopsTheRolloutAtTheFirstUnhealthyWaveAndRestoresTheHost) {
  auto fault = Create();
  ASSERT_TRUE(fault->Prepare(env_, {host_}).ok());
  auto undo = fault->PlanUndo(env_, host_);
  ASSERT_TRUE(undo.ok()) << undo.status().message();
  const std::string work_dir = undo->data["work_dir"].get<std::string>();
  EXPECT_FALSE(files_.Exists(work_dir));  // PlanUndo writes nothing

  ASSERT_TRUE(fault->Inject(env_, host_, *undo).ok());
  EXPECT_EQ(files_.Mode(work_dir), 0700u);
  EXPECT_EQ(files_.Content(work_dir + "/artifact"), "bad");
  // The first wave (one host) got the bad artifact, failed its gate and was rolled back from its
  // backup; the second wave never started.
  const std::vector<std::string> commands = system_env_.command_lines();
  ASSERT_EQ(commands.size(), 2u);
  const std::string path = commands[0].substr(commands[0].rfind(' ') + 1);
  EXPECT_EQ(commands[0], "cp " + work_dir + "/artifact " + path);
  const std::string backup = work_dir + "/backup-" + (path == "/srv/h0/app.txt" ? "0" : "1");
  EXPECT_EQ(commands[1], "cp " + backup + " " + path);
  EXPECT_EQ(files_.Content("/srv/h0/app.txt"), "good");
  EXPECT_EQ(files_.Content("/srv/h1/app.txt"), "good");
  EXPECT_FALSE(files_.Exists(backup));  // removed once the host matched again

  const nlohmann::json observed = fault->Observe(env_);
  EXPECT_EQ(observed["detected_in_wave"], 1) << observed.dump(2);
  EXPECT_TRUE(fault->ExpectationMet()) << fault->ExpectationDetail();

  ASSERT_TRUE(BadUpdateFactory().Revert(env_, *undo).ok());
  EXPECT_FALSE(files_.Exists(work_dir));
  EXPECT_EQ(files_.log().back(), "remove-tree " + work_dir);
  EXPECT_EQ(system_env_.commands().size(), 2u);  // nothing left to roll back
  const Verification verified = BadUpdateFactory().Verify(env_, *undo);
  EXPECT_TRUE(verified.verified) << verified.found;
  EXPECT_EQ(verified.found, "all 2 hosts have their artifact's checksum from before the rollout");
}

TEST_F(BadUpdateFakeEnvTest, RevertRollsBackAHostLeftOnTheBadArtifact) {
  auto fault = Create();
  ASSERT_TRUE(fault->Prepare(env_, {host_}).ok());
  auto undo = fault->PlanUndo(env_, host_);
  ASSERT_TRUE(undo.ok());
  const std::string work_dir = undo->data["work_dir"].get<std::string>();
  // As if the runner died mid-rollout: h1 backed up and deployed, nothing rolled back.
  files_.AddFile(work_dir + "/backup-1", "good");
  files_.AddFile("/srv/h1/app.txt", "bad");
  const Verification before = BadUpdateFactory().Verify(env_, *undo);
  EXPECT_FALSE(before.verified);

  ASSERT_TRUE(BadUpdateFactory().Revert(env_, *undo).ok());
  EXPECT_EQ(system_env_.command_lines(),
            std::vector<std::string>{"cp " + work_dir + "/backup-1 /srv/h1/app.txt"});
  EXPECT_EQ(files_.Content("/srv/h1/app.txt"), "good");
  EXPECT_FALSE(files_.Exists(work_dir));
  EXPECT_TRUE(BadUpdateFactory().Verify(env_, *undo).verified);
}

}  // namespace
}  // namespace ringfence
