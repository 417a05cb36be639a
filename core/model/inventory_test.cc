#include "core/model/inventory.h"
#include "core/targets/host_selection.h"

#include <gtest/gtest.h>

#include "core/model/experiment.h"
#include "tests/support/processes.h"

namespace ringfence {
namespace {

using Lines = std::vector<std::string>;
using ringfence::testing::TempDir;

class InventoryTest : public ::testing::Test {
 protected:
  InventoryTest() { dir_.Write("id_ed25519", "key"); }

  Lines Errors(const nlohmann::json& doc) {
    ValidationErrors errors;
    ParseInventory(doc, dir_.path(), "", errors);
    return errors.Format("inv.json");
  }
  Inventory Parse(const nlohmann::json& doc) {
    ValidationErrors errors;
    Inventory inv = ParseInventory(doc, dir_.path(), "", errors);
    EXPECT_TRUE(errors.empty()) << errors.Format("inv.json")[0];
    inv.source = "inv.json";
    return inv;
  }
  static nlohmann::json Host(const std::string& name, const std::string& role) {
    return {{"name", name}, {"address", "10.0.0." + name.substr(1)}, {"tags", {{"role", role}}}};
  }
  // Six hosts: w1..w4 role=web, d5 and d6 role=db.
  Inventory Fleet() {
    return Parse({{"defaults", {{"identity_file", "id_ed25519"}}},
                  {"hosts",
                   {Host("w1", "web"), Host("w2", "web"), Host("w3", "web"), Host("w4", "web"),
                    Host("d5", "db"), Host("d6", "db")}}});
  }
  static TargetSpec Spec(HostSelection hosts) {
    TargetSpec spec;
    spec.name = "web";
    spec.pointer = "/targets/web";
    spec.hosts = std::move(hosts);
    return spec;
  }

