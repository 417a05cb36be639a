#include "core/targets/target_resolver.h"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "tests/support/fake_process_table.h"

namespace ringfence {
namespace {

using testing::FakeProcessTable;

std::vector<pid_t> Pids(const std::vector<ProcessInfo>& processes) {
  std::vector<pid_t> out;
  for (const auto& p : processes) out.push_back(p.pid);
  return out;
}

std::vector<pid_t> Pids(const std::vector<Target>& targets) {
  std::vector<pid_t> out;
  for (const auto& t : targets) out.push_back(t.process.pid);
  return out;
}

class TargetResolverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    table_.Add(1, "init", "/sbin/init");
    table_.Add(getpid(), "ringfence", "ringfence run exp.json");
    table_.Add(100, "nginx", "nginx: master process /usr/sbin/nginx", 0);
    table_.Add(101, "nginx", "nginx: worker process", 33);
    table_.Add(102, "nginx", "nginx: worker process", 33);
    table_.Add(200, "sleep", "sleep 60", 1000);
    table_.Add(201, "sleep", "sleep 3600", 1000);
    table_.Add(300, "redis-server", "redis-server *:6379", 1000);
    table_.Add(301, "sleep", "sleep 5", 1000, 0, 'Z');
    char templ[] = "/tmp/ringfence-resolver-XXXXXX";
    ASSERT_NE(mkdtemp(templ), nullptr);
    dir_ = templ;
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  std::string WriteFile(const std::string& name, const std::string& content) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << content;
    return path;
  }

  TargetSpec Spec(ProcessSelector selector) {
    TargetSpec spec;
    spec.name = "web";
    spec.pointer = "/targets/web";
    spec.process = std::move(selector);
    return spec;
  }

  FakeProcessTable table_;
  std::string dir_;
};

TEST_F(TargetResolverTest, MatchesByName) {
  ProcessSelector s;
  s.name = "nginx";
  auto m = MatchProcesses(table_, s);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(Pids(*m), (std::vector<pid_t>{100, 101, 102}));
}

TEST_F(TargetResolverTest, NameIsAnExactMatch) {
  ProcessSelector s;
  s.name = "ngin";
  auto m = MatchProcesses(table_, s);
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->empty());
}

TEST_F(TargetResolverTest, MatchesByCmdlineRegexSearch) {
  ProcessSelector s;
  s.cmdline = "worker|sleep 3600$";
  auto m = MatchProcesses(table_, s);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(Pids(*m), (std::vector<pid_t>{101, 102, 201}));
}

TEST_F(TargetResolverTest, InvalidCmdlineRegexIsInvalidInput) {
  ProcessSelector s;
  s.cmdline = "(";
  auto m = MatchProcesses(table_, s);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kInvalidInput);
  EXPECT_EQ(m.status().message().rfind("cmdline \"(\": not a valid regular expression: ", 0), 0u)
      << m.status().message();
}

TEST_F(TargetResolverTest, MatchesByPid) {
  ProcessSelector s;
  s.pid = 201;
  auto m = MatchProcesses(table_, s);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(Pids(*m), (std::vector<pid_t>{201}));
  s.pid = 999;
  m = MatchProcesses(table_, s);
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->empty());
}

TEST_F(TargetResolverTest, MatchesByPidfile) {
  ProcessSelector s;
  s.pidfile = WriteFile("redis.pid", "300\n");
  auto m = MatchProcesses(table_, s);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(Pids(*m), (std::vector<pid_t>{300}));
}

TEST_F(TargetResolverTest, MissingPidfileIsNotFound) {
  ProcessSelector s;
  s.pidfile = "/nonexistent/ringfence/x.pid";
  auto m = MatchProcesses(table_, s);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(m.status().message(),
            "pidfile /nonexistent/ringfence/x.pid: No such file or directory");
}

