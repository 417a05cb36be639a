// Host replies as the runner reads them (core/fleet/ssh_executor.cc, core/fleet/host_session.cc,
// core/fleet/host_protocol.cc): a fleet of one host whose ssh transport answers every command, or
// every line of a host session, with the next line of the input. The runner resolves a target
// on it (version check, `match`) as `ringfence run --dry-run` does, then prepares, plans,
// injects and reverts one fault there (an inert fault: nothing is touched locally).
//
// Input: one flags byte (bit 0: host sessions, bit 1: skip unreachable hosts), then one reply
// per line. A reply line starting with '!' is a failed ssh command (exit 255, the rest of the
// line on stderr). In a session, "@ID" in a line is replaced by the id of the request it
// answers, so that replies can match (or, without it, miss) their request. "@VERSION" is
// replaced by this ringfence's version, so that the seeds pass the version check of any release.

#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <random>
#include <string>

#include <spdlog/spdlog.h>

#include "core/fault/fault.h"
#include "core/fleet/host_protocol.h"
#include "core/fleet/ssh_executor.h"
#include "core/model/inventory.h"
#include "core/sys/system_env.h"
#include "fuzz/fuzz_support.h"

namespace {

using namespace ringfence;

class Script {
 public:
  explicit Script(std::string_view input) {
    while (!input.empty()) {
      const size_t nl = input.find('\n');
      lines_.emplace_back(input.substr(0, nl));
      input.remove_prefix(nl == std::string_view::npos ? input.size() : nl + 1);
    }
  }
  std::optional<std::string> Next() {
    std::lock_guard<std::mutex> lock(mu_);
    if (lines_.empty()) return std::nullopt;
    std::string line = std::move(lines_.front());
    lines_.pop_front();
    for (size_t at = line.find("@VERSION"); at != std::string::npos;
         at = line.find("@VERSION", at)) {
      line.replace(at, 8, RINGFENCE_VERSION);
    }
    return line;
  }

 private:
  std::mutex mu_;
  std::deque<std::string> lines_;
};

// A host session whose far end answers each request line, at once, with the next script line.
class ScriptedChannel : public LineChannel {
 public:
  ScriptedChannel(Script& script, LineHandlers handlers)
      : script_(script), handlers_(std::move(handlers)) {}
  Status Send(const std::string& line, std::chrono::milliseconds) override {
    std::optional<std::string> reply = script_.Next();
    if (!reply) {
      Close(std::chrono::milliseconds(0));
      return Status::Unavailable("the scripted host session ended");
    }
    const auto request = nlohmann::json::parse(line, nullptr, false);
    const std::string id =
        request.is_object() && request.contains("id") ? request["id"].dump() : std::string("0");
    for (size_t at = reply->find("@ID"); at != std::string::npos; at = reply->find("@ID", at)) {
      reply->replace(at, 3, id);
    }
    handlers_.on_line(*reply);
    return Status::Ok();
  }
  void Close(std::chrono::milliseconds) override {
    if (closed_) return;
    closed_ = true;
    handlers_.on_closed("scripted end");
  }

 private:
  Script& script_;
  LineHandlers handlers_;
  bool closed_ = false;
};

class ScriptedTransport : public SshTransport {
 public:
  explicit ScriptedTransport(Script& script) : script_(script) {}
  Result<SshCommandResult> Run(const std::vector<std::string>&, const std::string&,
                               std::chrono::milliseconds) override {
    SshCommandResult r;
    std::optional<std::string> reply = script_.Next();
    if (!reply) {
      r.exit_code = 255;
      r.err = "ssh: connect to host 127.0.0.1 port 22: Connection refused";
    } else if (!reply->empty() && (*reply)[0] == '!') {
      r.exit_code = 255;
      r.err = reply->substr(1);
    } else {
      r.exit_code = 0;
      r.out = *reply + "\n";
    }
    return r;
  }
  Result<std::unique_ptr<LineChannel>> Open(const std::vector<std::string>&,
                                            const LineHandlers& handlers) override {
    return std::unique_ptr<LineChannel>(new ScriptedChannel(script_, handlers));
  }

 private:
  Script& script_;
};

// Nothing happens locally: the host does everything (and here, the script answers for it).
class InertFault : public Fault {
 public:
  Status Prepare(FaultEnv&, const std::vector<Target>&) override { return Status::Ok(); }
  Result<UndoRecord> PlanUndo(FaultEnv&, const Target&) override { return UndoRecord{}; }
  Status Inject(FaultEnv&, const Target&, const UndoRecord&) override { return Status::Ok(); }
  nlohmann::json Observe(FaultEnv&) override { return nlohmann::json::object(); }
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  Script script(fuzz::AsText(data + 1, size - 1));

  Inventory inventory;
  inventory.source = "fuzz-inventory.json";
  InventoryHost host;
  host.name = "h1";
  host.address = "127.0.0.1";
  inventory.hosts = {host};
  inventory.ssh.multiplex = false;
  // A reply that misses its request is waited for this long (then the session is dropped).
  inventory.ssh.command_timeout = std::chrono::milliseconds(5);
  FleetOptions options;
  options.host_sessions = (flags & 1) != 0;
  options.skip_unreachable = (flags & 2) != 0;
  options.max_concurrency = 1;
  options.control_dir = fuzz::ScratchDir();
  SystemEnv system;
  SshFleet fleet(system, inventory, options, std::make_unique<ScriptedTransport>(script));

  TargetSpec spec;
  spec.name = "t";
  spec.pointer = "/targets/t";
  spec.process.name = "sleep";
  spec.hosts = HostSelection{};
  spec.hosts->names = {"h1"};
  std::mt19937_64 rng(1);
  const auto targets = fleet.ResolveTargets(spec, rng);
  (void)fleet.ToJson();
  if (!targets.ok()) return 0;

  SshExecutor* executor = fleet.Find("h1");
  InertFault fault;
  FaultStep step;
  step.name = "pause";
  step.type = "process_pause";
  step.target = "t";
  step.params = {{"signal", "SIGSTOP"}};
  fleet.RegisterFault(&fault, step, spec);
  if (!executor->Prepare(fault, *targets).ok()) return 0;
  size_t n = 0;
  for (const Target& target : *targets) {
    if (++n > 4) break;
    (void)TargetToWire(target).dump();
    const auto undo = executor->PlanUndo(fault, target);
    if (!undo.ok()) continue;
    (void)undo->ToJson();
    (void)executor->Inject(fault, target, *undo);
    (void)executor->Revert(*undo);
  }
  (void)executor->Observe(fault);
  (void)fleet.ToJson();
  return 0;
}