  TempDir dir_;
};

TEST_F(InventoryTest, ReadsHostsWithDefaultsAndRelativePaths) {
  Inventory inv = Parse(
      {{"defaults", {{"user", "ops"}, {"identity_file", "id_ed25519"}, {"state_dir", "/srv/rf"}}},
       {"ssh", {{"strict_host_key_checking", false}, {"command_timeout", "5s"}}},
       {"hosts",
        {{{"name", "web-1"},
          {"address", "10.0.0.11"},
          {"port", 2222},
          {"tags", {{"role", "web"}}},
          {"user", "root"}}}}});
  ASSERT_EQ(inv.hosts.size(), 1u);
  const InventoryHost& h = inv.hosts[0];
  EXPECT_EQ(h.Describe(), "web-1 (root@10.0.0.11:2222)");
  EXPECT_EQ(h.identity_file, dir_.File("id_ed25519"));
  EXPECT_EQ(h.state_dir, "/srv/rf");
  EXPECT_EQ(h.binary, "ringfence");
  EXPECT_FALSE(inv.ssh.strict_host_key_checking);
  EXPECT_EQ(inv.ssh.command_timeout, std::chrono::seconds(5));
  EXPECT_TRUE(inv.ssh.multiplex);
}

TEST_F(InventoryTest, BadInputIsReportedWordForWord) {
  EXPECT_EQ(Errors({{"hosts",
                     {{{"name", "a"}, {"address", "10.0.0.1"}},
                      {{"name", "a"}, {"address", "10.0.0.2"}}}}}),
            Lines{"inv.json: /hosts/1/name: \"a\": a name not used by another host (/hosts/0 uses "
                  "it)"});
  EXPECT_EQ(Errors({{"hosts",
                     {{{"name", "a"}, {"address", "10.0.0.1"}, {"port", 70000}},
                      {{"name", "b"}, {"address", "10.0.0.2"}, {"port", 0}}}}}),
            (Lines{"inv.json: /hosts/0/port: 70000: an integer from 1 to 65535",
                   "inv.json: /hosts/1/port: 0: an integer from 1 to 65535"}));
  EXPECT_EQ(
      Errors({{"hosts",
               {{{"name", "a"}, {"address", "10.0.0.1"}, {"identity_file", "/nonexistent/key"}}}}}),
      Lines{"inv.json: /hosts/0/identity_file: \"/nonexistent/key\": a readable file (No "
            "such file or directory)"});
  EXPECT_EQ(
      Errors({{"hosts",
               {{{"name", "-oProxyCommand=x"}, {"address", "-oProxy"}, {"user", "root; rm"}}}}}),
      // Members of one object are checked in key order.
      (Lines{"inv.json: /hosts/0/address: \"-oProxy\": an IP address or host name (letters, "
             "digits, '.', ':', '_', '-'; not starting with '-')",
             "inv.json: /hosts/0/name: \"-oProxyCommand=x\": a host name of letters, digits, "
             "'.', '_' and '-'",
             "inv.json: /hosts/0/user: \"root; rm\": a user name (letters, digits, '.', '_', "
             "'-'; not starting with '-')"}));
  EXPECT_EQ(Errors({{"hosts", {{{"address", "10.0.0.1"}, {"tgas", {}}}}}, {"ssh", {{"mux", 1}}}}),
            (Lines{"inv.json: /ssh/mux: unknown key: one of strict_host_key_checking, multiplex, "
                   "command_timeout, connect_timeout",
                   "inv.json: /hosts/0/tgas: unknown key: one of name, address, port, user, "
                   "identity_file, known_hosts, tags, binary, state_dir",
                   "inv.json: /hosts/0/name: missing: a host name of letters, digits, '.', '_' and "
                   "'-'"}));
  EXPECT_EQ(Errors({{"hosts", nlohmann::json::array()}}),
            Lines{"inv.json: /hosts: []: an array of 1 to 10000 hosts"});
}

TEST_F(InventoryTest, SyntaxErrorsCarryLineAndColumn) {
  dir_.Write("bad.json", "{\n  \"hosts\": [,]\n}\n");
  ValidationErrors errors;
  EXPECT_FALSE(LoadInventoryFile(dir_.File("bad.json"), errors).has_value());
  EXPECT_EQ(errors.Format("bad.json"), Lines{"bad.json:2:13: syntax error: valid JSON"});
}

TEST_F(InventoryTest, SelectsHostsByTagsWithTheSeededPercentRoundingDown) {
  Inventory inv = Fleet();
  HostSelection sel;
  sel.tags = {{"role", "web"}};
  sel.select.mode = SelectionMode::kPercent;
  sel.select.percent = 50;
  std::mt19937_64 rng(42);
  auto hosts = SelectHosts(Spec(sel), inv, rng);
  ASSERT_TRUE(hosts.ok()) << hosts.status().message();
  ASSERT_EQ(hosts->size(), 2u);
  for (const auto* h : *hosts) EXPECT_EQ(h->tags.at("role"), "web");
  // The same seed picks the same hosts.
  std::mt19937_64 again(42);
  auto replay = SelectHosts(Spec(sel), inv, again);
  ASSERT_TRUE(replay.ok());
  EXPECT_EQ((*replay)[0]->name, (*hosts)[0]->name);
  EXPECT_EQ((*replay)[1]->name, (*hosts)[1]->name);
  sel.select.percent = 70;  // 2.8 of 4: rounds down to 2
  auto seventy = SelectHosts(Spec(sel), inv, rng);
  ASSERT_TRUE(seventy.ok());
  EXPECT_EQ(seventy->size(), 2u);
}

TEST_F(InventoryTest, HostSelectionErrorsAreWordForWord) {
  Inventory inv = Fleet();
  std::mt19937_64 rng(1);
  auto message = [&](HostSelection sel) {
    auto r = SelectHosts(Spec(sel), inv, rng);
    return r.ok() ? std::string("ok") : r.status().message();
  };
  HostSelection none;
  none.tags = {{"role", "cache"}};
  EXPECT_EQ(message(none),
            "/targets/web/hosts/tags: {\"role\":\"cache\"}: tags that match at least one host of "
            "the inventory inv.json (none has role=cache)");
  HostSelection tiny;
  tiny.tags = {{"role", "db"}};
  tiny.select.mode = SelectionMode::kPercent;
  tiny.select.percent = 10;
  EXPECT_EQ(message(tiny),
            "/targets/web/hosts/select/percent: 10: a percent that selects at least one of the 2 "
            "matching hosts (it rounds down to 0)");
  HostSelection too_many;
  too_many.tags = {{"role", "db"}};
  too_many.select.mode = SelectionMode::kCount;
  too_many.select.count = 3;
  EXPECT_EQ(message(too_many),
            "/targets/web/hosts/select/count: 3: at most the 2 hosts that match");
  HostSelection all;
  all.tags = {{"role", "web"}};
  EXPECT_EQ(message(all),
            "/targets/web/hosts: every host of the group role=web (4 hosts): fewer hosts, or "
            "\"allow_full_blast\": true");
  all.allow_full_blast = true;
  EXPECT_EQ(message(all), "ok");
  HostSelection named;
  named.names = {"w1", "x9"};
  EXPECT_EQ(message(named),
            "/targets/web/hosts/names/1: \"x9\": the name of a host in the inventory inv.json");
}

TEST_F(InventoryTest, ValidateHostTargetsReportsEveryTargetAsValidationErrors) {
  Inventory inv = Fleet();
  Experiment e;
  HostSelection none;
  none.tags = {{"role", "cache"}};
  e.targets.push_back(Spec(none));
  HostSelection ok;
  ok.names = {"w1"};
  TargetSpec second = Spec(ok);
  second.pointer = "/targets/one";
  e.targets.push_back(second);
  ValidationErrors errors;
  ValidateHostTargets(e, inv, errors);
  EXPECT_EQ(errors.Format("exp.json"),
            Lines{"exp.json: /targets/web/hosts/tags: {\"role\":\"cache\"}: tags that match at "
                  "least one host of the inventory inv.json (none has role=cache)"});
}

}  // namespace
}  // namespace ringfence
