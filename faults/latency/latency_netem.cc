#include "faults/latency/latency_netem.h"

#include <vector>

#include "faults/common/netns_command.h"

namespace ringfence {

namespace {

constexpr std::chrono::seconds kTcTimeout{5};

// What tc printed, stdout and stderr together.
struct TcRun {
  int exit_code = -1;
  std::string output;
};

Result<TcRun> RunTc(Env& system, const std::string& netns, std::vector<std::string> args,
                    bool fresh_netns = false) {
  auto tc = FindSystemTool("tc", "iproute2");
  if (!tc.ok()) return tc.status();
  args.insert(args.begin(), *tc);
  auto run = RunInNetns(system, CommandNetns{netns, fresh_netns}, args, kTcTimeout);
  if (!run.ok()) return run.status();
  if (run->timed_out) {
    return Status::Timeout(*tc + " did not finish within " +
                           std::to_string(std::chrono::milliseconds(kTcTimeout).count()) + " ms");
  }
  return TcRun{run->exit_code, run->out + run->err};
}

std::string Trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

}  // namespace

Result<bool> KernelHasNetem(Env& system) {
  auto run =
      RunTc(system, "", {"qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"}, true);
  if (!run.ok()) return run.status();
  if (run->exit_code == 0) return true;
  if (run->exit_code == 127) return Status::Unavailable("tc could not be executed");
  if (run->output.find("unshare failed") != std::string::npos) {
    return Status::Error(StatusCode::kPermission,
                         "cannot make a scratch network namespace to probe for netem "
                         "(needs CAP_SYS_ADMIN)");
  }
  return false;
}

Status CheckNetemInterface(Env& system, const std::string& netns, const std::string& interface) {
  auto run = RunTc(system, netns, {"qdisc", "show", "dev", interface});
  if (!run.ok()) return run.status();
  if (run->exit_code != 0) {
    return Status::NotFound("interface '" + interface + "' not found" +
                            (netns.empty() ? "" : " in network namespace '" + netns + "'"));
  }
  return Status::Ok();
}

Status ApplyNetem(Env& system, const std::string& netns, const std::string& interface,
                  Duration delay, Duration jitter, uint64_t rate_kbit) {
  std::vector<std::string> args = {
      "qdisc",  "add",        "dev",   interface, "root",
      "handle", kNetemHandle, "netem", "delay",   std::to_string(delay.count()) + "ms"};
  if (jitter.count() > 0) args.push_back(std::to_string(jitter.count()) + "ms");
  if (rate_kbit > 0) args.insert(args.end(), {"rate", std::to_string(rate_kbit) + "kbit"});
  auto run = RunTc(system, netns, args);
  if (!run.ok()) return run.status();
  if (run->exit_code != 0) return Status::Runtime("tc qdisc add failed: " + Trim(run->output));
  return Status::Ok();
}

Status RemoveNetem(Env& system, const std::string& netns, const std::string& interface) {
  auto show = RunTc(system, netns, {"qdisc", "show", "dev", interface, "root"});
  if (!show.ok()) {
    return show.status().code() == StatusCode::kNotFound ? Status::Ok() : show.status();
  }
  if (show->exit_code != 0) return Status::Ok();  // the interface is gone, and its qdisc
  if (show->output.find(std::string("qdisc netem ") + kNetemHandle) == std::string::npos) {
    return Status::Ok();  // not ours (any more)
  }
  auto del =
      RunTc(system, netns, {"qdisc", "del", "dev", interface, "root", "handle", kNetemHandle});
  if (!del.ok()) return del.status();
  if (del->exit_code != 0) return Status::Runtime("tc qdisc del failed: " + Trim(del->output));
  return Status::Ok();
}

Verification VerifyNetemGone(Env& system, const std::string& netns, const std::string& interface) {
  auto show = RunTc(system, netns, {"qdisc", "show", "dev", interface, "root"});
  if (!show.ok()) return Verification::Unknown("tc qdisc show: " + show.status().message());
  if (show->exit_code != 0) return Verification::Reverted("interface " + interface + " is gone");
  if (show->output.find(std::string("qdisc netem ") + kNetemHandle) != std::string::npos) {
    return Verification::NotReverted("netem qdisc " + std::string(kNetemHandle) + " still on " +
                                     interface);
  }
  return Verification::Reverted("no netem qdisc of ringfence on " + interface);
}

std::string NetemManualUndo(const std::string& netns, const std::string& interface) {
  return CommandInNetns(netns, "tc qdisc del dev " + interface + " root handle " + kNetemHandle);
}

}  // namespace ringfence
