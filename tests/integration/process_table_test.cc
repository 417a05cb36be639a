#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include <gtest/gtest.h>

#include "core/base/process_table.h"
#include "core/sys/system_process_table.h"
#include "tests/support/child_processes.h"

namespace ringfence {
namespace {

using testing::ChildProcesses;

class ProcessTableTest : public ::testing::Test {
 protected:
  std::unique_ptr<ProcessTable> table_ = MakeSystemProcessTable();
  ChildProcesses children_;
};

TEST_F(ProcessTableTest, ListAndGetSeeARealChild) {
  const std::string arg = "3600." + testing::UniqueDigits();
  const pid_t pid = children_.Spawn({"sleep", arg});
  ASSERT_GT(pid, 0);
  // exec happens after fork returns: wait (bounded) until the child shows its new name.
  Result<ProcessInfo> info = Status::NotFound("not yet");
  for (int i = 0; i < 200; ++i) {
    info = table_->Get(pid);
    if (info.ok() && info->name == "sleep") break;
    usleep(5000);
  }
  ASSERT_TRUE(info.ok()) << info.status().message();
  EXPECT_EQ(info->pid, pid);
  EXPECT_EQ(info->name, "sleep");
  EXPECT_EQ(info->cmdline, "sleep " + arg);
  EXPECT_EQ(info->uid, getuid());
  EXPECT_NE(info->state, 'Z');
  EXPECT_GT(info->start_ticks, 0u);

  auto all = table_->List();
  ASSERT_TRUE(all.ok()) << all.status().message();
  auto found =
      std::find_if(all->begin(), all->end(), [&](const ProcessInfo& p) { return p.pid == pid; });
  ASSERT_NE(found, all->end());
  EXPECT_EQ(found->start_ticks, info->start_ticks);
  EXPECT_EQ(found->cmdline, "sleep " + arg);
  EXPECT_TRUE(
      std::is_sorted(all->begin(), all->end(),
                     [](const ProcessInfo& a, const ProcessInfo& b) { return a.pid < b.pid; }));
  // Kernel threads (kthreadd is pid 2) are not listed.
  EXPECT_EQ(
      std::count_if(all->begin(), all->end(), [](const ProcessInfo& p) { return p.pid == 2; }), 0);

  // A child started after us started no earlier than we did.
  auto self = table_->Get(getpid());
  ASSERT_TRUE(self.ok());
  EXPECT_GE(info->start_ticks, self->start_ticks);
  EXPECT_GE(table_->StartTime(info->start_ticks), table_->StartTime(self->start_ticks));
}

TEST_F(ProcessTableTest, GetOfAMissingPidIsNotFound) {
  // pid_max bounds real pids; 0x7fffffff is never one.
  auto info = table_->Get(0x7fffffff);
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(info.status().message(), "pid 2147483647: no such process");
}

TEST_F(ProcessTableTest, SignalWithStaleStartTicksIsRefused) {
  const pid_t pid = children_.Spawn({"sleep", "3600." + testing::UniqueDigits()});
  ASSERT_GT(pid, 0);
  auto info = table_->Get(pid);
  ASSERT_TRUE(info.ok()) << info.status().message();

  Status stale = table_->Signal(pid, info->start_ticks + 1, SIGKILL);
  EXPECT_EQ(stale.code(), StatusCode::kNotFound);
  EXPECT_EQ(stale.message(), "pid " + std::to_string(pid) + ": now a different process (start " +
                                 std::to_string(info->start_ticks) + ", expected " +
                                 std::to_string(info->start_ticks + 1) + ")");
  EXPECT_FALSE(children_.TryReap(pid, nullptr)) << "a stale signal reached the child";
  EXPECT_FALSE(table_->WaitExit(pid, info->start_ticks, std::chrono::milliseconds(0)));

  ASSERT_TRUE(table_->Signal(pid, info->start_ticks, 0).ok());
  ASSERT_TRUE(table_->Signal(pid, info->start_ticks, SIGKILL).ok());
  EXPECT_TRUE(table_->WaitExit(pid, info->start_ticks, std::chrono::seconds(10)));
  // Exited but not yet reaped (a zombie): signalling it again is kNotFound.
  EXPECT_EQ(table_->Signal(pid, info->start_ticks, SIGTERM).code(), StatusCode::kNotFound);
  int status = 0;
  ASSERT_TRUE(children_.ReapWithin(pid, 10000, &status));
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  EXPECT_EQ(table_->Signal(pid, info->start_ticks, SIGTERM).code(), StatusCode::kNotFound);
  EXPECT_TRUE(table_->WaitExit(pid, info->start_ticks, std::chrono::milliseconds(0)));
}

}  // namespace
}  // namespace ringfence
