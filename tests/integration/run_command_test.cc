#include <signal.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "core/process_table.h"

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
  EXPECT_NE(CmdlineOf(pid), std::string("sleep\0" "30\0", 9));
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

}  // namespace
}  // namespace ringfence
