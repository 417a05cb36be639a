#include "core/targets/host_pattern.h"

#include <gtest/gtest.h>

namespace ringfence {
namespace {

Inventory Fleet() {
  Inventory inv;
  inv.source = "/srv/hosts.ini";
  inv.groups = {"all", "db", "prod", "ungrouped", "web"};
  auto add = [&](std::string name, std::vector<std::string> groups) {
    InventoryHost h;
    h.name = name;
    h.address = name;
    h.groups = std::move(groups);
    inv.hosts.push_back(h);
  };
  add("web1", {"all", "prod", "web"});
  add("web2", {"all", "prod", "web"});
  add("db1", {"all", "db", "prod"});
  add("lone", {"all", "ungrouped"});
  return inv;
}

std::string Names(const Inventory& inv, const std::string& pattern) {
  auto hosts = MatchHostPattern(inv, pattern);
  if (!hosts.ok()) return "error: " + hosts.status().message();
  std::string out;
  for (const auto* h : *hosts) out += (out.empty() ? "" : ",") + h->name;
  return out;
}

TEST(HostPattern, AnsibleSyntax) {
  const Inventory inv = Fleet();
  EXPECT_EQ(Names(inv, "web"), "web1,web2");
  EXPECT_EQ(Names(inv, "db1:web"), "web1,web2,db1");  // inventory order
  EXPECT_EQ(Names(inv, "prod:!web"), "db1");
  EXPECT_EQ(Names(inv, "!web"), "db1,lone");
  EXPECT_EQ(Names(inv, "prod:&web:!web2"), "web1");
  EXPECT_EQ(Names(inv, "web*"), "web1,web2");
  EXPECT_EQ(Names(inv, "*1"), "web1,db1");
  EXPECT_EQ(Names(inv, "~(web|db)1"), "web1,db1");
  EXPECT_EQ(Names(inv, "~eb"),
            "error: \"~eb\": a pattern that matches at least one host of the "
            "inventory /srv/hosts.ini");  // re.match: from the start
  EXPECT_EQ(Names(inv, "web[1]"), "web2");
  EXPECT_EQ(Names(inv, "web[-1]"), "web2");
  EXPECT_EQ(Names(inv, "prod[0:1]"), "web1,web2");
  EXPECT_EQ(Names(inv, "web,lone"), "web1,web2,lone");
  EXPECT_EQ(Names(inv, "ungrouped"), "lone");
  EXPECT_EQ(Names(inv, "all:!prod"), "lone");
}

TEST(HostPattern, ErrorsWordForWord) {
  const Inventory inv = Fleet();
  EXPECT_EQ(Names(inv, "web:&db"),
            "error: \"web:&db\": a pattern that matches at least one host of the inventory "
            "/srv/hosts.ini");
  EXPECT_EQ(Names(inv, "~(web"), "error: \"~(web\": a regex RE2 compiles (missing ): (web)");
  EXPECT_EQ(Names(inv, "@retry.txt"),
            "error: \"@retry.txt\": an Ansible host pattern (groups or hosts with * ? [..] or "
            "~regex, joined by ':' or ',', '&' to intersect, '!' to exclude) (a file of hosts "
            "after @ is not read)");
  EXPECT_EQ(Names(inv, "web:!"),
            "error: \"web:!\": an Ansible host pattern (groups or hosts with * ? [..] or "
            "~regex, joined by ':' or ',', '&' to intersect, '!' to exclude)");
}

TEST(HostPattern, LimitKeepsOnlyTheMatchedHosts) {
  Inventory inv = Fleet();
  ASSERT_TRUE(LimitInventory(inv, "prod:!web1").ok());
  ASSERT_EQ(inv.hosts.size(), 2u);
  EXPECT_EQ(inv.hosts[0].name, "web2");
  EXPECT_EQ(inv.hosts[1].name, "db1");
}

}  // namespace
}  // namespace ringfence
