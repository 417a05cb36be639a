#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "tests/support/child_processes.h"
#include "tests/support/processes.h"

namespace ringfence::testing {

// N test hosts, each a network namespace on one bridge with an address of its own and a real
// `sshd` listening on it (port 22), its own host key, and its own empty HOME: sshd runs in a
// mount namespace where a per-host directory is bind-mounted on /root, so `/root/...` names a
// different file on every host (used for pidfiles and state dirs), and root's .bashrc does not
// run. One client key is authorized on every host; `known_hosts` lists every host's key.
//
// Everything is torn down by the destructor: every process in the namespaces (sshd, sessions,
// host-side watchdogs), the namespaces, the veths, the bridge, the keys and directories.
// Requires root, iproute2, openssh-server and openssh-client.
class SshHosts {
 public:
  struct Host {
    std::string name;  // "h0", "h1", ...
    std::string netns;
    std::string address;  // on the bridge's /24
    std::string home;     // outside path of the host's /root
    std::string veth;     // the end in the root namespace (enslaved to the bridge)
    pid_t sshd = -1;
  };

  explicit SshHosts(int n);
  ~SshHosts();
  SshHosts(const SshHosts&) = delete;
  SshHosts& operator=(const SshHosts&) = delete;

  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  const std::vector<Host>& hosts() const { return hosts_; }
  const std::string& dir() const { return dir_.path(); }
  std::string client_key() const { return dir_.File("client_key"); }
  std::string known_hosts() const { return dir_.File("known_hosts"); }

  // An inventory listing every host: its address, the client key and known_hosts, tags
  // {"fleet": "test", "parity": "even"|"odd"}, `binary`, and the state dir /root/state.
  // `ssh` (a JSON object text) goes in as the inventory's "ssh" member when not empty.
  std::string InventoryJson(const std::string& binary, const std::string& ssh = "") const;
  // Writes InventoryJson to dir()/name and returns its path.
  std::string WriteInventory(const std::string& name, const std::string& binary,
                             const std::string& ssh = "") const;

  // The host stops answering (its link goes down) / answers again.
  bool Cut(size_t i);
  bool Restore(size_t i);

  // The outside path of `path` under host i's /root ("/root/x" → "<home>/x").
  std::string OnHost(size_t i, const std::string& path) const;

 private:
  bool Setup(int n);
  bool Step(const std::vector<std::string>& argv);

  TempDir dir_;
  bool ok_ = false;
  std::string error_;
  std::string bridge_;
  std::vector<Host> hosts_;
  ChildProcesses sshds_;
};

}  // namespace ringfence::testing
