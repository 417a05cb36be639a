#include <cstdio>
#include <string>

#include <gtest/gtest.h>

namespace {

TEST(CliVersionTest, PrintsVersion) {
  FILE* p = popen(RINGFENCE_BINARY " --version", "r");
  ASSERT_NE(p, nullptr);
  char buf[256] = {0};
  size_t n = fread(buf, 1, sizeof buf - 1, p);
  int rc = pclose(p);
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(std::string(buf, n).rfind("ringfence ", 0), 0u);
}

}  // namespace
