#include "core/base/shell_quote.h"

#include <gtest/gtest.h>

namespace ringfence {
namespace {

TEST(ShellQuoteTest, AlwaysQuotesAndEscapesSingleQuotes) {
  EXPECT_EQ(ShellQuote("plain"), "'plain'");
  EXPECT_EQ(ShellQuote(""), "''");
  EXPECT_EQ(ShellQuote("it's $HOME"), "'it'\\''s $HOME'");
}

TEST(ShellQuoteTest, JoinQuotesOnlyWhatNeedsIt) {
  EXPECT_EQ(ShellJoin({"systemctl", "restart", "web-1.service"}),
            "systemctl restart web-1.service");
  EXPECT_EQ(ShellJoin({"sh", "-c", "echo 'hi' > /tmp/x", ""}),
            "sh -c 'echo '\\''hi'\\'' > /tmp/x' ''");
}

}  // namespace
}  // namespace ringfence
