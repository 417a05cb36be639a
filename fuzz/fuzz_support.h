#pragma once

// What the harnesses of fuzz/ share (docs/fuzzing.md). Only the harnesses include this.

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

namespace ringfence::fuzz {

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// A broken property (not a crash of the code under test, but a wrong answer): libFuzzer reports
// the deadly signal and keeps the input, like any crash.
[[noreturn]] inline void Violated(const char* property) {
  std::fprintf(stderr, "fuzz property violated: %s\n", property);
  std::abort();
}

// Why an input was refused, printed when RINGFENCE_FUZZ_EXPLAIN is set (to check that a seed is
// valid, i.e. reaches past validation: `RINGFENCE_FUZZ_EXPLAIN=1 build-fuzz/fuzz/fuzz_x SEED`).
inline void Explain(const std::string& line) {
  static const bool on = std::getenv("RINGFENCE_FUZZ_EXPLAIN") != nullptr;
  if (on) std::fprintf(stderr, "%s\n", line.c_str());
}

// A private directory for the harnesses that must go through a file (the readers take paths),
// made once per process under $TMPDIR (or /tmp), removed at exit. Never destroyed: the exit
// handler that removes it runs after the destructors of function-local statics.
inline const std::string& ScratchDir() {
  static const std::string* const dir = new std::string([] {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        std::string(tmp != nullptr && *tmp == '/' ? tmp : "/tmp") + "/ringfence-fuzz-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      std::perror("mkdtemp");
      std::abort();
    }
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(ScratchDir(), ec);
    });
    return pattern;
  }());
  return *dir;
}

// Replaces `<ScratchDir()>/<name>` with `text` (mode 0600) and returns its path.
inline std::string WriteScratchFile(const std::string& name, std::string_view text) {
  const std::string path = ScratchDir() + "/" + name;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    std::perror(path.c_str());
    std::abort();
  }
  size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n <= 0) {
      std::perror(path.c_str());
      std::abort();
    }
    off += static_cast<size_t>(n);
  }
  ::close(fd);
  return path;
}

}  // namespace ringfence::fuzz
