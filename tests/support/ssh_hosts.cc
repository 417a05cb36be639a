#include "tests/support/ssh_hosts.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/support/netns.h"

namespace ringfence::testing {

namespace {

std::atomic<int> g_fixtures{0};

bool Listening(const std::string& address, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, address.c_str(), &sa.sin_addr);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  ::close(fd);
  return ok;
}

// The "type base64" part of a .pub file.
std::string PublicKey(const std::string& pub_path) {
  std::string text = ReadFile(pub_path);
  std::istringstream in(text);
  std::string type, key;
  in >> type >> key;
  return type + " " + key;
}

}  // namespace

SshHosts::SshHosts(int n) {
  ok_ = Setup(n);
  if (!ok_ && error_.empty()) error_ = "ssh hosts setup failed";
}

bool SshHosts::Step(const std::vector<std::string>& argv) {
  std::string out;
  if (NetnsPair::Run(argv, &out) == 0) return true;
  std::string cmd;
  for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
  error_ = "'" + cmd + "' failed: " + out;
  return false;
}

bool SshHosts::Setup(int n) {
  const int fixture = g_fixtures.fetch_add(1);
  const std::string id = std::to_string(::getpid() % 100000) + "n" + std::to_string(fixture);
  const std::string net = "10.215." + std::to_string((::getpid() + fixture) % 250 + 1);
  bridge_ = "rfb" + id;
  std::filesystem::create_directories("/run/sshd");
  if (!Step({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ringfence-test", "-f",
             client_key()})) {
    return false;
  }
  std::filesystem::copy_file(client_key() + ".pub", dir_.File("authorized_keys"));
  if (!Step({"ip", "link", "add", bridge_, "type", "bridge"}) ||
      !Step({"ip", "addr", "add", net + ".1/24", "dev", bridge_}) ||
      !Step({"ip", "link", "set", bridge_, "up"})) {
    return false;
  }
  std::ofstream known(known_hosts());
  for (int i = 0; i < n; ++i) {
    Host h;
    h.name = "h" + std::to_string(i);
    h.netns = "rfh" + id + "x" + std::to_string(i);
    h.veth = "rfv" + id + "x" + std::to_string(i);
    h.address = net + "." + std::to_string(10 + i);
    h.home = dir_.File(h.name + "-home");
    hosts_.push_back(h);  // registered first, so that a failure half-way is torn down too
    std::filesystem::create_directories(h.home);
    const std::string key = dir_.File(h.name + "-hostkey");
    const std::string cfg = dir_.File(h.name + "-sshd.cfg");
    if (!Step({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", h.name, "-f", key}) ||
        !Step({"ip", "netns", "add", h.netns}) ||
        !Step({"ip", "link", "add", h.veth, "type", "veth", "peer", "name", "eth0", "netns",
               h.netns}) ||
        !Step({"ip", "link", "set", h.veth, "master", bridge_}) ||
        !Step({"ip", "link", "set", h.veth, "up"}) ||
        !Step(NetnsPair::In(h.netns, {"ip", "addr", "add", h.address + "/24", "dev", "eth0"})) ||
        !Step(NetnsPair::In(h.netns, {"ip", "link", "set", "eth0", "up"})) ||
        !Step(NetnsPair::In(h.netns, {"ip", "link", "set", "lo", "up"}))) {
      return false;
    }
    known << h.address << " " << PublicKey(key + ".pub") << "\n";
    std::ofstream(cfg) << "Port 22\nListenAddress " << h.address << "\nHostKey " << key
                       << "\nPidFile " << dir_.File(h.name + "-sshd.pid") << "\nAuthorizedKeysFile "
                       << dir_.File("authorized_keys")
                       << "\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
                          "PermitRootLogin prohibit-password\nUsePAM no\nStrictModes no\n"
                          "UseDNS no\nMaxStartups 200:30:400\nMaxSessions 200\n"
                          "Subsystem sftp internal-sftp\n";
    // `ip netns exec`, unshare and sh all exec: the pid we get is sshd's.
    h.sshd = sshds_.Spawn(NetnsPair::In(
        h.netns, {"unshare", "--mount", "sh", "-c",
                  "mount --bind '" + h.home + "' /root && exec /usr/sbin/sshd -D -e -f '" + cfg +
                      "' 2>>'" + dir_.File(h.name + "-sshd.log") + "'"}));
    hosts_.back().sshd = h.sshd;
    if (h.sshd < 0) {
      error_ = "cannot start sshd for " + h.name;
      return false;
    }
  }
  known.close();
  for (const auto& h : hosts_) {
    if (!Eventually([&] { return Listening(h.address, 22); }, std::chrono::seconds(10))) {
      error_ = "sshd of " + h.name + " does not listen on " + h.address +
               ":22: " + ReadFile(dir_.File(h.name + "-sshd.log"));
      return false;
    }
  }
  return true;
}

SshHosts::~SshHosts() {
  for (const auto& h : hosts_) {
    // Everything in the namespace: sshd, its sessions, host-side watchdogs.
    std::string pids;
    if (NetnsPair::Run({"ip", "netns", "pids", h.netns}, &pids) == 0) {
      std::istringstream in(pids);
      pid_t pid;
      while (in >> pid) {
        ::kill(pid, SIGCONT);
        ::kill(pid, SIGKILL);
      }
    }
  }
  // sshd processes are our children: reap them (ChildProcesses' destructor would too, but the
  // namespaces go only once nothing lives in them).
  for (const auto& h : hosts_) {
    int status = 0;
    if (h.sshd > 0) sshds_.ReapWithin(h.sshd, 2000, &status);
  }
  for (const auto& h : hosts_) {
    // A host-side process that is not our child goes within a moment of its SIGKILL.
    Eventually(
        [&] {
          std::string pids;
          return NetnsPair::Run({"ip", "netns", "pids", h.netns}, &pids) != 0 || pids.empty();
        },
        std::chrono::seconds(5));
    NetnsPair::Run({"ip", "link", "del", h.veth});
    NetnsPair::Run({"ip", "netns", "del", h.netns});
  }
  if (!bridge_.empty()) NetnsPair::Run({"ip", "link", "del", bridge_});
}

std::string SshHosts::InventoryJson(const std::string& binary, const std::string& ssh) const {
  nlohmann::json hosts = nlohmann::json::array();
  for (size_t i = 0; i < hosts_.size(); ++i) {
    hosts.push_back({{"name", hosts_[i].name},
                     {"address", hosts_[i].address},
                     {"tags", {{"fleet", "test"}, {"parity", i % 2 == 0 ? "even" : "odd"}}}});
  }
  nlohmann::json inv = {{"defaults",
                         {{"user", "root"},
                          {"identity_file", client_key()},
                          {"known_hosts", known_hosts()},
                          {"binary", binary},
                          {"state_dir", "/root/state"}}},
                        {"hosts", hosts}};
  if (!ssh.empty()) inv["ssh"] = nlohmann::json::parse(ssh);
  return inv.dump(2);
}

std::string SshHosts::WriteInventory(const std::string& name, const std::string& binary,
                                     const std::string& ssh) const {
  dir_.Write(name, InventoryJson(binary, ssh));
  return dir_.File(name);
}

bool SshHosts::Cut(size_t i) {
  return NetnsPair::Run(NetnsPair::In(hosts_[i].netns, {"ip", "link", "set", "eth0", "down"})) == 0;
}

bool SshHosts::Restore(size_t i) {
  return NetnsPair::Run(NetnsPair::In(hosts_[i].netns, {"ip", "link", "set", "eth0", "up"})) == 0;
}

std::string SshHosts::OnHost(size_t i, const std::string& path) const {
  if (path.rfind("/root/", 0) == 0) return hosts_[i].home + path.substr(5);
  return path;
}

}  // namespace ringfence::testing
