#include "core/base/input_file.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace ringfence {
namespace {

using Clock = std::chrono::steady_clock;

class InputFileTest : public ::testing::Test {
 protected:
  InputFileTest() {
    dir_ = ::testing::TempDir() + "ringfence_input_" + std::to_string(getpid());
    std::filesystem::create_directories(dir_);
  }
  ~InputFileTest() override { std::filesystem::remove_all(dir_); }

  // "<found>: <allowed>", checked to come back quickly.
  std::string Refusal(const std::string& path, size_t max_bytes = 1 << 20) {
    const auto start = Clock::now();
    InputFileRefusal refusal;
    auto text = ReadInputFile(path, max_bytes, "JSON file", &refusal);
    EXPECT_LT(Clock::now() - start, std::chrono::seconds(1)) << path;
    if (text.ok()) return "read " + std::to_string(text->size()) + " bytes";
    EXPECT_EQ(text.status().message(), refusal.found + ": " + refusal.allowed);
    return text.status().message();
  }

  std::string dir_;
};

TEST_F(InputFileTest, ReadsARegularFileOnce) {
  const std::string path = dir_ + "/exp.json";
  std::ofstream(path) << "{}";
  auto text = ReadInputFile(path, 1 << 20);
  ASSERT_TRUE(text.ok()) << text.status().message();
  EXPECT_EQ(*text, "{}");
  // Through a symbolic link too: the file it names is what counts.
  std::filesystem::create_symlink(path, dir_ + "/link.json");
  EXPECT_EQ(Refusal(dir_ + "/link.json"), "read 2 bytes");
}

// Issue 11: `ringfence run FIFO` blocked forever.
TEST_F(InputFileTest, AFifoIsRefusedWithoutBlocking) {
  const std::string path = dir_ + "/fifo";
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  EXPECT_EQ(Refusal(path), "a FIFO: a regular JSON file");
}

// Issue 11: /dev/zero died of bad_alloc after 6–9 s.
TEST_F(InputFileTest, DevicesAreRefused) {
  EXPECT_EQ(Refusal("/dev/zero"), "a character device: a regular JSON file");
  EXPECT_EQ(Refusal("/dev/null"), "a character device: a regular JSON file");
  EXPECT_EQ(Refusal("/dev/urandom"), "a character device: a regular JSON file");
}

TEST_F(InputFileTest, ADirectoryIsRefused) {
  EXPECT_EQ(Refusal(dir_), "a directory: a regular JSON file");
}

TEST_F(InputFileTest, ASocketIsRefused) {
  const std::string path = dir_ + "/sock";
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  EXPECT_EQ(Refusal(path), "a socket: a regular JSON file");
  ::close(fd);
}

TEST_F(InputFileTest, AnOversizeFileIsRefusedBeforeItIsRead) {
  const std::string path = dir_ + "/big.json";
  { std::ofstream out(path); }
  std::filesystem::resize_file(path, 2 * 1024 * 1024);
  EXPECT_EQ(Refusal(path), "2097152 bytes: a file of at most 1048576 bytes (1 MiB)");
  std::filesystem::resize_file(path, (1 << 20) + 1);
  EXPECT_EQ(Refusal(path), "1048577 bytes: a file of at most 1048576 bytes (1 MiB)");
  std::filesystem::resize_file(path, 1 << 20);
  EXPECT_EQ(Refusal(path), "read 1048576 bytes");
  EXPECT_EQ(Refusal(path, 1000), "1048576 bytes: a file of at most 1000 bytes");
}

// A file whose size says 0 but which has more to read (/proc) is still bounded.
TEST_F(InputFileTest, AFileLargerThanItsSizeSaysIsBounded) {
  auto text = ReadInputFile("/proc/self/status", 1 << 20);
  ASSERT_TRUE(text.ok()) << text.status().message();
  EXPECT_NE(text->find("Name:"), std::string::npos);
  EXPECT_EQ(Refusal("/proc/self/status", 10), "more than 10 bytes: a file of at most 10 bytes");
}

TEST_F(InputFileTest, MissingAndUnreadableFiles) {
  auto missing = ReadInputFile(dir_ + "/nope.json", 1 << 20);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(),
            "cannot read the file (No such file or directory): a readable JSON file");
  EXPECT_EQ(ReadInputFile(dir_ + "/nope", 10, "file").status().message(),
            "cannot read the file (No such file or directory): a readable file");
}

// Standard input (`ringfence run -`) goes through the same bounded read as a file.
TEST_F(InputFileTest, AStreamIsReadToItsEndWithinTheBound) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ASSERT_EQ(::write(fds[1], "{\"a\": 1}", 8), 8);
  ::close(fds[1]);
  auto text = ReadInputStream(fds[0], 1 << 20);
  ::close(fds[0]);
  ASSERT_TRUE(text.ok()) << text.status().message();
  EXPECT_EQ(*text, "{\"a\": 1}");

  ASSERT_EQ(::pipe(fds), 0);
  ASSERT_EQ(::write(fds[1], "0123456789ab", 12), 12);
  ::close(fds[1]);
  InputFileRefusal refusal;
  auto big = ReadInputStream(fds[0], 10, "JSON file", &refusal);
  ::close(fds[0]);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().message(), "more than 10 bytes: a file of at most 10 bytes");
  EXPECT_EQ(refusal.found, "more than 10 bytes");

  // A regular file as the stream (`< file`) is refused by its size before any read.
  const std::string path = dir_ + "/big.json";
  std::ofstream(path) << std::string(2048, ' ');
  const int fd = ::open(path.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(ReadInputStream(fd, 1024).status().message(),
            "2048 bytes: a file of at most 1024 bytes (1 KiB)");
  ::close(fd);
}

}  // namespace
}  // namespace ringfence
