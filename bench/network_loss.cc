// How closely network_loss's measured loss rate follows the requested percent.
//
// Two network namespaces joined by a veth pair; a UDP receiver in one, a sender in the other;
// the fault is applied on ingress inside the receiver's namespace. For each requested percent,
// kDatagrams datagrams are sent and counted at the receiver. The baseline is the same
// measurement without the fault (it must deliver everything). Requires root. Takes a few
// seconds. Usage: network_loss [datagrams per level, default 20000]
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/process_table.h"
#include "core/fault/fault.h"
#include "core/sys/run_command.h"
#include "core/sys/system_clock.h"
#include "core/sys/system_env.h"

namespace {

using ringfence::RunCommand;

const std::string kServerNs = "rf-bench-loss-s" + std::to_string(getpid());
const std::string kClientNs = "rf-bench-loss-c" + std::to_string(getpid());
const std::string kServerAddr = "10.214.0.1";
const std::string kClientAddr = "10.214.0.2";

bool Run(const std::vector<std::string>& argv) {
  auto r = RunCommand(argv, std::chrono::seconds(10));
  if (!r.ok() || r->exit_code != 0) {
    std::fprintf(stderr, "failed: %s: %s\n", argv[0].c_str(),
                 r.ok() ? r->err.c_str() : r.status().message().c_str());
    return false;
  }
  return true;
}

std::vector<std::string> In(const std::string& ns, std::vector<std::string> argv) {
  argv.insert(argv.begin(), {"ip", "netns", "exec", ns});
  return argv;
}

bool SetUpNamespaces() {
  const std::string server_if = "rfbl" + std::to_string(getpid() % 100000) + "s";
  const std::string client_if = "rfbl" + std::to_string(getpid() % 100000) + "c";
  return Run({"ip", "netns", "add", kServerNs}) && Run({"ip", "netns", "add", kClientNs}) &&
         Run({"ip", "link", "add", server_if, "netns", kServerNs, "type", "veth", "peer", "name",
              client_if, "netns", kClientNs}) &&
         Run(In(kServerNs, {"ip", "addr", "add", kServerAddr + "/24", "dev", server_if})) &&
         Run(In(kClientNs, {"ip", "addr", "add", kClientAddr + "/24", "dev", client_if})) &&
         Run(In(kServerNs, {"ip", "link", "set", server_if, "up"})) &&
         Run(In(kClientNs, {"ip", "link", "set", client_if, "up"}));
}

void TearDownNamespaces() {
  // Best effort: a namespace that was never made has nothing to delete.
  (void)RunCommand({"ip", "netns", "del", kServerNs}, std::chrono::seconds(10));
  (void)RunCommand({"ip", "netns", "del", kClientNs}, std::chrono::seconds(10));
}

// socket() inside `ns`; the thread returns to its own namespace at once.
int SocketIn(const std::string& ns, int type) {
  const int own = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  const int target = ::open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
  int fd = -1;
  if (own >= 0 && target >= 0 && ::setns(target, CLONE_NEWNET) == 0) {
    fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
    if (::setns(own, CLONE_NEWNET) != 0) std::abort();
  }
  if (own >= 0) ::close(own);
  if (target >= 0) ::close(target);
  return fd;
}

int Drain(int fd, int quiet_ms) {
  int count = 0;
  char buf[256];
  for (int i = 0; i < 1000000; ++i) {
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, quiet_ms) <= 0) break;
    if (::recv(fd, buf, sizeof buf, 0) >= 0) ++count;
  }
  return count;
}

// Datagrams received out of `count` sent.
int Deliver(int count) {
  const int rx = SocketIn(kServerNs, SOCK_DGRAM | SOCK_NONBLOCK);
  const int tx = SocketIn(kClientNs, SOCK_DGRAM);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  ::inet_pton(AF_INET, kServerAddr.c_str(), &sa.sin_addr);
  socklen_t len = sizeof sa;
  int received = -1;
  if (rx >= 0 && tx >= 0 && ::bind(rx, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 &&
      ::getsockname(rx, reinterpret_cast<sockaddr*>(&sa), &len) == 0) {
    received = 0;
    for (int i = 0; i < count; ++i) {
      ::sendto(tx, "x", 1, 0, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
      if ((i + 1) % 20 == 0) received += Drain(rx, 0);
    }
    received += Drain(rx, 300);
  }
  if (rx >= 0) ::close(rx);
  if (tx >= 0) ::close(tx);
  return received;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ringfence;
  const int count = argc > 1 ? std::atoi(argv[1]) : 20000;
  if (count < 100 || count > 100000) {
    std::fprintf(stderr, "usage: network_loss [datagrams per level, 100..100000]\n");
    return 2;
  }
  if (!SetUpNamespaces()) {
    TearDownNamespaces();
    return 1;
  }
  const FaultFactory* factory = FaultRegistry::Global().Find("network_loss");
  StopSource stop;
  SystemEnv system_env;  // network_loss touches no process
  FaultEnv env{system_env, stop, "bench"};
  const Target local{"local", {}, "host local"};

  const int baseline = Deliver(count);
  std::printf("baseline (no fault): %d of %d delivered\n", baseline, count);
  std::printf("%9s %10s %10s %10s %12s\n", "requested", "measured", "error", "1 sigma",
              "dropped/ctr");
  nlohmann::json levels = nlohmann::json::array();
  bool ok = baseline == count;
  for (double percent : {1.0, 10.0, 30.0, 50.0, 90.0}) {
    FaultStep step;
    step.name = "bench-loss";
    step.params = {
        {"percent", percent}, {"direction", "ingress"}, {"protocol", "udp"}, {"netns", kServerNs}};
    auto fault = factory->Create(step, TargetSpec{});
    Status prepared = fault->Prepare(env, {local});
    auto undo = fault->PlanUndo(env, local);
    if (!prepared.ok() || !undo.ok()) {
      std::fprintf(stderr, "cannot inject: %s %s\n", prepared.message().c_str(),
                   undo.ok() ? "" : undo.status().message().c_str());
      ok = false;
      break;
    }
    Status injected = fault->Inject(env, local, *undo);
    const int received = injected.ok() ? Deliver(count) : -1;
    const nlohmann::json observed = fault->Observe(env);
    Status reverted = factory->Revert(env, *undo);
    if (!injected.ok() || !reverted.ok() || received < 0) {
      std::fprintf(stderr, "inject/revert failed: %s %s\n", injected.message().c_str(),
                   reverted.message().c_str());
      ok = false;
      break;
    }
    const double measured = 100.0 * (count - received) / count;
    const double sigma = 100.0 * std::sqrt(percent / 100 * (1 - percent / 100) / count);
    const long long dropped = observed["tables"][0].value("packets_dropped", 0LL);
    std::printf("%8.1f%% %9.2f%% %+9.2f %9.2f %12lld\n", percent, measured, measured - percent,
                sigma, dropped);
    levels.push_back({{"requested_percent", percent},
                      {"measured_percent", std::round(measured * 100) / 100},
                      {"error_points", std::round((measured - percent) * 100) / 100},
                      {"binomial_sigma_points", std::round(sigma * 100) / 100},
                      {"dropped_counter", dropped}});
  }
  TearDownNamespaces();
  std::printf("%s\n", nlohmann::json{{"bench", "network_loss"},
                                     {"datagrams_per_level", count},
                                     {"baseline_delivered", baseline},
                                     {"levels", levels}}
                          .dump()
                          .c_str());
  return ok ? 0 : 1;
}