TEST_F(TargetResolverTest, GarbagePidfileIsInvalidInput) {
  ProcessSelector s;
  s.pidfile = WriteFile("bad.pid", "12ab\n");
  auto m = MatchProcesses(table_, s);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kInvalidInput);
  EXPECT_EQ(m.status().message(), "pidfile " + *s.pidfile + ": \"12ab\": not a process id");
  s.pidfile = WriteFile("empty.pid", "");
  m = MatchProcesses(table_, s);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().message(), "pidfile " + *s.pidfile + ": \"\": not a process id");
}

TEST_F(TargetResolverTest, UserFiltersByNameOrUid) {
  ProcessSelector s;
  s.name = "nginx";
  s.user = "root";
  auto m = MatchProcesses(table_, s);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(Pids(*m), (std::vector<pid_t>{100}));
  s.user = "33";
  m = MatchProcesses(table_, s);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(Pids(*m), (std::vector<pid_t>{101, 102}));
}

TEST_F(TargetResolverTest, UnknownUserIsInvalidInput) {
  ProcessSelector s;
  s.name = "nginx";
  s.user = "no-such-user-ringfence";
  auto m = MatchProcesses(table_, s);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kInvalidInput);
  EXPECT_EQ(m.status().message(), "user \"no-such-user-ringfence\": no such user");
}

TEST_F(TargetResolverTest, NeverMatchesPid1SelfExcludedOrZombies) {
  ProcessSelector s;
  s.cmdline = ".";
  auto m = MatchProcesses(table_, s, {300});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(Pids(*m), (std::vector<pid_t>{100, 101, 102, 200, 201}));
  s = {};
  s.pid = 1;
  m = MatchProcesses(table_, s);
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->empty());
  s.pid = getpid();
  m = MatchProcesses(table_, s);
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->empty());
}

TEST_F(TargetResolverTest, SelectAllKeepsPidOrderAndLabels) {
  ProcessSelector s;
  s.name = "nginx";
  std::mt19937_64 rng(1);
  auto t = ResolveTargets(table_, Spec(s), rng);
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(Pids(*t), (std::vector<pid_t>{100, 101, 102}));
  EXPECT_EQ((*t)[0].label, "pid 100 (nginx)");
  EXPECT_EQ((*t)[0].host, "local");
}

TEST_F(TargetResolverTest, SelectCount) {
  ProcessSelector s;
  s.cmdline = ".";
  TargetSpec spec = Spec(s);
  spec.select.mode = SelectionMode::kCount;
  spec.select.count = 2;
  std::mt19937_64 rng(7);
  auto t = ResolveTargets(table_, spec, rng);
  ASSERT_TRUE(t.ok()) << t.status().message();
  ASSERT_EQ(t->size(), 2u);
  EXPECT_LT((*t)[0].process.pid, (*t)[1].process.pid);
}

TEST_F(TargetResolverTest, CountAboveMatchesIsInvalidInput) {
  ProcessSelector s;
  s.cmdline = ".";
  TargetSpec spec = Spec(s);
  spec.select.mode = SelectionMode::kCount;
  spec.select.count = 7;
  std::mt19937_64 rng(7);
  auto t = ResolveTargets(table_, spec, rng);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidInput);
  EXPECT_EQ(t.status().message(),
            "/targets/web/select/count: 7: at most the 6 processes that match");
  s = {};
  s.name = "redis-server";
  spec.process = s;
  spec.select.count = 2;
  t = ResolveTargets(table_, spec, rng);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(),
            "/targets/web/select/count: 2: at most the 1 process that matches");
}

TEST_F(TargetResolverTest, SelectPercentRoundsUpAndTakesAtLeastOne) {
  std::vector<ProcessInfo> matches;
  for (pid_t pid = 1000; pid < 1100; ++pid) {
    ProcessInfo p;
    p.pid = pid;
    p.name = "w";
    matches.push_back(p);
  }
  TargetSpec spec = Spec({});
  spec.select.mode = SelectionMode::kPercent;
  std::mt19937_64 rng(3);
  for (auto [percent, expected] :
       std::vector<std::pair<double, size_t>>{{7, 7}, {10, 10}, {0.5, 1}, {33.3, 34}, {100, 100}}) {
    spec.select.percent = percent;
    auto t = SelectTargets(spec, matches, rng);
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t->size(), expected) << percent;
  }
  matches.resize(3);
  spec.select.percent = 1;
  auto t = SelectTargets(spec, matches, rng);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->size(), 1u);
}

