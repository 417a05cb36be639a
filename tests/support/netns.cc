#include "tests/support/netns.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "core/sys/run_command.h"

namespace ringfence::testing {

namespace {
std::atomic<int> g_counter{0};
}  // namespace

std::vector<std::string> NetnsPair::In(const std::string& ns, std::vector<std::string> argv) {
  std::vector<std::string> out = {"/usr/sbin/ip", "netns", "exec", ns};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

int NetnsPair::Run(const std::vector<std::string>& argv, std::string* output) {
  auto ran = RunCommand(argv, std::chrono::seconds(10));
  if (!ran.ok() || ran->timed_out) return -1;
  if (output) *output = ran->out + ran->err;
  return ran->exit_code;
}

NetnsPair::NetnsPair() {
  // Names stay within IFNAMSIZ (15): "rfs" + pid + "n" + counter.
  const int n = g_counter.fetch_add(1);
  const std::string id = std::to_string(getpid() % 100000) + "n" + std::to_string(n);
  server_ns_ = "rf-s" + id;
  client_ns_ = "rf-c" + id;
  server_if_ = "rfs" + id;
  client_if_ = "rfc" + id;
  const std::string prefix = "10.213." + std::to_string((getpid() + n) % 250 + 1);
  server_addr_ = prefix + ".1";
  client_addr_ = prefix + ".2";
  const std::vector<std::vector<std::string>> steps = {
      {"ip", "netns", "add", server_ns_},
      {"ip", "netns", "add", client_ns_},
      {"ip", "link", "add", server_if_, "netns", server_ns_, "type", "veth", "peer", "name",
       client_if_, "netns", client_ns_},
      In(server_ns_, {"ip", "addr", "add", server_addr_ + "/24", "dev", server_if_}),
      In(client_ns_, {"ip", "addr", "add", client_addr_ + "/24", "dev", client_if_}),
      In(server_ns_, {"ip", "link", "set", server_if_, "up"}),
      In(client_ns_, {"ip", "link", "set", client_if_, "up"}),
      In(server_ns_, {"ip", "link", "set", "lo", "up"}),
      In(client_ns_, {"ip", "link", "set", "lo", "up"}),
  };
  for (const auto& step : steps) {
    std::string out;
    if (Run(step, &out) != 0) {
      error_ = "netns setup failed at '" + step[0] + " " + step[1] + " " + step[2] + "': " + out;
      return;
    }
  }
  ok_ = true;
}

NetnsPair::~NetnsPair() {
  for (const std::string& ns : {server_ns_, client_ns_}) {
    std::string pids;
    if (Run({"ip", "netns", "pids", ns}, &pids) == 0) {
      size_t pos = 0;
      while (pos < pids.size()) {
        size_t end = pids.find('\n', pos);
        if (end == std::string::npos) end = pids.size();
        std::string line = pids.substr(pos, end - pos);
        if (!line.empty()) ::kill(std::stoi(line), SIGKILL);
        pos = end + 1;
      }
    }
    Run({"ip", "netns", "del", ns});
  }
}

}  // namespace ringfence::testing
