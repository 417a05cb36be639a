#include "core/ledger/state_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "core/ledger/file_ledger.h"
#include "core/ledger/recovery.h"
#include "tests/support/processes.h"

namespace ringfence {
namespace {

using testing::TempDir;

mode_t ModeOf(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0 ? st.st_mode & 07777 : 01000000;
}

std::string MessageOf(const Status& st) { return st.message(); }

class StateDirTest : public ::testing::Test {
 protected:
  std::string state() const { return dir_.File("state"); }
  TempDir dir_;
};

TEST_F(StateDirTest, IsCreatedOwnerOnlyWhateverTheUmask) {
  const mode_t old = ::umask(0);
  auto dir = StateDir::Open(dir_.File("a/b/state"), true);
  auto ledger = FileLedger::Create(dir_.File("a/b/state"), "run1", {{"title", "t"}});
  ::umask(old);
  ASSERT_TRUE(dir.ok()) << dir.status().message();
  ASSERT_TRUE(ledger.ok()) << ledger.status().message();
  EXPECT_EQ(ModeOf(dir_.File("a")), 0700u);
  EXPECT_EQ(ModeOf(dir_.File("a/b/state")), 0700u);
  EXPECT_EQ(ModeOf(dir_.File("a/b/state/runs")), 0700u);
  EXPECT_EQ(ModeOf(dir_.File("a/b/state/ledger.key")), 0600u);
  EXPECT_EQ(ModeOf(dir_.File("a/b/state/runs/run1.ledger")), 0600u);
  // Even a umask that takes everything away leaves them usable by their owner.
  const mode_t all = ::umask(0777);
  auto locked = StateDirLock::TryAcquire(dir_.File("c"));
  ::umask(all);
  ASSERT_TRUE(locked.ok()) << locked.status().message();
  EXPECT_EQ(ModeOf(dir_.File("c")), 0700u);
  EXPECT_EQ(ModeOf(dir_.File("c/run.lock")), 0600u);
}

TEST_F(StateDirTest, RefusesAGroupOrWorldWritableDir) {
  ASSERT_EQ(::mkdir(state().c_str(), 0700), 0);
  ASSERT_EQ(::chmod(state().c_str(), 0777), 0);
  EXPECT_EQ(MessageOf(StateDir::Open(state(), true).status()),
            "state dir " + state() +
                ": is group- or world-writable (mode 0777); fix with chmod 700 " + state());
  ASSERT_EQ(::chmod(state().c_str(), 01770), 0);
  EXPECT_EQ(MessageOf(StateDir::Open(state(), false).status()),
            "state dir " + state() +
                ": is group- or world-writable (mode 1770); fix with chmod 700 " + state());
  EXPECT_EQ(StateDir::Open(state(), false).status().code(), StatusCode::kPermission);
  ASSERT_EQ(::chmod(state().c_str(), 0755), 0);  // readable by others is fine
  ASSERT_EQ(::mkdir((state() + "/runs").c_str(), 0700), 0);
  ASSERT_EQ(::chmod((state() + "/runs").c_str(), 0722), 0);
  EXPECT_EQ(MessageOf(StateDir::Open(state(), false).status()),
            "runs dir " + state() +
                "/runs: is group- or world-writable (mode 0722); fix with chmod 700 " + state() +
                "/runs");
  // Refused by the lock too, so that no command acts in it.
  EXPECT_EQ(MessageOf(StateDirLock::TryAcquire(state()).status()),
            "runs dir " + state() +
                "/runs: is group- or world-writable (mode 0722); fix with chmod 700 " + state() +
                "/runs");
}

TEST_F(StateDirTest, RefusesSymbolicLinksAndOtherOwners) {
  ASSERT_EQ(::mkdir(dir_.File("real").c_str(), 0700), 0);
  ASSERT_EQ(::symlink(dir_.File("real").c_str(), state().c_str()), 0);
  EXPECT_EQ(MessageOf(StateDir::Open(state(), true).status()),
            "state dir " + state() + ": is a symbolic link; not followed");
  EXPECT_EQ(MessageOf(StateDir::Open(state() + "/", false).status()),
            "state dir " + state() + ": is a symbolic link; not followed");
  ASSERT_EQ(::chown(dir_.File("real").c_str(), 65534, 65534), 0);
  EXPECT_EQ(MessageOf(StateDir::Open(dir_.File("real"), false).status()),
            "state dir " + dir_.File("real") +
                ": is owned by uid 65534, not by root; fix with chown 0 " + dir_.File("real"));
  ASSERT_EQ(::mkdir(dir_.File("s2").c_str(), 0700), 0);
  ASSERT_EQ(::symlink(dir_.File("real").c_str(), dir_.File("s2/runs").c_str()), 0);
  EXPECT_EQ(MessageOf(StateDir::Open(dir_.File("s2"), false).status()),
            "runs dir " + dir_.File("s2") + "/runs: is a symbolic link; not followed");
  dir_.Write("file", "x");
  EXPECT_EQ(MessageOf(StateDir::Open(dir_.File("file"), false).status()),
            "state dir " + dir_.File("file") + ": is not a directory");
  EXPECT_EQ(MessageOf(StateDir::Open(dir_.File("none"), false).status()),
            "state dir " + dir_.File("none") + ": does not exist");
}

TEST_F(StateDirTest, LedgersThatBreakTheRulesAreNotRead) {
  auto ledger = FileLedger::Create(state(), "run1", {{"title", "t"}});
  ASSERT_TRUE(ledger.ok()) << ledger.status().message();
  const std::string path = (*ledger)->path();
  ledger->reset();
  ASSERT_TRUE(ReadLedger(path).ok());
  ASSERT_EQ(::chmod(path.c_str(), 0666), 0);
  EXPECT_EQ(
      MessageOf(ReadLedger(path).status()),
      "ledger " + path + ": is group- or world-writable (mode 0666); fix with chmod 600 " + path);
  EXPECT_EQ(
      MessageOf(FileLedger::OpenForAppend(path).status()),
      "ledger " + path + ": is group- or world-writable (mode 0666); fix with chmod 600 " + path);
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  ASSERT_EQ(::chown(path.c_str(), 65534, 65534), 0);
  EXPECT_EQ(MessageOf(ReadLedger(path).status()),
            "ledger " + path + ": is owned by uid 65534, not by root; fix with chown 0 " + path);
  ASSERT_EQ(::chown(path.c_str(), 0, 0), 0);
  const std::string link = state() + "/runs/run2.ledger";
  ASSERT_EQ(::symlink(path.c_str(), link.c_str()), 0);
  EXPECT_EQ(MessageOf(ReadLedger(link).status()),
            "ledger " + link + ": is a symbolic link; not followed");
  ASSERT_EQ(::mkfifo((state() + "/runs/run3.ledger").c_str(), 0600), 0);
  EXPECT_EQ(MessageOf(ReadLedger(state() + "/runs/run3.ledger").status()),
            "ledger " + state() + "/runs/run3.ledger: is not a regular file");
  EXPECT_EQ(ReadLedger(state() + "/runs/run4.ledger").status().code(), StatusCode::kNotFound);
}

TEST_F(StateDirTest, TheLedgerKeyIsSecretAndOurs) {
  auto ledger = FileLedger::Create(state(), "run1", {{"title", "t"}});
  ASSERT_TRUE(ledger.ok()) << ledger.status().message();
  const std::string path = (*ledger)->path();
  ledger->reset();
  const std::string key = state() + "/ledger.key";
  ASSERT_EQ(::chmod(key.c_str(), 0640), 0);
  EXPECT_EQ(
      MessageOf(ReadLedger(path).status()),
      "ledger key " + key + ": is group- or world-readable (mode 0640); fix with chmod 600 " + key);
  ASSERT_EQ(::chmod(key.c_str(), 0600), 0);
  ASSERT_EQ(::truncate(key.c_str(), 5), 0);
  EXPECT_EQ(MessageOf(ReadLedger(path).status()),
            "ledger key " + key +
                ": is 5 bytes, not 32; move it away to make a new one (the ledgers "
                "it signed are then not trusted)");
  ASSERT_EQ(::unlink(key.c_str()), 0);
  EXPECT_EQ(MessageOf(ReadLedger(path).status()),
            "ledger " + path + ": cannot be authenticated: the state dir has no ledger key (" +
                key + ")");
  ASSERT_EQ(::symlink("/etc/hostname", key.c_str()), 0);
  EXPECT_EQ(MessageOf(StateDir::Open(state(), false)->LedgerKey(true).status()),
            "ledger key " + key + ": is a symbolic link; not followed");
  ASSERT_EQ(::unlink(key.c_str()), 0);
  // A new key: the old ledger's lines no longer authenticate.
  ASSERT_TRUE(FileLedger::Create(state(), "run2", {}).ok());
  auto old = ReadLedger(path);
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->problems.size(), 1u);
  EXPECT_TRUE(old->run.is_null());
}

}  // namespace
}  // namespace ringfence
