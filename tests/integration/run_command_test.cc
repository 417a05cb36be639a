#include <signal.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "core/base/process_table.h"
#include "core/sys/run_command.h"
#include "tests/support/chaos.h"

namespace ringfence {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(RunCommandTest, ReportsExitCode) {
  auto r = RunCommand({"sh", "-c", "exit 3"}, seconds(5));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_FALSE(r->timed_out);
}

TEST(RunCommandTest, CapturesStdout) {
  auto r = RunCommand({"echo", "hello", "world"}, seconds(5));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_EQ(r->out, "hello world\n");
  EXPECT_EQ(r->err, "");
}

TEST(RunCommandTest, CapturesStderr) {
  auto r = RunCommand({"sh", "-c", "echo oops >&2; exit 1"}, seconds(5));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->exit_code, 1);
  EXPECT_EQ(r->out, "");
  EXPECT_EQ(r->err, "oops\n");
}

TEST(RunCommandTest, CapsCapturedOutputAt64KiB) {
  auto r = RunCommand({"sh", "-c", "head -c 300000 /dev/zero"}, seconds(5));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_EQ(r->out.size(), 64u * 1024u);
}

TEST(RunCommandTest, ReportsDeathBySignalAs128PlusSignal) {
  auto r = RunCommand({"sh", "-c", "kill -TERM $$"}, seconds(5));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->exit_code, 128 + SIGTERM);
  EXPECT_FALSE(r->timed_out);
}

std::string CmdlineOf(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(RunCommandTest, KillsAndReapsTheChildAtTheTimeout) {
  // The shell prints its pid and becomes `sleep 30`.
  auto r = RunCommand({"sh", "-c", "echo $$; exec sleep 30"}, milliseconds(300));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->exit_code, -1);
  int pid = std::stoi(r->out);
  ASSERT_GT(pid, 0);
  // Gone and reaped: no process (not even a zombie) with that pid runs `sleep 30`.
  EXPECT_NE(CmdlineOf(pid), std::string("sleep\0"
                                        "30\0",
                                        9));
  errno = 0;
  if (::kill(pid, 0) != 0) {
    EXPECT_EQ(errno, ESRCH);
  }
}

TEST(RunCommandTest, MissingBinaryIsNotFound) {
  auto r = RunCommand({"ringfence-no-such-command", "x"}, seconds(5));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(r.status().message(), "command not found: ringfence-no-such-command");
}

TEST(RunCommandTest, MissingPathIsNotFound) {
  auto r = RunCommand({"/nonexistent/dir/tool"}, seconds(5));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(r.status().message(), "command not found: /nonexistent/dir/tool");
}

TEST(RunCommandTest, NonExecutableFileIsNotFound) {
  auto r = RunCommand({"/etc/hostname"}, seconds(5));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(r.status().message(), "command not found: /etc/hostname");
}

TEST(RunCommandTest, EmptyArgvIsInvalidInput) {
  auto r = RunCommand({}, seconds(5));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidInput);
  EXPECT_EQ(r.status().message(), "command has an empty argv");
}

TEST(RunCommandTest, WithInputFeedsStdinThenEof) {
  const std::string input = "line one\nline two\n";
  auto r = RunCommandWithInput({"cat"}, input, std::chrono::seconds(5));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_EQ(r->out, input);
}

TEST(RunCommandTest, WithInputToAChildThatDoesNotReadIsNotAnError) {
  ::signal(SIGPIPE, SIG_IGN);  // what the ssh transport does
  auto r = RunCommandWithInput({"true"}, std::string(1 << 20, 'x'), std::chrono::seconds(5));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->exit_code, 0);
}

TEST(RunCommandTest, WithoutInputStdinIsEmpty) {
  auto r = RunCommand({"cat"}, std::chrono::seconds(5));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_EQ(r->out, "");
}

// Runs `script` (sh -c) in a process group of its own and halts it once `marker` shows in
// `processes` command lines.
CommandHalt RunAndHalt(const std::string& script, const std::string& marker, int processes,
                       milliseconds grace, Result<CommandResult>* result) {
  StopSource halt;
  const CommandControl control{&halt, grace};
  CommandHalt report;
  std::thread run([&] {
    *result = RunControlledCommand({"sh", "-c", script}, seconds(30), control, &report);
  });
  for (int i = 0; i < 500 && testing::CountProcesses(marker) < processes; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  halt.RequestStop("test");
  run.join();
  return report;
}

TEST(RunControlledCommandTest, AHaltStopsTheWholeProcessGroupWithSigterm) {
  const std::string marker = "30.000" + testing::UniqueDigits();
  Result<CommandResult> result = Status::Runtime("not run");
  // A background child too: it is not the shell's, but it is in the group.
  const CommandHalt halt = RunAndHalt("sleep " + marker + " & sleep " + marker + "; wait", marker,
                                      2, seconds(5), &result);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(result->exit_code, 128 + SIGTERM);
  EXPECT_TRUE(halt.requested);
  EXPECT_FALSE(halt.sigkilled);
  EXPECT_FALSE(halt.left_running);
  EXPECT_EQ(testing::CountProcesses(marker), 0);
}

TEST(RunControlledCommandTest, WhatIgnoresSigtermIsKilledAfterTheGrace) {
  const std::string marker = "30.000" + testing::UniqueDigits();
  Result<CommandResult> result = Status::Runtime("not run");
  // The ignored SIGTERM is inherited by the sleeps.
  const CommandHalt halt =
      RunAndHalt("trap '' TERM; sleep " + marker + " & sleep " + marker + "; wait", marker, 2,
                 milliseconds(200), &result);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(result->exit_code, 128 + SIGKILL);
  EXPECT_TRUE(halt.requested);
  EXPECT_TRUE(halt.sigkilled);
  EXPECT_FALSE(halt.left_running);
  EXPECT_GE(halt.took.count(), 200);
  EXPECT_EQ(testing::CountProcesses(marker), 0);
}

TEST(RunControlledCommandTest, WithoutAHaltItIsRunCommand) {
  StopSource halt;
  // In its own process group: the shell's pid is its process group id.
  auto r = RunControlledCommand({"sh", "-c", "ps -o pid=,pgid= -p $$; exit 3"}, seconds(5),
                                CommandControl{&halt, seconds(1)});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->exit_code, 3);
  std::istringstream ids(r->out);
  long pid = 0, pgid = -1;
  ids >> pid >> pgid;
  EXPECT_EQ(pid, pgid) << r->out;
}

}  // namespace
}  // namespace ringfence
