// Suites end to end (docs/suites.md): `ringfence run A B DIR/` and `ringfence suite FILE` with
// the real binary against real child processes; what they did is checked from outside (process
// states, the state dir's lock, the journals), the texts word for word.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/processes.h"

namespace ringfence::testing {
namespace {

using nlohmann::json;

json Doc(const std::string& title, const json& method, const json& tags = json::array(),
         const json& targets = json::object()) {
  return {{"version", 1},       {"title", title},   {"tags", tags},
          {"targets", targets}, {"method", method}, {"guards", json::array()}};
}

// Passes at once.
std::string Passing(const std::string& title, const json& tags = json::array()) {
  return Doc(title, json::parse(R"([{"type": "wait", "duration": "10ms"}])"), tags).dump(2);
}

// Fails: its method probe does not hold.
std::string Failing(const std::string& title, const json& tags = json::array()) {
  return Doc(title,
             json::parse(
                 R"([{"type": "probe", "probe": {"type": "command", "argv": ["/bin/false"]}}])"),
             tags)
      .dump(2);
}

json Sleepers(const SleepChildren& children) {
  return {{"sleepers", {{"process", {{"cmdline", children.cmdline_regex()}}}, {"select", "all"}}}};
}

// Pauses `children` for `duration`, then resumes them.
std::string Pausing(const std::string& title, const SleepChildren& children,
                    const std::string& duration) {
  return Doc(title, {{{"type", "process_pause"}, {"target", "sleepers"}, {"duration", duration}}},
             json::array(), Sleepers(children))
      .dump(2);
}

// Exit 3 (a runtime error): a fill of a folder that does not exist.
std::string Erring(const std::string& title, const std::string& missing_dir) {
  return Doc(title, {{{"type", "disk_fill"},
                      {"params", {{"path", missing_dir}, {"size", 1048576}}},
                      {"duration", "100ms"}}})
      .dump(2);
}

// Exit 4: the kill's restart_command "succeeds" but nothing matching runs again.
std::string RevertFails(const std::string& title, const SleepChildren& children) {
  json doc = Doc(title,
                 {{{"type", "process_kill"},
                   {"target", "sleepers"},
                   {"params", {{"signal", "SIGKILL"}, {"restart_command", {"/bin/true"}}}},
                   {"duration", "100ms"}}},
                 json::array(), Sleepers(children));
  doc["settings"] = {{"revert_attempts", 1}};
  return doc.dump(2);
}

bool AnyStopped(const SleepChildren& children) {
  return std::any_of(children.pids().begin(), children.pids().end(),
                     [](pid_t p) { return SleepChildren::State(p) == 'T'; });
}
bool AllStopped(const SleepChildren& children) {
  return std::all_of(children.pids().begin(), children.pids().end(),
                     [](pid_t p) { return SleepChildren::State(p) == 'T'; });
}

class CliSuiteTest : public ::testing::Test {
 protected:
  // `ringfence <args> --state-dir state` (validate has no state dir), in the test's folder.
  std::vector<std::string> Line(std::vector<std::string> args) {
    std::vector<std::string> argv = {RINGFENCE_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    if (args.front() != "validate") argv.insert(argv.end(), {"--state-dir", dir_.File("state")});
    return argv;
  }
  int Run(std::vector<std::string> args, std::string* out = nullptr, std::string* err = nullptr) {
    ChildRun run(Line(std::move(args)), dir_.path());
    const int code = run.Wait(std::chrono::seconds(90));
    if (out) *out = run.out();
    if (err) *err = run.err();
    return code;
  }
  json Journal(const std::string& name) { return json::parse(ReadFile(dir_.File(name))); }
  // A JUnit file as junitparser, a real JUnit consumer, reads it (tests/report/junit_read.py).
  json JUnit(const std::string& name) {
    ChildRun run(
        {"/usr/bin/python3", std::string(RINGFENCE_SOURCE_DIR) + "/tests/report/junit_read.py",
         dir_.File(name)},
        dir_.path());
    EXPECT_EQ(run.Wait(std::chrono::seconds(60)), 0) << run.err();
    return json::parse(run.out(), nullptr, false);
  }
  bool Exists(const std::string& name) { return std::filesystem::exists(dir_.File(name)); }
  std::string Lock() { return dir_.File("state") + "/run.lock"; }

  TempDir dir_;
};

TEST_F(CliSuiteTest, RunsFilesAndFoldersInOrderEachWithItsJournal) {
  std::filesystem::create_directory(dir_.File("dir"));
  dir_.Write("z.json", Passing("zed"));
  dir_.Write("dir/b.json", Passing("bee"));
  dir_.Write("dir/a.json", Passing("ay"));
  dir_.Write("dir/notes.txt", "not an experiment");
  std::string out, err;
  ASSERT_EQ(Run({"run", "z.json", "dir/", "--journal-dir", "out"}, &out, &err), 0) << out << err;
  const size_t z = out.find("suite: [1/3] z.json\n");
  const size_t a = out.find("suite: [2/3] dir/a.json\n");
  const size_t b = out.find("suite: [3/3] dir/b.json\n");
  ASSERT_NE(z, std::string::npos) << out;
  ASSERT_NE(a, std::string::npos) << out;
  ASSERT_NE(b, std::string::npos) << out;
  EXPECT_LT(z, a);
  EXPECT_LT(a, b);
  EXPECT_EQ(Journal("out/z.journal.json")["experiment"]["title"], "zed");
  EXPECT_EQ(Journal("out/a.journal.json")["experiment"]["title"], "ay");
  EXPECT_EQ(Journal("out/b.journal.json")["experiment"]["title"], "bee");
  EXPECT_EQ(Journal("out/b.journal.json")["status"], "passed");
  // Each started after the one before it ended.
  EXPECT_LE(Journal("out/z.journal.json")["ended_at"].get<std::string>(),
            Journal("out/a.journal.json")["started_at"].get<std::string>());
  EXPECT_NE(out.find("suite: 3 experiments: 3 passed (exit 0)\n"
                     "  file        status  exit  journal\n"
                     "  z.json      passed  0     out/z.journal.json\n"
                     "  dir/a.json  passed  0     out/a.journal.json\n"
                     "  dir/b.json  passed  0     out/b.journal.json\n"),
            std::string::npos)
      << out;
}

TEST_F(CliSuiteTest, OneFileWithoutSuiteOptionsIsOneRunAsBefore) {
  dir_.Write("a.json", Passing("ay"));
  std::string out, err;
  ASSERT_EQ(Run({"run", "a.json", "--journal", "j.json"}, &out, &err), 0) << err;
  EXPECT_EQ(out.find("suite:"), std::string::npos) << out;
  EXPECT_EQ(Journal("j.json")["experiment"]["title"], "ay");
}

TEST_F(CliSuiteTest, FailFastSkipsTheRest) {
  dir_.Write("a.json", Passing("ay"));
  dir_.Write("b.json", Failing("bee"));
  dir_.Write("c.json", Passing("sea"));
  std::string out, err;
  EXPECT_EQ(Run({"run", "a.json", "b.json", "c.json", "--journal-dir", "all"}, &out, &err), 1)
      << out << err;
  EXPECT_EQ(Journal("all/c.journal.json")["status"], "passed");
  EXPECT_EQ(Journal("all/b.journal.json")["status"], "failed");

  EXPECT_EQ(
      Run({"run", "a.json", "b.json", "c.json", "--journal-dir", "ff", "--fail-fast"}, &out, &err),
      1)
      << out << err;
  EXPECT_TRUE(Exists("ff/b.journal.json"));
  EXPECT_FALSE(Exists("ff/c.journal.json"));
  EXPECT_EQ(out.find("suite: [3/3]"), std::string::npos) << out;
  EXPECT_NE(out.find("suite: 3 experiments: 1 passed, 1 failed, 1 skipped (exit 1)\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("  c.json  skipped  -     -\n"
                     "      not run: --fail-fast after b.json (failed)\n"),
            std::string::npos)
      << out;
}

TEST_F(CliSuiteTest, TagsAndSkipTagsChooseWhatRuns) {
  dir_.Write("web.json", Passing("web", {"web"}));
  dir_.Write("db-slow.json", Passing("db slow", {"db", "slow"}));
  dir_.Write("db.json", Passing("db", {"db"}));
  dir_.Write("none.json", Passing("none"));
  std::string out, err;
  ASSERT_EQ(Run({"run", "web.json", "db-slow.json", "db.json", "none.json", "--tags", "web,db",
                 "--skip-tags", "slow", "--journal-dir", "out"},
                &out, &err),
            0)
      << out << err;
  EXPECT_TRUE(Exists("out/web.journal.json"));
  EXPECT_TRUE(Exists("out/db.journal.json"));
  EXPECT_FALSE(Exists("out/db-slow.journal.json"));
  EXPECT_FALSE(Exists("out/none.journal.json"));
  EXPECT_NE(out.find("suite: [2/2] db.json\n"), std::string::npos) << out;
  EXPECT_NE(out.find("      not run: tagged slow (--skip-tags)\n"), std::string::npos) << out;
  EXPECT_NE(out.find("      not run: its tags (none) include none of --tags web,db\n"),
            std::string::npos)
      << out;
}

TEST_F(CliSuiteTest, TheExitCodeIsTheWorstOfTheRuns) {
  SleepChildren children(1);
  dir_.Write("pass.json", Passing("pass"));
  dir_.Write("fail.json", Failing("fail"));
  dir_.Write("revert.json", RevertFails("revert", children));
  std::string out, err;
  dir_.Write("error.json", Erring("error", dir_.File("missing")));
  EXPECT_EQ(Run({"run", "pass.json", "fail.json", "--journal-dir", "one"}, &out, &err), 1) << out;
  EXPECT_EQ(
      Run({"run", "error.json", "fail.json", "pass.json", "--journal-dir", "three"}, &out, &err), 3)
      << out << err;
  EXPECT_NE(out.find("suite: 3 experiments: 1 passed, 1 failed, 1 error (exit 3)\n"),
            std::string::npos)
      << out;
  // 4 beats 1, and nothing runs after it: its ledger shows a fault left in place.
  EXPECT_EQ(
      Run({"run", "fail.json", "revert.json", "pass.json", "--journal-dir", "four"}, &out, &err), 4)
      << out << err;
  EXPECT_FALSE(Exists("four/pass.journal.json"));
  EXPECT_NE(out.find("suite: 3 experiments: 1 failed, 1 revert_failed, 1 skipped (exit 4)\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("  revert.json  revert_failed  4     four/revert.journal.json\n"),
            std::string::npos)
      << out;
  EXPECT_NE(
      out.find("      not run: a revert failed in revert.json; run `ringfence recover` first\n"),
      std::string::npos)
      << out;
}

TEST_F(CliSuiteTest, InvalidFilesAreReportedFirstAndNothingRuns) {
  SleepChildren children(2);
  dir_.Write("a-pause.json", Pausing("pause", children, "5s"));
  dir_.Write("b-bad.json", R"({"version": 2, "title": "", "method": []})");
  dir_.Write("c-syntax.json", R"({"version": 1,)");
  dir_.Write("d-ok.json", Passing("ok"));
  std::string out, err;
  EXPECT_EQ(Run({"run", "a-pause.json", "b-bad.json", "c-syntax.json", "d-ok.json", "--journal-dir",
                 "out"},
                &out, &err),
            2);
  EXPECT_EQ(err,
            "b-bad.json: /version: 2: 1\n"
            "b-bad.json: /title: \"\": a non-empty string\n"
            "b-bad.json: /method: []: an array of at least one step\n"
            "b-bad.json: /guards: missing: an array of guards (docs/guards.md), or []\n"
            "c-syntax.json:1:15: syntax error: unexpected end of input; expected string literal\n"
            "2 of 4 experiment files invalid; nothing was run\n");
  EXPECT_FALSE(AnyStopped(children));
  EXPECT_FALSE(Exists("out"));
  EXPECT_FALSE(Exists("state/runs")) << "a ledger was written";
  EXPECT_NE(out.find("suite: 4 experiments: 2 invalid, 2 skipped (exit 2)\n"), std::string::npos)
      << out;
  EXPECT_NE(out.find("  a-pause.json   skipped  -     -\n"
                     "      not run: the suite has invalid files\n"),
            std::string::npos)
      << out;
}

// The gate a CI job sees: one invalid, one failing and one passing file. While any file is
// invalid nothing runs (exit 2) and the suite's JUnit says why; without it both run and the JUnit
// file, read back by junitparser (tests/report/junit_read.py), holds one testsuite per run.
TEST_F(CliSuiteTest, SuiteJUnitOfAnInvalidAFailingAndAPassingFile) {
  // Each run leaves a mark of its own, so that "nothing ran" is seen from outside.
  auto marking = [&](const std::string& title, const std::string& mark, const char* probe) {
    return Doc(title,
               {{{"type", "probe"},
                 {"probe",
                  {{"name", "mark"},
                   {"type", "command"},
                   {"argv", {"/bin/sh", "-c", std::string("touch ") + mark + "; " + probe}}}}}})
        .dump(2);
  };
  dir_.Write("a-bad.json", R"({"version": 1, "title": "bad", "guards": []})");
  dir_.Write("b-fail.json", marking("fails", dir_.File("ran-fail"), "false"));
  dir_.Write("c-pass.json", marking("passes", dir_.File("ran-pass"), "true"));
  std::string out, err;
  EXPECT_EQ(Run({"run", "a-bad.json", "b-fail.json", "c-pass.json", "--journal-dir", "out",
                 "--junit", "invalid.xml"},
                &out, &err),
            2);
  EXPECT_EQ(err,
            "a-bad.json: /method: missing: an array of at least one step\n"
            "1 of 3 experiment files invalid; nothing was run\n");
  EXPECT_FALSE(Exists("ran-fail"));
  EXPECT_FALSE(Exists("ran-pass"));
  EXPECT_FALSE(Exists("out"));
  EXPECT_FALSE(Exists("state/runs")) << "a ledger was written";
  json suites = JUnit("invalid.xml");
  ASSERT_EQ(suites.size(), 3u) << suites;
  EXPECT_EQ(suites[0]["name"], "a-bad.json");
  EXPECT_EQ(suites[0]["errors"], 1);
  EXPECT_EQ(suites[0]["cases"][0]["result"], "error");
  EXPECT_EQ(suites[0]["cases"][0]["message"], "1 validation error; nothing was run");
  for (size_t i : {1u, 2u}) {
    EXPECT_EQ(suites[i]["skipped"], 1) << suites[i];
    EXPECT_EQ(suites[i]["cases"][0]["result"], "skipped") << suites[i];
  }

  std::filesystem::remove(dir_.File("a-bad.json"));
  EXPECT_EQ(
      Run({"run", "b-fail.json", "c-pass.json", "--journal-dir", "out", "--junit", "suite.xml"},
          &out, &err),
      1)
      << out << err;
  EXPECT_TRUE(Exists("ran-fail"));
  EXPECT_TRUE(Exists("ran-pass"));
  suites = JUnit("suite.xml");
  ASSERT_EQ(suites.size(), 2u) << suites;
  const json& failing = suites[0];
  EXPECT_EQ(failing["name"], "fails");
  EXPECT_EQ(failing["failures"], 1);
  EXPECT_EQ(failing["errors"], 0);
  EXPECT_EQ(failing["properties"]["journal"], "out/b-fail.journal.json");
  EXPECT_EQ(failing["properties"]["run_id"], Journal("out/b-fail.journal.json")["run_id"]);
  const auto failed_case = std::find_if(failing["cases"].begin(), failing["cases"].end(),
                                        [](const json& c) { return c["result"] == "failure"; });
  ASSERT_NE(failed_case, failing["cases"].end()) << failing;
  EXPECT_NE((*failed_case)["name"].get<std::string>().find("mark"), std::string::npos)
      << *failed_case;
  const json& passing = suites[1];
  EXPECT_EQ(passing["name"], "passes");
  EXPECT_EQ(passing["failures"], 0);
  EXPECT_EQ(passing["errors"], 0);
  EXPECT_GT(passing["tests"], 0);
  for (const auto& c : passing["cases"]) EXPECT_EQ(c["result"], "passed") << c;
  EXPECT_EQ(passing["properties"]["journal"], "out/c-pass.journal.json");
}

// The lock is taken once, held from the first run to the last (between runs too), and refuses a
// second suite and a single run meanwhile.
TEST_F(CliSuiteTest, OneLockForTheWholeSuiteAndASecondSuiteIsRefused) {
  SleepChildren first(1), second(1), other(1);
  dir_.Write("1.json", Pausing("first", first, "1500ms"));
  dir_.Write("2.json", Pausing("second", second, "1500ms"));
  dir_.Write("other.json", Pausing("other", other, "1s"));
  ChildRun suite(Line({"run", "1.json", "2.json", "--journal-dir", "out"}), dir_.path());
  ASSERT_TRUE(Eventually([&] { return AllStopped(first); })) << suite.err();

  const std::string refused = "ringfence: another run is active on state dir " +
                              dir_.File("state") +
                              " (its lock is held); wait for it, or pass --allow-concurrent; "
                              "nothing was run\n";
  std::string out, err;
  EXPECT_EQ(Run({"run", "other.json", "--journal", "o.json"}, &out, &err), 3);
  EXPECT_EQ(err, refused);
  EXPECT_EQ(Run({"run", "other.json", "1.json", "--journal-dir", "again"}, &out, &err), 3);
  EXPECT_EQ(err, refused);
  EXPECT_FALSE(AnyStopped(other));
  EXPECT_FALSE(Exists("again/other.journal.json"));

  // Whenever the lock can be taken, the suite has already printed its table: it never lets go
  // between its runs.
  bool second_ran = false;
  while (SleepChildren::State(suite.pid()) != 'Z' && SleepChildren::State(suite.pid()) != '?') {
    second_ran = second_ran || AllStopped(second);
    const int fd = ::open(Lock().c_str(), O_RDWR | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
      const bool finished = suite.out().find("suite: 2 experiments:") != std::string::npos;
      ::flock(fd, LOCK_UN);
      ::close(fd);
      ASSERT_TRUE(finished) << "the lock was free while the suite ran:\n" << suite.out();
      break;
    }
    ::close(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(suite.Wait(), 0) << suite.out() << suite.err();
  EXPECT_TRUE(second_ran);
  EXPECT_FALSE(AnyStopped(first));
  EXPECT_FALSE(AnyStopped(second));
}

TEST_F(CliSuiteTest, ASuiteFileRunsItsExperimentsWithTheirOwnVars) {
  std::filesystem::create_directory(dir_.File("s"));
  const std::string templ = Doc("${who} ${n} ${shared}", json::parse(R"([{"type": "wait",
                                 "duration": "${d}"}])"))
                                .dump();
  dir_.Write("s/x.json", templ);
  dir_.Write("s/y.json", templ);
  dir_.Write("s/shared.json", R"({"shared": "from-suite-file", "n": 1, "d": "10ms"})");
  dir_.Write("s/y-vars.json", R"({"who": "y-file", "n": 2.5})");
  dir_.Write("s/suite.json", R"({
    "version": 1, "title": "vars", "journal_dir": "js",
    "var_files": ["shared.json"],
    "vars": {"who": "suite"},
    "experiments": [
      {"file": "x.json", "vars": {"n": 7}},
      {"file": "y.json", "var_files": ["y-vars.json"], "vars": {"shared": "own"}}
    ]})");
  dir_.Write("line.json", R"({"d": "20ms"})");
  std::string out, err;
  ASSERT_EQ(Run({"suite", "s/suite.json", "--var-file", "line.json"}, &out, &err), 0) << out << err;
  EXPECT_NE(out.find("suite: vars (2 experiments)\n"), std::string::npos) << out;
  EXPECT_EQ(Journal("js/x.journal.json")["experiment"]["title"], "suite 7 from-suite-file");
  EXPECT_EQ(Journal("js/y.journal.json")["experiment"]["title"], "y-file 2.5 own");
  EXPECT_EQ(Journal("js/y.journal.json")["experiment"]["method"][0]["duration"], "20ms");
  // --journal-dir and --var beat the file.
  ASSERT_EQ(Run({"suite", "s/suite.json", "--var", "who=line", "--journal-dir", "j2"}, &out, &err),
            0)
      << out << err;
  EXPECT_EQ(Journal("j2/y.journal.json")["experiment"]["title"], "line 2.5 own");
}

TEST_F(CliSuiteTest, SuiteFileErrorsCarryTheirPointers) {
  dir_.Write("v.json", R"({"port": [8080], "1st": 1})");
  dir_.Write("suite.json", R"({"version": 1, "fail_fast": "yes", "retries": 3,
    "var_files": ["v.json"], "vars": {"ok": {"no": 1}},
    "experiments": [{"file": "a.json"}, {"vars": {}}, "b.json"]})");
  std::string out, err;
  EXPECT_EQ(Run({"suite", "suite.json"}, &out, &err), 2);
  EXPECT_EQ(err,
            "suite.json: /fail_fast: \"yes\": true or false\n"
            "suite.json: /retries: unknown key: one of version, title, description, "
            "journal_dir, fail_fast, tags, skip_tags, vars, var_files, experiments\n"
            "suite.json: /vars/ok: {\"no\":1}: a string, a number, true or false\n"
            "suite.json: /experiments/1/file: missing: the path of an experiment file\n"
            "suite.json: /experiments/2: \"b.json\": an object with one of file, vars, var_files\n"
            "v.json: /port: [8080]: a string, a number, true or false\n"
            "v.json: /1st: \"1st\": a placeholder name: a letter or '_', then letters, digits, "
            "'_', '-' or '.'\n"
            "7 errors; nothing was run\n");
  EXPECT_EQ(out, "");
  EXPECT_FALSE(Exists("state"));
}

TEST_F(CliSuiteTest, VarFilesFillPlaceholdersBetweenVarAndTheEnvironment) {
  dir_.Write("t.json", Doc("${a}-${b}-${c}", json::parse(R"([{"type": "wait",
                            "duration": "10ms"}])"))
                           .dump());
  dir_.Write("v1.json", R"({"a": "file1", "b": "file1"})");
  dir_.Write("v2.json", R"({"b": "file2", "c": true})");
  ::setenv("a", "env", 1);
  ::setenv("c", "env", 1);
  std::string out, err;
  const int code = Run({"run", "t.json", "--journal", "j.json", "--var-file", "v1.json",
                        "--var-file", "v2.json", "--var", "a=line"},
                       &out, &err);
  ::unsetenv("a");
  ::unsetenv("c");
  ASSERT_EQ(code, 0) << err;
  EXPECT_EQ(Journal("j.json")["experiment"]["title"], "line-file2-true");

