// WatchdogHandle::Start returns only once the watchdog is armed; a watchdog that cannot start is
// an error, so that nothing is run without one (docs/crash-safety.md).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "core/sys/system_process_table.h"
#include "runner/watchdog/watchdog.h"
#include "tests/support/processes.h"

namespace ringfence::testing {
namespace {

TEST(WatchdogStartTest, AWatchdogThatCannotBeExecutedIsAnError) {
  TempDir dir;
  auto processes = MakeSystemProcessTable();
  auto handle = WatchdogHandle::Start(dir.File("no-such-ringfence"), dir.File("run.ledger"), -1,
                                      std::chrono::milliseconds(3000), *processes);
  ASSERT_FALSE(handle.ok());
  EXPECT_EQ(handle.status().message(), "the watchdog exited before it was armed (exit code 127)");
}

TEST(WatchdogStartTest, AProgramThatIsNoWatchdogIsAnError) {
  TempDir dir;
  auto processes = MakeSystemProcessTable();
  // `true` ignores its arguments and exits 0 without ever answering.
  auto handle = WatchdogHandle::Start("/bin/true", dir.File("run.ledger"), -1,
                                      std::chrono::milliseconds(3000), *processes);
  ASSERT_FALSE(handle.ok());
  EXPECT_EQ(handle.status().message(), "the watchdog exited before it was armed (exit code 0)");
}

TEST(WatchdogStartTest, TheRealWatchdogIsArmedAndFinishes) {
  TempDir dir;
  auto processes = MakeSystemProcessTable();
  auto handle = WatchdogHandle::Start(RINGFENCE_BINARY, dir.File("run.ledger"), -1,
                                      std::chrono::milliseconds(3000), *processes);
  ASSERT_TRUE(handle.ok()) << handle.status().message();
  const pid_t pid = (*handle)->pid();
  (*handle)->Finish();
  EXPECT_FALSE(std::filesystem::exists("/proc/" + std::to_string(pid)));
}

}  // namespace
}  // namespace ringfence::testing
