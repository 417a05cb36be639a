#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/clock.h"
#include "core/base/env.h"
#include "core/base/secret_values.h"
#include "core/base/status.h"
#include "core/fault/executor.h"
#include "core/fleet/host_directory.h"
#include "core/fleet/host_session.h"
#include "core/model/inventory.h"

namespace ringfence {

// What one `ssh` (or `scp`) invocation did.
struct SshCommandResult {
  int exit_code = -1;  // -1 when it was killed at the timeout
  bool timed_out = false;
  std::string out;
  std::string err;
};

// Runs the system ssh client: the real one runs one-shot commands through an Env and drives
// long-lived ones through Boost.Process; tests and tools may substitute another. Thread-safe.
class SshTransport {
 public:
  virtual ~SshTransport() = default;
  // Runs argv (argv[0] looked up in PATH) with `input` on its stdin, killed at `timeout`.
  virtual Result<SshCommandResult> Run(const std::vector<std::string>& argv,
                                       const std::string& input,
                                       std::chrono::milliseconds timeout) = 0;
  // Starts argv as a long-lived process spoken to in lines (LineChannel); lines of its stdout go
  // to `handlers`. The default: Unavailable "this transport has no long-lived commands" (the
  // fleet then falls back to one command per action).
  virtual Result<std::unique_ptr<LineChannel>> Open(const std::vector<std::string>& argv,
                                                    const LineHandlers& handlers);
};
// The real transport; `system` (which runs the one-shot commands) must outlive it.
std::unique_ptr<SshTransport> MakeSshTransport(Env& system);

struct FleetOptions {
  std::string run_id;  // names the host-side ledger; "" for a dry run (nothing is begun)
  std::string title;   // recorded in the host ledgers (secrets concealed)
  // Sent to each host over SSH, never written: its ledger conceals them and its watchdog (which
  // gets them on a pipe) reverts with them.
  SecretValues secrets;
  std::chrono::milliseconds grace{3000};  // heartbeat every grace/4; a host reverts after grace
  int max_concurrency = 32;
  bool skip_unreachable = false;
  std::string push_binary;   // "" or the path on the hosts to copy this ringfence binary to
  std::string local_binary;  // the binary that --push-binary copies
  // Where the ControlMaster sockets' own fresh directory is made ("" or too long: /tmp).
  std::string control_dir;
  // One long-lived `ringfence host session` per host for the run (false: one `ssh` command per
  // host-side action, as before sessions; also the fallback when a session cannot start).
  bool host_sessions = true;
};

class SshFleet;

// One inventory host, reached with `ssh` (a ControlMaster per host for the run when the
// inventory multiplexes). Host-side actions go as lines over one long-lived `ringfence host
// session` per host (started by Connect), or, when that cannot start, as one `ringfence host
// <action>` command each. Thread-safe.
class SshExecutor : public Executor {
 public:
  SshExecutor(SshFleet& fleet, const InventoryHost& host);
  const std::string& host() const override { return host_.name; }
  Status Prepare(Fault& fault, const std::vector<Target>& targets) override;
  Result<UndoRecord> PlanUndo(Fault& fault, const Target& target) override;
  Status Inject(Fault& fault, const Target& target, const UndoRecord& undo) override;
  // What the host measured right after each injection on it (its faults run in one-shot host
  // commands): {"<target label>": observed, ...}.
  nlohmann::json Observe(Fault& fault) override;
  Status Revert(const UndoRecord& undo) override;
  // `ringfence host verify` on the host: its own FaultFactory::Verify there.
  Verification Verify(const UndoRecord& undo) override;

  // Opens the ControlMaster (when multiplexing), pushes the binary when asked, and checks the
  // version of ringfence on the host. Errors name the host and say what to do, e.g.
  // "host h1 (root@10.0.0.1:22): refused: its host key does not match ...".
  Status Connect();
  // Creates the host-side ledger of the run and arms the host-side watchdog (once).
  Status Begin();
  Status Heartbeat();
  // Tells the host the run ended (its watchdog exits once nothing is outstanding there).
  Status End(const std::string& status);
  // Ends the host session (EOF: the host side exits and leaves its watchdog as it is) and closes
  // the ControlMaster (ssh -O exit).
  void Close();
  // Whether host-side actions currently go over a host session.
  bool in_session() const;
  Result<std::vector<ProcessInfo>> Match(const ProcessSelector& selector);

  const InventoryHost& inventory_host() const { return host_; }
  bool begun() const { return begun_; }
  bool lost() const { return lost_; }
  void MarkLost(const Status& why);
  // The run is ending on this host: its heartbeats stop, and a failed one no longer loses it.
  void MarkEnding() { ending_ = true; }
  bool ending() const { return ending_; }
  nlohmann::json ToJson() const;

