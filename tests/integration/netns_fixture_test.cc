#include <gtest/gtest.h>

#include "tests/support/netns.h"

namespace ringfence::testing {
namespace {

TEST(NetnsFixtureTest, CreatesConnectedNamespacesAndRemovesThem) {
  std::string server_ns;
  {
    NetnsPair pair;
    ASSERT_TRUE(pair.ok()) << pair.error();
    server_ns = pair.server_ns();
    std::string addrs;
    ASSERT_EQ(NetnsPair::Run(NetnsPair::In(pair.client_ns(), {"ip", "-4", "addr", "show"}), &addrs),
              0);
    EXPECT_NE(addrs.find(pair.client_addr() + "/24"), std::string::npos) << addrs;
  }
  std::string list;
  ASSERT_EQ(NetnsPair::Run({"ip", "netns", "list"}, &list), 0);
  EXPECT_EQ(list.find(server_ns), std::string::npos) << list;
}

}  // namespace
}  // namespace ringfence::testing
