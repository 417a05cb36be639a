// Ansible inventories checked against Ansible itself (Debian's `ansible`): every inventory of
// tests/ansible_inventories is parsed by ringfence and by `ansible-inventory --list`, and the
// hosts, their groups (directly or through children) and their variables must be the same;
// --limit patterns are checked against `ansible all --list-hosts --limit`. No network is used.

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>

#include "core/base/input_file.h"
#include "core/model/ansible_inventory.h"
#include "core/sys/run_command.h"
#include "core/targets/host_pattern.h"
#include "tests/support/processes.h"

namespace ringfence {
namespace {

namespace fs = std::filesystem;

const std::string kCorpus = std::string(RINGFENCE_SOURCE_DIR) + "/tests/ansible_inventories";

// Ansible with only the static inventory readers, failing on what it cannot parse, and its
// home and temporary files in a folder of the tests' own.
std::vector<std::string> Ansible(std::vector<std::string> argv) {
  static const testing::TempDir
      home;  // Ansible's home and temporary files; removed when the tests end
  std::vector<std::string> env = {"/usr/bin/env",
                                  "ANSIBLE_INVENTORY_ENABLED=ini,yaml",
                                  "ANSIBLE_INVENTORY_UNPARSED_FAILED=true",
                                  "ANSIBLE_LOCALHOST_WARNING=false",
                                  "ANSIBLE_HOST_PATTERN_MISMATCH=ignore",
                                  "ANSIBLE_LOCAL_TEMP=" + home.path(),
                                  "ANSIBLE_HOME=" + home.path(),
                                  "ANSIBLE_NOCOLOR=1"};
  env.insert(env.end(), argv.begin(), argv.end());
  return env;
}

bool HaveAnsible() { return FindExecutable("ansible-inventory").has_value(); }

std::vector<std::string> CorpusFiles() {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(kCorpus)) files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

Inventory Parse(const std::string& file) {
  auto text = ReadInputFile(file, kMaxInventoryBytes, "inventory file");
  EXPECT_TRUE(text.ok()) << file;
  ValidationErrors errors;
  auto inv = ParseAnsibleInventory(*text, *AnsibleFormatOf(file), kCorpus, errors, false);
  for (const auto& line : errors.Format(file)) ADD_FAILURE() << line;
  EXPECT_TRUE(inv.has_value()) << file;
  return inv ? *inv : Inventory{};
}

// host → its groups (through children too, "all" included), from ansible-inventory --list.
std::map<std::string, std::set<std::string>> OracleGroups(const nlohmann::json& list) {
  std::map<std::string, std::set<std::string>> direct;
  std::map<std::string, std::set<std::string>> parents;
  for (const auto& [group, body] : list.items()) {
    if (group == "_meta") continue;
    for (const auto& h : body.value("hosts", nlohmann::json::array())) direct[h].insert(group);
    for (const auto& c : body.value("children", nlohmann::json::array())) {
      parents[c].insert(group);
    }
  }
  std::map<std::string, std::set<std::string>> out;
  for (const auto& [host, groups] : direct) {
    std::vector<std::string> todo(groups.begin(), groups.end());
    std::set<std::string>& in = out[host];
    in.insert("all");
    while (!todo.empty()) {
      const std::string g = todo.back();
      todo.pop_back();
      if (!in.insert(g).second && g != "all") continue;
      for (const auto& p : parents[g]) todo.push_back(p);
    }
  }
  return out;
}

TEST(AnsibleInventoryOracle, CorpusHasAtLeastTenInventoriesOfBothFormats) {
  size_t ini = 0, yaml = 0;
  for (const auto& f : CorpusFiles()) {
    auto format = AnsibleFormatOf(f);
    ASSERT_TRUE(format.has_value()) << f;
    (*format == AnsibleFormat::kIni ? ini : yaml)++;
  }
  EXPECT_GE(ini + yaml, 10u);
  EXPECT_GE(ini, 4u);
  EXPECT_GE(yaml, 4u);
}

TEST(AnsibleInventoryOracle, HostsGroupsAndVarsMatchAnsibleInventoryList) {
  if (!HaveAnsible()) GTEST_SKIP() << "ansible is not installed (scripts/setup installs it)";
  for (const auto& file : CorpusFiles()) {
    SCOPED_TRACE(file);
    auto run =
        RunCommand(Ansible({"ansible-inventory", "--list", "-i", file}), std::chrono::seconds(60));
    ASSERT_TRUE(run.ok());
    ASSERT_EQ(run->exit_code, 0) << run->err;
    const nlohmann::json oracle = nlohmann::json::parse(run->out);
    const nlohmann::json& hostvars = oracle["_meta"]["hostvars"];
    const auto oracle_groups = OracleGroups(oracle);
    const Inventory inv = Parse(file);

    std::set<std::string> ours, theirs;
    for (const auto& h : inv.hosts) ours.insert(h.name);
    for (const auto& [h, groups] : oracle_groups) theirs.insert(h);
    EXPECT_EQ(ours, theirs);
    for (const auto& h : inv.hosts) {
      SCOPED_TRACE(h.name);
      auto it = oracle_groups.find(h.name);
      ASSERT_NE(it, oracle_groups.end());
      EXPECT_EQ(std::set<std::string>(h.groups.begin(), h.groups.end()), it->second);
      const nlohmann::json expected =
          hostvars.contains(h.name) ? hostvars[h.name] : nlohmann::json::object();
      EXPECT_EQ(h.vars, expected) << "ours: " << h.vars.dump() << "\nansible: " << expected.dump();
    }
  }
}

// The names `ansible all --list-hosts -i F --limit P` prints, sorted; empty when none match.
std::vector<std::string> OracleLimit(const std::string& file, const std::string& pattern) {
  auto run = RunCommand(Ansible({"ansible", "all", "--list-hosts", "-i", file, "--limit", pattern}),
                        std::chrono::seconds(60));
  EXPECT_TRUE(run.ok());
  std::vector<std::string> names;
  if (!run.ok() || run->exit_code != 0) return names;
  std::istringstream lines(run->out);
  std::string line;
  while (std::getline(lines, line)) {
    const size_t a = line.find_first_not_of(' ');
    if (a == std::string::npos || line.compare(a, 6, "hosts ") == 0) continue;
    names.push_back(line.substr(a));
  }
  std::sort(names.begin(), names.end());
  return names;
}

TEST(AnsibleInventoryOracle, LimitPatternsMatchAnsibleListHosts) {
  if (!HaveAnsible()) GTEST_SKIP() << "ansible is not installed (scripts/setup installs it)";
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"02_children.ini",
       {"web", "web:db", "prod:!db", "prod:&web", "web:&prod:!web2", "everything:!staging", "web*",
        "w?b1", "~(web|db)1", "!db", "web,db1", "db1:web1", "all", "staging:db[0]", "db[0:1]", "*1",
        "all:!web:!db"}},
      {"03_ranges.ini", {"web[0:2]", "~web0[1-3]", "*dc1*:!db", "cache:&*-a", "db-[a-c]*"}},
      {"06_ungrouped.ini", {"ungrouped", "ungrouped:!loner*", "web:ungrouped", "explicit"}},
      {"10_nested.yaml", {"prod:&db", "prod:!web", "~[ws]", "staging,w1"}},
      {"12_toplevel_groups.yml", {"web:&db", "prod:!db", "web1", "d*"}},
  };
  for (const auto& [name, patterns] : cases) {
    const std::string file = kCorpus + "/" + name;
    const Inventory inv = Parse(file);
    for (const auto& pattern : patterns) {
      SCOPED_TRACE(name + " --limit " + pattern);
      std::vector<std::string> expected = OracleLimit(file, pattern);
      ASSERT_FALSE(expected.empty()) << "the oracle matched nothing";
      auto ours = MatchHostPattern(inv, pattern);
      ASSERT_TRUE(ours.ok()) << ours.status().message();
      std::vector<std::string> names;
      for (const auto* h : *ours) names.push_back(h->name);
      std::sort(names.begin(), names.end());
      EXPECT_EQ(names, expected);
    }
  }
}

TEST(AnsibleInventoryOracle, APatternMatchingNothingMatchesNothingForAnsibleToo) {
  if (!HaveAnsible()) GTEST_SKIP() << "ansible is not installed (scripts/setup installs it)";
  const std::string file = kCorpus + "/02_children.ini";
  const Inventory inv = Parse(file);
  for (const std::string pattern : {"nosuch", "web:&db", "web*:!prod"}) {
    SCOPED_TRACE(pattern);
    EXPECT_TRUE(OracleLimit(file, pattern).empty());
    auto ours = MatchHostPattern(inv, pattern);
    ASSERT_FALSE(ours.ok());
    EXPECT_EQ(ours.status().message(),
              nlohmann::json(pattern).dump() +
                  ": a pattern that matches at least one host of the inventory ");
  }
}

}  // namespace
}  // namespace ringfence