  // YAML (by the name, .yaml or .yml) fills the same way, and its errors name line and column.
  dir_.Write("v.yaml", "a: yaml\nb: 2\nc: false\n");
  ASSERT_EQ(Run({"run", "t.json", "--journal", "y.json", "--var-file", "v.yaml"}, &out, &err), 0)
      << err;
  EXPECT_EQ(Journal("y.json")["experiment"]["title"], "yaml-2-false");
  dir_.Write("bad.yml", "a: [1\nb: ok\nc:\n  d: 1\n");
  EXPECT_EQ(Run({"run", "t.json", "--var-file", "bad.yml"}, &out, &err), 2);
  EXPECT_EQ(err,
            "bad.yml:2:2: syntax error: end of sequence flow not found\n"
            "1 error in --var-file; nothing was run\n");

  dir_.Write("bad.json", R"({"a": null})");
  EXPECT_EQ(Run({"run", "t.json", "--var-file", "bad.json"}, &out, &err), 2);
  EXPECT_EQ(err,
            "bad.json: /a: null: a string, a number, true or false\n"
            "1 error in --var-file; nothing was run\n");
  EXPECT_EQ(Run({"validate", "t.json", "--var-file", "missing.json"}, &out, &err), 2);
  EXPECT_EQ(err,
            "missing.json: /: cannot read the file (No such file or directory): a readable JSON "
            "file\n"
            "1 error in --var-file; nothing was run\n");
}

TEST_F(CliSuiteTest, StatusJsonListsRunsAndActiveFaults) {
  SleepChildren children(1);
  dir_.Write("p.json", Pausing("pause", children, "2s"));
  dir_.Write("q.json", Passing("quick"));
  ChildRun suite(Line({"run", "p.json", "q.json", "--journal-dir", "out"}), dir_.path());
  ASSERT_TRUE(Eventually([&] { return AllStopped(children); })) << suite.err();
  std::string out, err;
  ASSERT_EQ(Run({"status", "--json"}, &out, &err), 0) << err;
  json status = json::parse(out);
  EXPECT_EQ(status["state_dir"], dir_.File("state"));
  ASSERT_EQ(status["runs"].size(), 1u) << out;
  EXPECT_EQ(status["runs"][0]["state"], "running");
  EXPECT_EQ(status["runs"][0]["title"], "pause");
  EXPECT_TRUE(status["runs"][0]["status"].is_null());
  ASSERT_EQ(status["runs"][0]["active_faults"].size(), 1u) << out;
  const json fault = status["runs"][0]["active_faults"][0];
  EXPECT_EQ(fault["type"], "process_pause");
  EXPECT_EQ(fault["target"].get<std::string>().find("pid " + std::to_string(children.pids()[0])),
            0u)
      << fault.dump();
  EXPECT_TRUE(fault["deadline"].is_string());
  EXPECT_EQ(fault["manual_undo"].get<std::string>().find("kill -CONT"), 0u) << fault.dump();

  ASSERT_EQ(suite.Wait(), 0) << suite.out() << suite.err();
  ASSERT_EQ(Run({"status", "--json"}, &out, &err), 0) << err;
  status = json::parse(out);
  ASSERT_EQ(status["runs"].size(), 2u) << out;
  for (const auto& run : status["runs"]) {
    EXPECT_EQ(run["state"], "finished") << run.dump();
    EXPECT_EQ(run["status"], "passed") << run.dump();
    EXPECT_EQ(run["active_faults"], json::array());
    EXPECT_EQ(run["journal"].get<std::string>().rfind(dir_.File("out/"), 0), 0u) << run.dump();
  }
  EXPECT_EQ(status["untrusted"], json::array());
}

TEST_F(CliSuiteTest, QuietAndVerboseSetTheLogLevel) {
  dir_.Write("a.json", Passing("ay"));
  dir_.Write("b.json", Passing("bee"));
  std::string out, err;
  ASSERT_EQ(Run({"run", "a.json", "b.json", "--journal-dir", "o1"}, &out, &err), 0);
  EXPECT_NE(err.find(" info  run "), std::string::npos) << err;
  EXPECT_EQ(err.find(" debug "), std::string::npos) << err;
  ASSERT_EQ(Run({"-q", "run", "a.json", "b.json", "--journal-dir", "o2"}, &out, &err), 0);
  EXPECT_EQ(err, "");
  ASSERT_EQ(Run({"run", "a.json", "b.json", "--journal-dir", "o3", "-v"}, &out, &err), 0);
  EXPECT_NE(err.find(" debug suite: a.json: journal o3/a.journal.json"), std::string::npos) << err;
  EXPECT_NE(out.find("suite: 2 experiments: 2 passed (exit 0)"), std::string::npos) << out;
}

TEST_F(CliSuiteTest, ValidateTemplatesListsUnfilledPlaceholders) {
  dir_.Write("t.json", R"({"version": 1, "title": "${title}", "guards": [],
    "targets": {"w": {"process": {"cmdline": "svc --port ${port}"}, "select": {"count": "${n}"}}},
    "method": [{"type": "process_pause", "target": "w", "duration": "${d}"},
               {"type": "wait", "duration": "${w}s"}]})");
  std::string out, err;
  ASSERT_EQ(Run({"validate", "--templates", "t.json", "--var", "w=1"}, &out, &err), 0) << err;
  EXPECT_EQ(out,
            "t.json: /title: ${title} left unfilled (template)\n"
            "t.json: /targets/w/process/cmdline: ${port} left unfilled (template)\n"
            "t.json: /targets/w/select/count: ${n} left unfilled (template)\n"
            "t.json: /method/0/duration: ${d} left unfilled (template)\n"
            "t.json: ok as a template (4 placeholders left unfilled)\n");
  // Without --templates the same file is invalid; with it, a real error still is.
  EXPECT_EQ(Run({"validate", "t.json"}, &out, &err), 2);
  dir_.Write("u.json",
             R"({"version": 1, "title": "${title}", "guards": [], "method": [{"type": "nope"}]})");
  EXPECT_EQ(Run({"validate", "--templates", "u.json"}, &out, &err), 2);
  EXPECT_EQ(err.find("u.json: /method/0/type: \"nope\": "), 0u) << err;
  EXPECT_EQ(out, "");
}

// The shipped gate: a suite of the demo scenarios against one demo fleet, as docs/ci.md shows.
TEST_F(CliSuiteTest, TheDemoGateRunsAsOneSuite) {
  std::string out, err;
  ASSERT_EQ(
      Run({"demo", "--suite", RINGFENCE_SOURCE_DIR "/scenarios/suites/demo-gate.json"}, &out, &err),
      0)
      << out << err;
  EXPECT_NE(out.find("demo: starting a fleet of 20 ringfence-demo-service instances"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("suite: 2 experiments: 2 passed (exit 0)"), std::string::npos) << out;
  EXPECT_EQ(Journal("ringfence-journals/demo-game-day.journal.json")["status"], "passed");
  EXPECT_EQ(Journal("ringfence-journals/channel-file-291.journal.json")["status"], "passed");
}

}  // namespace
}  // namespace ringfence::testing