 private:
  // Runs `ringfence host <action>` with `request` (over the session when there is one); the
  // reply's Status, or the transport's. A session that times out or ends fails the Call exactly
  // as a one-shot command that timed out or lost its connection does, and is closed: later
  // Calls go one command each.
  Result<nlohmann::json> Call(const std::string& action, const nlohmann::json& request,
                              std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  Result<nlohmann::json> CallOneShot(const std::string& action, const nlohmann::json& request,
                                     Duration limit);
  // The remote command line of `ringfence host <action>` with this run's options.
  std::string RemoteCommand(const std::string& action) const;
  // Starts the host session and checks it answers `version`; the version reply, or why not.
  Result<nlohmann::json> StartSession();
  std::vector<std::string> SshArgs(bool master) const;
  Status TransportError(const SshCommandResult& r, const std::string& what, Duration timeout) const;
  Status PushBinary();
  nlohmann::json StepRequest(const Fault& fault) const;

  SshFleet& fleet_;
  InventoryHost host_;
  std::string binary_;
  mutable std::mutex mu_;
  std::atomic<bool> connected_{false};
  std::atomic<bool> begun_{false};
  std::atomic<bool> lost_{false};
  bool master_open_ = false;
  std::string error_;  // the last connection problem
  std::map<const Fault*, nlohmann::json> observed_;
  mutable std::mutex session_mu_;  // guards session_ (not its calls: HostSession is thread-safe)
  std::shared_ptr<HostSession> session_;
  std::atomic<bool> session_used_{false};  // a host session was started (the journal's "session")
  std::atomic<bool> ending_{false};
  std::mutex beat_mu_;    // held by a heartbeat in flight, and by Close while it sets closing_
  bool closing_ = false;  // Close was called: no heartbeat from here on
};

// Every host of an inventory that a run uses, reached over SSH: the HostDirectory of the
// lifecycle engine, heartbeats to the hosts that have faults armed, and the end of the run on
// them. Hosts are connected lazily (in parallel) when targets are resolved.
class SshFleet : public HostDirectory {
 public:
  // `system` (the clock; the commands of the default transport, MakeSshTransport(system), used
  // when `transport` is null) must outlive the fleet.
  SshFleet(Env& system, Inventory inventory, FleetOptions options,
           std::unique_ptr<SshTransport> transport = nullptr);
  ~SshFleet() override;  // stops the heartbeats and closes every ControlMaster

  Executor* ExecutorFor(const std::string& host) override;
  Result<std::vector<Target>> ResolveTargets(const TargetSpec& spec, std::mt19937_64& rng) override;
  void RegisterFault(const Fault* fault, const FaultStep& step, const TargetSpec& spec) override;
  int max_concurrency() const override { return options_.max_concurrency; }
  bool skip_unreachable() const override { return options_.skip_unreachable; }
  void OnHostLost(std::function<void(const std::string&, const Status&)> on_lost) override;
  nlohmann::json ToJson() const override;

  // Connects the named hosts in parallel; returns each one's outcome.
  std::map<std::string, Status> Connect(const std::vector<std::string>& hosts);
  // Ends the run on every host that began it (in parallel), stops the heartbeats, and closes
  // the masters. Idempotent.
  void Finish(const std::string& status);

  // What a fault's deadline must allow beyond duration + grace for the fan-out itself: the hosts
  // are injected (and reverted) at most max_concurrency at a time, each action bounded by the
  // command timeout, so the first host's deadline must outlast the injection of the last one:
  // ceil(hosts / max_concurrency) × command_timeout.
  Duration FanoutAllowance() const;

  // The SSH endpoints of every connected host, for the protected-endpoint check of local
  // network faults ("address port" pairs).
  std::vector<std::pair<std::string, int>> ControlEndpoints() const;

  const Inventory& inventory() const { return inventory_; }
  const FleetOptions& options() const { return options_; }
  SshTransport& transport() { return *transport_; }
  Env& system() { return system_; }
  const std::string& control_dir() const { return control_dir_; }
  SshExecutor* Find(const std::string& host);

 private:
  friend class SshExecutor;
  struct Registered {
    FaultStep step;
    ProcessSelector selector;
  };
  const Registered* StepOf(const Fault* fault);
  void HostBegun(SshExecutor& host);  // starts the host's heartbeat thread
  void Beat(SshExecutor& host);
  void Lost(SshExecutor& host, const Status& why);
  void SessionUnavailable(const SshExecutor& host, const Status& why);  // logs the first one

  Env& system_;
  Inventory inventory_;
  FleetOptions options_;
  std::unique_ptr<SshTransport> transport_;
  std::string control_dir_;
  bool own_control_dir_ = false;
  std::map<std::string, std::unique_ptr<SshExecutor>> hosts_;  // every inventory host
  mutable std::mutex mu_;
  std::map<const Fault*, Registered> faults_;
  std::function<void(const std::string&, const Status&)> on_lost_;
  std::map<std::string, std::string> skipped_;  // unreachable hosts skipped → why
  std::vector<std::string> selected_;
  StopSource beat_stop_;
  std::vector<std::thread> beaters_;
  bool finished_ = false;
  std::once_flag session_fallback_logged_;
};

}  // namespace ringfence
