#include "core/model/ansible_inventory.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace ringfence {
namespace {

// The error lines for an inventory text, as the runner prints them for a file named `name`.
std::vector<std::string> Errors(const std::string& text, const std::string& name = "inv.ini") {
  ValidationErrors errors;
  auto inv = ParseAnsibleInventory(text, *AnsibleFormatOf(name), "/srv", errors, false);
  EXPECT_FALSE(inv.has_value());
  return errors.Format(name);
}

Inventory Parse(const std::string& text, const std::string& name = "inv.ini") {
  ValidationErrors errors;
  auto inv = ParseAnsibleInventory(text, *AnsibleFormatOf(name), "/srv", errors, false);
  for (const auto& line : errors.Format(name)) ADD_FAILURE() << line;
  return inv ? *inv : Inventory{};
}

TEST(AnsibleInventory, FormatByName) {
  EXPECT_EQ(AnsibleFormatOf("hosts.ini"), AnsibleFormat::kIni);
  EXPECT_EQ(AnsibleFormatOf("/x/hosts.yml"), AnsibleFormat::kYaml);
  EXPECT_EQ(AnsibleFormatOf("hosts.yaml"), AnsibleFormat::kYaml);
  EXPECT_EQ(AnsibleFormatOf("fleet.json"), std::nullopt);
  EXPECT_EQ(AnsibleFormatOf("hosts"), std::nullopt);
}

TEST(AnsibleInventory, ConnectionVariablesBecomeTheHostsSshSettings) {
  Inventory inv = Parse(
      "[web]\n"
      "web[1:2] ansible_host=127.0.0.5 ansible_user=deploy zone=a\n"
      "web3:2203 ansible_ssh_private_key_file=keys/id ringfence_binary=/opt/rf\n"
      "[web:vars]\n"
      "ansible_ssh_common_args='-o KexAlgorithms=curve25519-sha256 -C -J jump@127.0.0.9:22'\n"
      "ansible_password=hunter2\n");
  ASSERT_EQ(inv.hosts.size(), 3u);
  const InventoryHost& w1 = inv.hosts[0];
  EXPECT_EQ(w1.name, "web1");
  EXPECT_EQ(w1.address, "127.0.0.5");
  EXPECT_EQ(w1.user, "deploy");
  EXPECT_EQ(w1.port, 22);
  EXPECT_EQ(w1.tags, (std::map<std::string, std::string>{{"zone", "a"}}));
  EXPECT_EQ(w1.groups, (std::vector<std::string>{"all", "web"}));
  EXPECT_EQ(w1.ssh_options,
            (std::vector<std::string>{"KexAlgorithms=curve25519-sha256", "Compression=yes",
                                      "ProxyJump=jump@127.0.0.9:22"}));
  EXPECT_FALSE(w1.vars.contains("ansible_password"));
  const InventoryHost& w3 = inv.hosts[2];
  EXPECT_EQ(w3.address, "web3");
  EXPECT_EQ(w3.port, 2203);
  EXPECT_EQ(w3.identity_file, "/srv/keys/id");
  EXPECT_EQ(w3.binary, "/opt/rf");
  EXPECT_EQ(inv.groups, (std::vector<std::string>{"all", "ungrouped", "web"}));
}

TEST(AnsibleInventory, ErrorTextsWordForWord) {
  EXPECT_EQ(Errors("[web]\nweb1\n[web\n"),
            std::vector<std::string>{
                "inv.ini:3:1: \"[web\": a host line (pattern [key=value ...]), a [group], "
                "[group:vars] or [group:children] header, or a comment"});
  EXPECT_EQ(Errors("[a:children]\nb\n[b:children]\na\n"),
            std::vector<std::string>{
                "inv.ini:4:1: \"a\" under [b:children] (b → a → b): groups without a cycle"});
  EXPECT_EQ(Errors("[web]\nweb[05:01].internal\n"),
            std::vector<std::string>{
                "inv.ini:2:1: \"web[05:01].internal\": a host pattern whose ranges expand "
                "([01:20], [a:f], [1:9:2]): [05:01] begins after it ends"});
  EXPECT_EQ(Errors("[web]\nweb[1:x]\n"),
            std::vector<std::string>{
                "inv.ini:2:1: \"web[1:x]\": a host pattern whose ranges expand ([01:20], "
                "[a:f], [1:9:2]): [1:x] is not a range of numbers or of letters"});
  EXPECT_EQ(Errors("[web]\nweb[01:100]\n"),
            std::vector<std::string>{
                "inv.ini:2:1: \"web[01:100]\": a host pattern whose ranges expand ([01:20], "
                "[a:f], [1:9:2]): [01:100] pads its begin but not its end to the same width"});
  EXPECT_EQ(Errors("[web:children]\nnothere\n"),
            std::vector<std::string>{
                "inv.ini:2:1: \"nothere\" under [web:children], a group never declared: a group "
                "declared with a [nothere] or [nothere:children] section"});
  EXPECT_EQ(Errors("[web]\nweb1 color\n"),
            std::vector<std::string>{
                "inv.ini:2:1: \"color\": a host variable key=value after the host pattern"});
  EXPECT_EQ(Errors("[web:hosts]\nh1\n[web:extra]\n"),
            std::vector<std::string>{
                "inv.ini:3:1: \"[web:extra]\": a section of type hosts, children or vars "
                "([web:extra] has type \"extra\")"});
  EXPECT_EQ(Errors("[web]\nh1 pw=$ANSIBLE_VAULT;1.1;AES256\n"),
            std::vector<std::string>{
                "inv.ini:2:1: a vaulted value of pw: a plain value (ringfence does not decrypt "
                "Ansible Vault: pass secrets with --secret)"});
  EXPECT_EQ(Errors("$ANSIBLE_VAULT;1.1;AES256\n6162\n"),
            std::vector<std::string>{
                "inv.ini:1:1: an encrypted file ($ANSIBLE_VAULT): a plain value (ringfence does "
                "not decrypt Ansible Vault: pass secrets with --secret)"});
  EXPECT_EQ(Errors("# nothing\n"),
            std::vector<std::string>{"inv.ini:1:1: no hosts: an inventory of at least one host"});
}

TEST(AnsibleInventory, YamlErrorTextsWordForWord) {
  EXPECT_EQ(Errors("all:\n  hosts:\n    db1:\n      db_password: !vault |\n"
                   "        $ANSIBLE_VAULT;1.1;AES256\n        6162\n",
                   "inv.yml"),
            std::vector<std::string>{
                "inv.yml:4:20: a vaulted value of db_password: a plain value (ringfence does not "
                "decrypt Ansible Vault: pass secrets with --secret)"});
  EXPECT_EQ(Errors("plugin: aws_ec2\nregions: [eu-west-1]\n", "inv.yml"),
            std::vector<std::string>{
                "inv.yml:1:1: plugin: \"aws_ec2\": a static inventory (ringfence does not run "
                "inventory plugins: save their output with ansible-inventory --list --yaml and "
                "use that file)"});
  EXPECT_EQ(Errors("all:\n  hosts: [a, b\n", "inv.yml"),
            std::vector<std::string>{
                "inv.yml:3:1: syntax error (end of sequence flow not found): valid YAML"});
  EXPECT_EQ(Errors("web:\n  host:\n    w1:\n", "inv.yml"),
            std::vector<std::string>{
                "inv.yml:2:3: group web: unknown key \"host\": one of hosts, vars, children"});
  EXPECT_EQ(Errors("a:\n  children:\n    b:\n      children:\n        a:\n", "inv.yml"),
            std::vector<std::string>{
                "inv.yml:3:5: \"b\" under a: children (a → b → a): groups without a cycle"});
  EXPECT_EQ(Errors("web:\n  hosts:\n    web[a:3]:\n", "inv.yml"),
            std::vector<std::string>{
                "inv.yml:3:5: \"web[a:3]\": a host pattern whose ranges expand ([01:20], [a:f], "
                "[1:9:2]): [a:3] is not a range of numbers or of letters"});
  std::string deep = "all:\n  vars:\n    v: " + std::string(100, '[') + "\n";
  EXPECT_EQ(Errors(deep, "inv.yml"),
            std::vector<std::string>{"inv.yml:3:1: nesting deeper than 64 levels: at most 64 "
                                     "levels of mappings and sequences"});
}

TEST(AnsibleInventory, UnsafeSshOptionsAreRefusedWithTheReason) {
  EXPECT_EQ(Errors("h1 ansible_ssh_common_args='-o ProxyCommand=\"nc %h %p\"'\n"),
            std::vector<std::string>{
                "inv.ini:1:1: host h1: ansible_ssh_common_args: \"ProxyCommand=nc %h %p\": an "
                "ssh option of the safe subset (docs/fleets.md): it runs a command on the "
                "runner"});
  EXPECT_EQ(Errors("h1 ansible_ssh_extra_args='-o StrictHostKeyChecking=no'\n"),
            std::vector<std::string>{
                "inv.ini:1:1: host h1: ansible_ssh_extra_args: \"StrictHostKeyChecking=no\": an "
                "ssh option of the safe subset (docs/fleets.md): ringfence checks host keys "
                "itself (name the known_hosts file with UserKnownHostsFile or "
                "ringfence_known_hosts)"});
  EXPECT_EQ(Errors("h1 ansible_ssh_common_args='-L 8080:127.0.0.1:80'\n"),
            std::vector<std::string>{
                "inv.ini:1:1: host h1: ansible_ssh_common_args: \"-L\": an ssh option of the "
                "safe subset (docs/fleets.md): only -o Key=Value, -J, -4, -6 and -C are read"});
  EXPECT_EQ(Errors("h1 ansible_connection=local\n"),
            std::vector<std::string>{"inv.ini:1:1: host h1: ansible_connection=\"local\": ssh "
                                     "(ringfence reaches hosts over OpenSSH only)"});
  EXPECT_EQ(Errors("h1 ansible_host=-oProxy\n"),
            std::vector<std::string>{
                "inv.ini:1:1: host h1: ansible_host=\"-oProxy\": an IP address or host name "
                "(letters, digits, '.', ':', '_', '-'; not starting with '-')"});
}

TEST(AnsibleInventory, AnExecutableInventoryIsNeverRun) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("rf-exec-" + std::to_string(getpid()) + ".ini"))
          .string();
  { std::ofstream(path) << "#!/bin/sh\necho '{}'\n"; }
  ASSERT_EQ(::chmod(path.c_str(), 0755), 0);
  ValidationErrors errors;
  EXPECT_FALSE(LoadInventoryFile(path, errors).has_value());
  EXPECT_EQ(errors.Format("inv.ini"),
            std::vector<std::string>{
                "inv.ini: /: an executable file (a dynamic inventory script): a static INI or "
                "YAML inventory (ringfence does not run inventory scripts: save the script's "
                "output with ansible-inventory --list --yaml and use that file)"});
  std::remove(path.c_str());
}

}  // namespace
}  // namespace ringfence
