// `ringfence init`: every template it writes validates once its placeholders are filled, and
// fails, unfilled, only for its placeholders; an existing file is never overwritten.
#include <sys/stat.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "demo/demo_command.h"
#include "runner/commands/init_command.h"

#include "tests/support/processes.h"

namespace ringfence::testing {
namespace {

// Values for every placeholder the templates use; the bad-update rehearsal reads its hosts file
// and artifact while it validates, so they are real files in `dir`.
std::vector<std::string> FilledVars(const TempDir& dir) {
  nlohmann::json hosts = nlohmann::json::array();
  for (int i = 0; i < 10; ++i) {
    hosts.push_back({{"name", "web-" + std::to_string(i)},
                     {"path", dir.File("content-" + std::to_string(i) + ".txt")},
                     {"health_url", "http://127.0.0.1:9/health"}});
  }
  dir.Write("hosts.json", hosts.dump());
  dir.Write("good.txt", DemoGoodContent());
  std::vector<std::string> vars;
  for (const std::string& v : std::vector<std::string>{
           "service_cmdline=^/usr/sbin/nginx", "health_url=http://127.0.0.1:8080/health",
           "dependency_port=5432", "data_dir=/mnt/data", "hosts_file=" + dir.File("hosts.json"),
           "artifact=" + dir.File("good.txt"), "deploy_script=/usr/local/bin/deploy-content"}) {
    vars.push_back("--var");
    vars.push_back(v);
  }
  return vars;
}

TEST(InitCommandTest, EveryTemplateValidatesWithItsPlaceholdersFilled) {
  TempDir dir;
  const std::vector<std::string> vars = FilledVars(dir);
  ASSERT_EQ(InitTemplateNames(),
            (std::vector<std::string>{"bad-update-rehearsal", "disk-fill", "kill-and-restart",
                                      "latency-to-dependency", "pause"}));
  for (const auto& name : InitTemplateNames()) {
    SCOPED_TRACE(name);
    const std::string file = name + ".json";
    ChildRun init({RINGFENCE_BINARY, "init", "--template", name, "-o", file}, dir.path());
    ASSERT_EQ(init.Wait(), 0) << init.err();
    EXPECT_EQ(init.out(), "");
    EXPECT_NE(init.err().find("ringfence init: " + file + ": template " + name + "\n"),
              std::string::npos)
        << init.err();
    EXPECT_NE(init.err().find("  check it:        ringfence validate " + file), std::string::npos)
        << init.err();
    struct stat st {};
    ASSERT_EQ(::stat(dir.File(file).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0644u);
    EXPECT_EQ(ReadFile(dir.File(file)), FindInitTemplate(name)->text);

    std::vector<std::string> argv = {RINGFENCE_BINARY, "validate", file};
    argv.insert(argv.end(), vars.begin(), vars.end());
    ChildRun validate(argv, dir.path());
    EXPECT_EQ(validate.Wait(), 0) << validate.err();
    EXPECT_EQ(validate.out().rfind(file + ": ok (", 0), 0u) << validate.out();
  }
}

// Unfilled, a template is invalid only for its placeholders: one error per placeholder use,
// nothing else.
TEST(InitCommandTest, UnfilledTemplatesFailOnlyForTheirPlaceholders) {
  TempDir dir;
  for (const auto& t : InitTemplates()) {
    SCOPED_TRACE(t.name);
    dir.Write(t.name + ".json", t.text);
    ChildRun validate({RINGFENCE_BINARY, "validate", t.name + ".json"}, dir.path());
    EXPECT_EQ(validate.Wait(), 2);
    const std::string err = validate.err();
    ASSERT_FALSE(err.empty());
    size_t start = 0;
    while (start < err.size()) {
      const size_t end = err.find('\n', start);
      const std::string line = err.substr(start, end - start);
      EXPECT_NE(line.find(": a value for placeholder '"), std::string::npos) << line;
      start = end == std::string::npos ? err.size() : end + 1;
    }
    for (const auto& p : TemplatePlaceholders(t)) {
      EXPECT_NE(err.find("a value for placeholder '" + p + "'"), std::string::npos) << p;
    }
  }
}

TEST(InitCommandTest, PlaceholdersAreListedOnceInDocumentOrder) {
  EXPECT_EQ(TemplatePlaceholders(*FindInitTemplate("kill-and-restart")),
            (std::vector<std::string>{"service_cmdline", "health_url"}));
  EXPECT_EQ(TemplatePlaceholders(*FindInitTemplate("bad-update-rehearsal")),
            (std::vector<std::string>{"hosts_file", "artifact", "deploy_script"}));
}

TEST(InitCommandTest, DefaultsToKillAndRestartInExperimentJson) {
  TempDir dir;
  ChildRun init({RINGFENCE_BINARY, "init"}, dir.path());
  ASSERT_EQ(init.Wait(), 0) << init.err();
  EXPECT_EQ(ReadFile(dir.File("experiment.json")), FindInitTemplate("kill-and-restart")->text);
  EXPECT_NE(init.err().find("placeholders to fill (its description says what each one is): "
                            "${service_cmdline} ${health_url}\n"),
            std::string::npos)
      << init.err();
}

TEST(InitCommandTest, RefusesToOverwriteAnExistingFile) {
  TempDir dir;
  dir.Write("experiment.json", "mine");
  ChildRun init({RINGFENCE_BINARY, "init", "--template", "pause"}, dir.path());
  EXPECT_EQ(init.Wait(), 2);
  EXPECT_EQ(init.err(),
            "ringfence init: experiment.json exists; not overwritten (choose another -o FILE)\n");
  EXPECT_EQ(init.out(), "");
  EXPECT_EQ(ReadFile(dir.File("experiment.json")), "mine");

  // Nor through a symbolic link, dangling or not.
  ASSERT_EQ(::symlink(dir.File("elsewhere.json").c_str(), dir.File("link.json").c_str()), 0);
  ChildRun link({RINGFENCE_BINARY, "init", "-o", "link.json"}, dir.path());
  EXPECT_EQ(link.Wait(), 2);
  EXPECT_EQ(link.err(),
            "ringfence init: link.json exists; not overwritten (choose another -o FILE)\n");
  EXPECT_EQ(ReadFile(dir.File("elsewhere.json")), "");
}

TEST(InitCommandTest, DashWritesToStandardOutput) {
  TempDir dir;
  ChildRun init({RINGFENCE_BINARY, "init", "--template", "disk-fill", "-o", "-"}, dir.path());
  ASSERT_EQ(init.Wait(), 0) << init.err();
  EXPECT_EQ(init.out(), FindInitTemplate("disk-fill")->text);
  EXPECT_NE(init.err().find("ringfence init: stdout: template disk-fill\n"), std::string::npos);
  EXPECT_NE(init.err().find("  check it:        ringfence validate FILE --var health_url=... "
                            "--var data_dir=...\n"),
            std::string::npos)
      << init.err();
}

TEST(InitCommandTest, UnknownTemplateIsAUsageError) {
  TempDir dir;
  ChildRun init({RINGFENCE_BINARY, "init", "--template", "chaos"}, dir.path());
  EXPECT_EQ(init.Wait(), 2);
  EXPECT_EQ(init.err(),
            "ringfence init: --template \"chaos\": expected one of bad-update-rehearsal, "
            "disk-fill, kill-and-restart, latency-to-dependency, pause (see ringfence init "
            "--help)\n");
}

TEST(InitCommandTest, AFileThatCannotBeCreatedIsARuntimeError) {
  TempDir dir;
  ChildRun init({RINGFENCE_BINARY, "init", "-o", "no/such/dir/x.json"}, dir.path());
  EXPECT_EQ(init.Wait(), 3);
  EXPECT_EQ(init.err(),
            "ringfence init: cannot create no/such/dir/x.json: No such file or directory\n");
}

}  // namespace
}  // namespace ringfence::testing