TEST_F(TargetResolverTest, SameSeedSameChoiceOtherSeedsDiffer) {
  std::vector<ProcessInfo> matches;
  for (pid_t pid = 10; pid < 30; ++pid) {
    ProcessInfo p;
    p.pid = pid;
    matches.push_back(p);
  }
  TargetSpec spec = Spec({});
  spec.select.mode = SelectionMode::kCount;
  spec.select.count = 3;
  std::mt19937_64 a(42), b(42);
  auto first = SelectTargets(spec, matches, a);
  auto second = SelectTargets(spec, matches, b);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(Pids(*first), Pids(*second));
  const std::vector<pid_t> chosen = Pids(*first);
  EXPECT_TRUE(std::is_sorted(chosen.begin(), chosen.end()));

  bool differed = false;
  for (uint64_t seed = 43; seed < 143 && !differed; ++seed) {
    std::mt19937_64 other(seed);
    auto t = SelectTargets(spec, matches, other);
    ASSERT_TRUE(t.ok());
    differed = Pids(*t) != Pids(*first);
  }
  EXPECT_TRUE(differed);
}

TEST_F(TargetResolverTest, SeededChoiceIsStableAcrossLibraries) {
  // The choice depends only on mt19937_64's raw output (fixed by the standard), so a recorded
  // seed replays the same selection everywhere.
  std::vector<ProcessInfo> matches;
  for (pid_t pid = 1; pid <= 10; ++pid) {
    ProcessInfo p;
    p.pid = pid + 100;
    matches.push_back(p);
  }
  TargetSpec spec = Spec({});
  spec.select.mode = SelectionMode::kCount;
  spec.select.count = 3;
  std::mt19937_64 rng(12345);
  auto t = SelectTargets(spec, matches, rng);
  ASSERT_TRUE(t.ok());
  std::mt19937_64 check(12345);
  std::vector<pid_t> all = Pids(matches);
  std::vector<pid_t> expected;
  for (size_t i = 0; i < 3; ++i) {
    std::swap(all[i], all[i + UniformIndex(check, all.size() - i)]);
    expected.push_back(all[i]);
  }
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(Pids(*t), expected);
}

TEST_F(TargetResolverTest, EmptySelectionIsNotFoundUnlessAllowed) {
  ProcessSelector s;
  s.name = "postgres";
  s.user = "root";
  TargetSpec spec = Spec(s);
  std::mt19937_64 rng(1);
  auto t = ResolveTargets(table_, spec, rng);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(t.status().message(),
            "/targets/web: no process matches name \"postgres\" and user \"root\"");

  spec.allow_empty = true;
  t = ResolveTargets(table_, spec, rng);
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->empty());
}

TEST_F(TargetResolverTest, ResolveTargetsPrefixesMatchErrorsWithThePointer) {
  ProcessSelector s;
  s.pidfile = "/nonexistent/ringfence/x.pid";
  std::mt19937_64 rng(1);
  auto t = ResolveTargets(table_, Spec(s), rng);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(t.status().message(),
            "/targets/web: pidfile /nonexistent/ringfence/x.pid: No such file or directory");
}

TEST(DescribeSelectorTest, Texts) {
  ProcessSelector s;
  s.pid = 42;
  EXPECT_EQ(DescribeSelector(s), "pid 42");
  s = {};
  s.pidfile = "/run/x.pid";
  EXPECT_EQ(DescribeSelector(s), "pidfile /run/x.pid");
  s = {};
  s.cmdline = "^sleep \\d+";
  s.user = "1000";
  EXPECT_EQ(DescribeSelector(s), "cmdline \"^sleep \\\\d+\" and user \"1000\"");
}

}  // namespace
}  // namespace ringfence
