#include "runner/host/host_command.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include "core/base/clock.h"
#include "core/base/duration.h"
#include "core/base/json_fields.h"
#include "core/fault/executor.h"
#include "core/fault/fault.h"
#include "core/fleet/host_protocol.h"
#include "core/ledger/file_ledger.h"
#include "core/ledger/recovery.h"
#include "core/ledger/state_dir.h"
#include "core/model/params.h"
#include "core/sys/child_launcher.h"
#include "core/sys/run_command.h"
#include "core/sys/system_clock.h"
#include "core/sys/system_env.h"
#include "core/sys/system_process_table.h"
#include "core/targets/target_resolver.h"
#include "runner/run/experiment_runner.h"
#include "runner/watchdog/watchdog.h"
#include "runner/watchdog/watchdog_loop.h"

namespace ringfence {

namespace {

constexpr size_t kMaxRequestBytes = 16 << 20;

std::string RunsDir(const HostOptions& o) { return o.state_dir + "/runs"; }
std::string HeartbeatPath(const HostOptions& o) {
  return RunsDir(o) + "/" + o.run_id + ".heartbeat";
}
std::string LockPath(const HostOptions& o) { return RunsDir(o) + "/" + o.run_id + ".lock"; }
std::string WatchdogLogPath(const HostOptions& o) {
  return RunsDir(o) + "/" + o.run_id + ".watchdog.log";
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             SystemClock().Now().time_since_epoch())
      .count();
}

bool SafeRunId(const std::string& id) {
  if (id.empty() || id.size() > 128 || id[0] == '.') return false;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return false;
    }
  }
  return true;
}

// The run's host-side lock: held by every action that writes the ledger, and by the watchdog
// while it reverts, so an inject cannot slip in while the watchdog acts. Like every file in the
// state dir: never through a symbolic link, 0600, ours (core/ledger/state_dir.h).
class RunLock {
 public:
  explicit RunLock(const std::string& path) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    struct stat st;
    if (fd_ >= 0 && (::fstat(fd_, &st) != 0 || !CheckOwnerOnly("lock", path, st, false).ok())) {
      ::close(fd_);
      fd_ = -1;
      errno = EPERM;
    }
    if (fd_ >= 0) {
      while (::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
      }
    }
  }
  ~RunLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// Network faults must never cut the SSH connection that reaches this host: the endpoints of it
// (from SSH_CONNECTION: "client_ip client_port server_ip server_port") are handed to the
// protected-endpoint check of the nftables faults.
void ProtectControlConnection() {
  const char* conn = std::getenv("SSH_CONNECTION");
  if (conn == nullptr) return;
  std::istringstream in(conn);
  std::string client_ip, client_port, server_ip, server_port;
  if (!(in >> client_ip >> client_port >> server_ip >> server_port)) return;
  const std::string endpoints = client_ip + " " + server_port + " " + server_ip + " " + server_port;
  ::setenv("RINGFENCE_CONTROL_ENDPOINTS", endpoints.c_str(), 1);
}

void Reply(const nlohmann::json& reply) {
  std::string text = reply.dump() + "\n";
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

Result<nlohmann::json> ReadRequest() {
  std::string text;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, stdin)) > 0) {
    text.append(buf, n);
    if (text.size() > kMaxRequestBytes) return Status::InvalidInput("request larger than 16 MiB");
  }
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) return nlohmann::json::object();
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidInput(std::string("request is not JSON: ") + e.what());
  }
}

// Whether this process has children still running: a fault whose effect lives in worker
// processes of the injecting process cannot be injected by a one-shot host command.
bool HasLiveChildren() {
  DIR* dir = ::opendir("/proc/self/task");
  if (dir == nullptr) return false;
  bool any = false;
  while (dirent* e = ::readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream in(std::string("/proc/self/task/") + e->d_name + "/children");
    std::string pid;
    if (in >> pid) any = true;
  }
  ::closedir(dir);
  return any;
}

struct FaultAndFactory {
  const FaultFactory* factory = nullptr;
  std::unique_ptr<Fault> fault;
};

// The fault of `request["step"]`, its params validated again here (the same declaration).
Result<FaultAndFactory> MakeFault(const nlohmann::json& request) {
  if (!request.contains("step")) return Status::InvalidInput("request without a step");
  auto decoded = FaultStepFromJson(request["step"]);
  if (!decoded.ok()) return Status::InvalidInput(decoded.status().message());
  FaultStep step = std::move(*decoded);
  FaultAndFactory out;
  out.factory = FaultRegistry::Global().Find(step.type);
  if (out.factory == nullptr) {
    return Status::InvalidInput("no fault type '" + step.type + "' in ringfence " +
                                RINGFENCE_VERSION + " on this host");
  }
  ValidationErrors errors;
  ValidateParams(out.factory->Declaration(), step.params, "/params", errors);
  if (errors.empty()) out.factory->ValidateConfig(step.params, "/params", errors);
  if (!errors.empty()) {
    std::string text;
    for (const auto& line : errors.Format(step.name)) text += (text.empty() ? "" : "; ") + line;
    return Status::InvalidInput("invalid params: " + text);
  }
  TargetSpec spec;
  spec.name = step.target;
  spec.pointer = "/targets/" + step.target;
  if (request.contains("selector")) {
    auto selector = SelectorFromWire(request["selector"]);
    if (!selector.ok()) return Status::InvalidInput(selector.status().message());
    spec.process = std::move(*selector);
  }
  try {
    out.fault = out.factory->Create(step, spec);
  } catch (const std::exception& e) {
    return Status::Runtime(std::string("create threw: ") + e.what());
  }
  return out;
}

struct HostContext {
  std::unique_ptr<ProcessTable> processes = MakeSystemProcessTable();
  StopSource stop;
  SystemEnv system{*processes};
  FaultEnv env{system, stop};
};

bool ProcessAlive(ProcessTable& table, const nlohmann::json& rec) {
  if (!rec.is_object() || !rec.contains("pid") || !rec.contains("start_ticks")) return false;
  auto p = table.Get(rec["pid"].get<pid_t>());
  return p.ok() && p->start_ticks == rec["start_ticks"].get<unsigned long long>() &&
         p->state != 'Z';
}

// Scans the ledger for the watchdog's records: the last "started" one, and a "reverted" one.
struct WatchdogState {
  nlohmann::json started;
  nlohmann::json reverted;
};

// Only authenticated records count (ReadLedger): a ledger that is not trusted has no watchdog.
WatchdogState ReadWatchdogState(const std::string& ledger_path) {
  WatchdogState st;
  auto contents = ReadLedger(ledger_path);
  if (!contents.ok()) return st;
  for (const auto& rec : contents->watchdog_events) {
    if (rec.value("event", "") == "started") st.started = rec;
    if (rec.value("event", "") == "reverted") st.reverted = rec;
  }
  return st;
}

// Whether a ledger's intent `recorded` (held concealed) is the one `undo` undoes. The deadline
// was moved to this host's clock, so the records are compared without it.
bool SameIntent(UndoRecord recorded, UndoRecord undo, const SecretValues& secrets) {
  recorded.deadline_ms = 0;
  undo.deadline_ms = 0;
  return secrets.Conceal(recorded.ToJson()) == secrets.Conceal(undo.ToJson());
}

// Writes `text` to `path` (created 0600, never through a symbolic link), replacing what was there.
Status WriteOwnerOnly(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Status::FromErrno(errno, path);
  struct stat st;
  Status checked = ::fstat(fd, &st) == 0 ? CheckOwnerOnly("file", path, st, false)
                                         : Status::FromErrno(errno, path);
  if (checked.ok() && ::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    checked = Status::FromErrno(errno, path);
  }
  ::close(fd);
  return checked;
}

Status NeedsArmedRun(const HostOptions& o, HostContext& ctx) {
  const std::string ledger = LedgerPath(o.state_dir, o.run_id);
  if (::access(ledger.c_str(), F_OK) != 0) {
    return Status::NotFound("run " + o.run_id + " was not begun on this host (no ledger " + ledger +
                            ")");
  }
  WatchdogState wd = ReadWatchdogState(ledger);
  if (!wd.reverted.is_null()) {
    return Status::Unavailable("the host-side watchdog already reverted run " + o.run_id + " (" +
                               wd.reverted.value("reason", "") + ")");
  }
  if (!ProcessAlive(*ctx.processes, wd.started)) {
    return Status::Unavailable("the host-side watchdog of run " + o.run_id +
                               " is not running; refusing to inject without it");
  }
  return Status::Ok();
}

// The run's secret values, sent by the runner with begin, inject and revert (never written).
Result<SecretValues> RequestSecrets(const nlohmann::json& request) {
  auto it = request.find("secrets");
  if (it == request.end()) return SecretValues();
  return SecretValues::FromJson(*it);
}

// ---- Actions ---------------------------------------------------------------------------------

nlohmann::json Version() {
  return {{"ok", true}, {"version", RINGFENCE_VERSION}, {"protocol", kHostProtocolVersion}};
}

nlohmann::json Begin(const HostOptions& o, const nlohmann::json& request, HostContext& ctx) {
  // The host's state dir keeps the same rules as the runner's (core/ledger/state_dir.h).
  if (auto dir = StateDir::Open(o.state_dir, true); !dir.ok()) return ErrorReply(dir.status());
  auto secrets = RequestSecrets(request);
  if (!secrets.ok()) return ErrorReply(secrets.status());
  {
    RunLock lock(LockPath(o));
    if (!lock.ok()) return ErrorReply(Status::FromErrno(errno, "lock " + LockPath(o)));
    const std::string ledger = LedgerPath(o.state_dir, o.run_id);
    if (::access(ledger.c_str(), F_OK) != 0) {
      auto created = FileLedger::Create(o.state_dir, o.run_id,
                                        {{"title", request.value("title", "")},
                                         {"runner", request.value("runner", "")},
                                         {"host", request.value("host", "local")},
                                         {"role", "host"},
                                         {"started_at", FormatRfc3339(SystemClock().Now())}},
                                        *secrets);
      if (!created.ok()) return ErrorReply(created.status());
    } else if (ProcessAlive(*ctx.processes, ReadWatchdogState(ledger).started)) {
      return {{"ok", true}, {"already", true}};
    }
    if (Status beat = WriteOwnerOnly(HeartbeatPath(o), std::to_string(NowMs()) + "\n");
        !beat.ok()) {
      return ErrorReply(beat);
    }
  }
  // The watchdog: double fork and a session of its own, so that neither sshd (which waits for
  // the session's descriptors and signals its process group) nor the runner holds it.
  const std::string binary = SelfBinary();
  const std::string grace = std::to_string(o.grace.count()) + "ms";
  const std::string log = WatchdogLogPath(o);
  // Its stdin is a socket on which it gets the secrets frame (runner/watchdog/watchdog.h), not the
  // disk.
  int sp[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0) {
    return ErrorReply(Status::FromErrno(errno, "socketpair"));
  }
  // Its output goes to the log (or /dev/null when the log cannot be opened).
  const int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  const int log_fd =
      ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
  const int out_fd = log_fd >= 0 ? log_fd : null_fd;
  ChildLaunch launch;
  launch.argv = {binary,  "host",   "watchdog", "--state-dir", o.state_dir,
                 "--run", o.run_id, "--grace",  grace};
  launch.new_session = true;
  launch.detach = true;
  launch.fds = {{sp[0], 0}, {out_fd, 1}, {out_fd, 2}};
  launch.close_from = 3;
  Result<pid_t> launched = LaunchChild(launch);
  for (int fd : {null_fd, log_fd}) {
    if (fd >= 0) ::close(fd);
  }
  if (!launched.ok()) {
    ::close(sp[0]);
    ::close(sp[1]);
    return ErrorReply(launched.status());
  }
  ::close(sp[0]);
  const std::string frame = SecretsFrame(*secrets);
  for (size_t off = 0; off < frame.size();) {
    ssize_t n = ::send(sp[1], frame.data() + off, frame.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;  // it is gone: "did not start" below
    off += static_cast<size_t>(n);
  }
  // The watchdog writes one byte back once its "started" record is in the ledger; the socket
  // closes if it exits first. Either wakes this wait (at most 3 s); no polling of the ledger.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    pollfd ready{sp[1], POLLIN, 0};
    const int rc = ::poll(&ready, 1, static_cast<int>(std::max<int64_t>(0, left.count())));
    if (rc < 0 && errno == EINTR) continue;
    break;
  }
  ::close(sp[1]);
  // Armed means: its "started" record is in the ledger and it lives.
  const std::string ledger = LedgerPath(o.state_dir, o.run_id);
  if (WatchdogState wd = ReadWatchdogState(ledger); ProcessAlive(*ctx.processes, wd.started)) {
    return {{"ok", true}, {"watchdog_pid", wd.started["pid"]}};
  }
  return ErrorReply(Status::Unavailable("the host-side watchdog did not start (see " + log + ")"));
}

nlohmann::json Match(const nlohmann::json& request, HostContext& ctx) {
  auto selector = SelectorFromWire(request.value("selector", nlohmann::json::object()));
  if (!selector.ok()) return ErrorReply(selector.status());
  auto matches = MatchProcesses(*ctx.processes, *selector);
  if (!matches.ok()) return ErrorReply(matches.status());
  nlohmann::json list = nlohmann::json::array();
  for (const auto& p : *matches) list.push_back(ProcessInfoToJson(p));
  return {{"ok", true}, {"processes", list}};
}

nlohmann::json Prepare(const nlohmann::json& request, HostContext& ctx) {
  auto made = MakeFault(request);
  if (!made.ok()) return ErrorReply(made.status());
  std::vector<Target> targets;
  for (const auto& t : request.value("targets", nlohmann::json::array())) {
    auto target = TargetFromWire(t);
    if (!target.ok()) return ErrorReply(target.status());
    targets.push_back(std::move(*target));
  }
  LocalExecutor executor(ctx.env, FaultRegistry::Global(), request.value("host", "local"));
  Status st = executor.Prepare(*made->fault, targets);
  return st.ok() ? nlohmann::json{{"ok", true}} : ErrorReply(st);
}

nlohmann::json Plan(const nlohmann::json& request, HostContext& ctx) {
  auto made = MakeFault(request);
  if (!made.ok()) return ErrorReply(made.status());
  LocalExecutor executor(ctx.env, FaultRegistry::Global(), request.value("host", "local"));
  auto target = TargetFromWire(request.value("target", nlohmann::json::object()));
  if (!target.ok()) return ErrorReply(target.status());
  auto undo = executor.PlanUndo(*made->fault, *target);
  if (!undo.ok()) return ErrorReply(undo.status());
  return {{"ok", true}, {"undo", undo->ToJson()}};
}

nlohmann::json Inject(const HostOptions& o, const nlohmann::json& request, HostContext& ctx) {
  auto made = MakeFault(request);
  if (!made.ok()) return ErrorReply(made.status());
  auto decoded = UndoRecordFromWire(request.value("undo", nlohmann::json::object()));
  if (!decoded.ok()) return ErrorReply(decoded.status());
  UndoRecord undo = std::move(*decoded);
  // The deadline in this host's clock: the runner's deadline moved by the clocks' difference.
  if (undo.deadline_ms > 0 && request.contains("runner_now_ms")) {
    auto runner_now = IntegerMember(request, "runner_now_ms", 0, INT64_MAX / 4);
    if (!runner_now.ok()) return ErrorReply(Status::InvalidInput(runner_now.status().message()));
    undo.deadline_ms += NowMs() - *runner_now;
  }
  auto wired = TargetFromWire(request.value("target", nlohmann::json::object()));
  if (!wired.ok()) return ErrorReply(wired.status());
  const Target target = std::move(*wired);
  auto secrets = RequestSecrets(request);
  if (!secrets.ok()) return ErrorReply(secrets.status());
  RunLock lock(LockPath(o));
  if (!lock.ok()) return ErrorReply(Status::FromErrno(errno, "lock " + LockPath(o)));
  if (Status armed = NeedsArmedRun(o, ctx); !armed.ok()) return ErrorReply(armed);
  auto ledger = FileLedger::OpenForAppend(LedgerPath(o.state_dir, o.run_id), *secrets);
  if (!ledger.ok()) return ErrorReply(ledger.status());
  auto id = (*ledger)->RecordIntent(undo);
  if (!id.ok()) return ErrorReply(id.status());
  LocalExecutor executor(ctx.env, FaultRegistry::Global(), request.value("host", "local"));
  Status st = executor.Inject(*made->fault, target, undo);
  if (st.ok() && HasLiveChildren()) {
    Status reverted = executor.Revert(undo);
    if (reverted.ok()) {
      Status marked = (*ledger)->RecordRevertedBy(*id, "runner");
      (void)marked;
    }
    st = Status::Unavailable(made->factory->Declaration().name +
                             " keeps worker processes in the process that injects it; remote "
                             "hosts do not support such faults yet (reverted)");
  }
  if (!st.ok()) return ErrorReply(st);
  return {{"ok", true}, {"ledger_id", *id}, {"observed", executor.Observe(*made->fault)}};
}

nlohmann::json Observe(const nlohmann::json& request, HostContext& ctx) {
  auto made = MakeFault(request);
  if (!made.ok()) return ErrorReply(made.status());
  LocalExecutor executor(ctx.env, FaultRegistry::Global(), request.value("host", "local"));
  return {{"ok", true}, {"observed", executor.Observe(*made->fault)}};
}

nlohmann::json Revert(const HostOptions& o, const nlohmann::json& request, HostContext& ctx) {
  auto decoded = UndoRecordFromWire(request.value("undo", nlohmann::json::object()));
  if (!decoded.ok()) return ErrorReply(decoded.status());
  UndoRecord undo = std::move(*decoded);
  auto secrets = RequestSecrets(request);
  if (!secrets.ok()) return ErrorReply(secrets.status());
  RunLock lock(LockPath(o));
  LocalExecutor executor(ctx.env, FaultRegistry::Global(), request.value("host", "local"));
  Status st = executor.Revert(undo);
  if (!st.ok()) return ErrorReply(st);
  // Verified here, on the host, before the ledger says reverted: a revert whose state is not
  // back stays outstanding for the next try (the runner's, or the host-side watchdog's).
  const Verification verification = executor.Verify(undo);
  if (!verification.verified) {
    return ErrorReply(
        Status::Runtime("reverted, but the state is not back: " + verification.found));
  }
  // Mark the matching intents reverted. The deadline was moved to this host's clock, so the
  // record is compared without it.
  const std::string path = LedgerPath(o.state_dir, o.run_id);
  if (::access(path.c_str(), F_OK) == 0) {
    auto ledger = FileLedger::OpenForAppend(path, *secrets);
    if (ledger.ok()) {
      for (const auto& [id, recorded] : (*ledger)->Outstanding()) {
        if (SameIntent(recorded, undo, *secrets)) {
          Status marked = (*ledger)->RecordRevertedBy(id, request.value("by", "runner"));
          if (!marked.ok()) return ErrorReply(marked);
        }
      }
    }
  }
  return {{"ok", true}, {"verified", true}, {"found", verification.found}};
}

// Checks (changes nothing) that the state an undo record undoes is back on this host. When it is
// and this host's watchdog is the one that reverted it (the run's ledger says so), the reply
// says `"reverted_by": "host watchdog"`, so that the runner's records tell who did.
nlohmann::json Verify(const HostOptions& o, const nlohmann::json& request, HostContext& ctx) {
  auto decoded = UndoRecordFromWire(request.value("undo", nlohmann::json::object()));
  if (!decoded.ok()) return ErrorReply(decoded.status());
  UndoRecord undo = std::move(*decoded);
  auto secrets = RequestSecrets(request);
  if (!secrets.ok()) return ErrorReply(secrets.status());
  LocalExecutor executor(ctx.env, FaultRegistry::Global(), request.value("host", "local"));
  const Verification v = executor.Verify(undo);
  nlohmann::json reply = {{"ok", true}, {"verified", v.verified}, {"found", v.found}};
  if (!v.verified || o.run_id.empty()) return reply;
  auto contents = ReadLedger(LedgerPath(o.state_dir, o.run_id));
  if (!contents.ok()) return reply;
  for (const auto& e : contents->entries) {
    if (e.reverted && e.reverted_by == kHostWatchdog && SameIntent(e.undo, undo, *secrets)) {
      reply["reverted_by"] = kHostWatchdog;
    }
  }
  return reply;
}

nlohmann::json Heartbeat(const HostOptions& o, HostContext& ctx) {
  const std::string ledger = LedgerPath(o.state_dir, o.run_id);
  if (::access(ledger.c_str(), F_OK) != 0) {
    return ErrorReply(Status::NotFound("run " + o.run_id + " was not begun on this host"));
  }
  WatchdogState wd = ReadWatchdogState(ledger);
  if (!wd.reverted.is_null()) {
    return ErrorReply(Status::Unavailable("the host-side watchdog reverted run " + o.run_id + " (" +
                                          wd.reverted.value("reason", "") + ")"));
  }
  const std::string path = HeartbeatPath(o);
  if (::utimensat(AT_FDCWD, path.c_str(), nullptr, AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrorReply(Status::FromErrno(errno, "heartbeat " + path));
  }
  return {{"ok", true}, {"watchdog_alive", ProcessAlive(*ctx.processes, wd.started)}};
}

nlohmann::json End(const HostOptions& o, const nlohmann::json& request) {
  RunLock lock(LockPath(o));
  auto ledger = FileLedger::OpenForAppend(LedgerPath(o.state_dir, o.run_id));
  if (!ledger.ok()) return ErrorReply(ledger.status());
  Status st = (*ledger)->Append({{"type", "end"}, {"status", request.value("status", "")}});
  if (!st.ok()) return ErrorReply(st);
  return {{"ok", true}, {"outstanding", (*ledger)->Outstanding().size()}};
}

// ---- The host-side watchdog ------------------------------------------------------------------

void Log(const std::string& text) {
  std::string line = FormatRfc3339(SystemClock().Now()) + " host-watchdog[" +
                     std::to_string(::getpid()) + "] " + text + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

// The runner's heartbeats on this host: `ringfence host heartbeat` touches the heartbeat file,
// whose age (on the watchdog's wall clock) is looked at once per period.
class HeartbeatFileLink : public RunnerLink {
 public:
  HeartbeatFileLink(std::string path, Clock& clock) : path_(std::move(path)), clock_(clock) {}

  RunnerNews Next(std::chrono::steady_clock::time_point until) override {
    clock_.SleepUntil(until, never_);
    struct stat st {};
    if (::lstat(path_.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      return {RunnerNews::Kind::kGone, {}, "the heartbeat file is gone"};
    }
    const auto beat = WallTime(std::chrono::duration_cast<WallTime::duration>(
        std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
    const auto age = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now() - beat);
    return {RunnerNews::Kind::kBeat, std::max(age, std::chrono::milliseconds(0)), ""};
  }

 private:
  std::string path_;
  Clock& clock_;
  StopSource never_;  // nothing stops the watchdog's wait early
};

int RunHostWatchdog(const HostOptions& o) {
  ::signal(SIGINT, SIG_IGN);
  ::signal(SIGHUP, SIG_IGN);
  ::signal(SIGPIPE, SIG_IGN);
  HostContext ctx;
  const std::string ledger_path = LedgerPath(o.state_dir, o.run_id);
  const SecretValues secrets = ReceiveSecrets(0, o.grace);  // from `begin`, on stdin
  {
    RunLock lock(LockPath(o));
    auto ledger = FileLedger::OpenForAppend(ledger_path, secrets);
    auto self = ctx.processes->Get(::getpid());
    if (!ledger.ok() || !self.ok()) {
      Log("cannot open " + ledger_path);
      return 3;
    }
    Status st = (*ledger)->Append({{"type", "watchdog"},
                                   {"event", "started"},
                                   {"pid", ::getpid()},
                                   {"start_ticks", self->start_ticks},
                                   {"grace_ms", o.grace.count()}});
    if (!st.ok()) {
      Log("cannot write " + ledger_path + ": " + st.message());
      return 3;
    }
  }
  // Armed: tell `begin`, which waits on the other end of stdin (a socket pair).
  const char armed = 'r';
  if (::send(0, &armed, 1, MSG_NOSIGNAL) != 1) {
    Log(std::string("cannot tell begin that the watchdog runs: ") + std::strerror(errno));
  }
  Log("watching " + ledger_path + " (grace " + FormatDuration(o.grace) + ")");
  ctx.env.run_id = o.run_id;
  LedgerWatchdogEffects effects(ledger_path, secrets, ctx.env, Log, kHostWatchdog);
  HeartbeatFileLink link(HeartbeatPath(o), SystemClock());
  WatchdogLoop loop({.grace = o.grace,
                     .end_record_finishes = true,
                     .unreadable_ledger_acts = true,
                     .self_pid = ::getpid()},
                    SystemClock(), link, effects, *ctx.processes);
  const WatchdogLoop::Watched watched = loop.Watch();
  if (watched.finished) return 0;
  // The run's lock while it reverts, so that no inject slips in.
  RunLock lock(LockPath(o));
  return loop.Act(watched.reason);
}

Status NeedsRunId(const HostOptions& o, const std::string& action) {
  const bool needs_run = action != "version" && action != "match" && action != "prepare" &&
                         action != "plan" && action != "observe" && action != "verify";
  if (needs_run && o.run_id.empty()) return Status::InvalidInput(action + " needs --run ID");
  return Status::Ok();
}

// One request to one action (not watchdog or session), with a context of its own, as a
// one-shot command has.
nlohmann::json Dispatch(const HostOptions& o, const std::string& action,
                        const nlohmann::json& request) {
  HostContext ctx;
  ctx.env.run_id = o.run_id.empty() ? "norun" : o.run_id;
  try {
    if (action == "version") return Version();
    if (action == "begin") return Begin(o, request, ctx);
    if (action == "match") return Match(request, ctx);
    if (action == "prepare") return Prepare(request, ctx);
    if (action == "plan") return Plan(request, ctx);
    if (action == "inject") return Inject(o, request, ctx);
    if (action == "observe") return Observe(request, ctx);
    if (action == "revert") return Revert(o, request, ctx);
    if (action == "verify") return Verify(o, request, ctx);
    if (action == "heartbeat") return Heartbeat(o, ctx);
    return End(o, request);
  } catch (const std::exception& e) {
    // A malformed request (a member of the wrong type) lands here; it is still a reply.
    return ErrorReply(Status::InvalidInput(std::string("bad request: ") + e.what()));
  }
}

// ---- The host session ------------------------------------------------------------------------

// `ringfence host session`: the actions of a whole run over one command (docs/fleets.md). Lines
// of SessionRequest in, lines of SessionReply out. Heartbeats are answered at once, on the
// reading thread (they only touch the heartbeat file and read the ledger), so that they never
// wait for a slow action; every other action runs in order on one worker thread, each through
// the same handler as its one-shot command.
//
// EOF on stdin ends the session after the action in progress, and reverts nothing: a cut
// network looks like silence, not EOF, so the host-side watchdog's heartbeat deadline stays the
// only judge. Once the run was begun, a session that hears nothing for twice the grace and a
// second exits too (by then the watchdog has judged the runner gone), so that a partition does
// not leave it behind.
class HostSessionLoop {
 public:
  explicit HostSessionLoop(const HostOptions& o) : o_(o) {}

  int Run() {
    ::signal(SIGPIPE, SIG_IGN);  // a runner gone mid-reply is an error of that write only
    std::thread worker([this] { Work(); });
    ReadLines();
    {
      std::lock_guard<std::mutex> lock(mu_);
      eof_ = true;
    }
    work_cv_.notify_all();
    worker.join();
    return 0;
  }

 private:
  void ReadLines() {
    std::string buffer;
    char chunk[65536];
    const auto idle_limit = 2 * o_.grace + std::chrono::seconds(1);
    auto last_line = std::chrono::steady_clock::now();
    while (true) {
      // Armed (by begin, on the worker, or a heartbeat) at any time: look again every second.
      int wait_ms = 1000;
      if (armed_.load()) {
        const auto idle = std::chrono::steady_clock::now() - last_line;
        if (idle >= idle_limit) {
          std::fprintf(stderr, "ringfence host session: nothing from the runner for %s; exiting\n",
                       FormatDuration(idle_limit).c_str());
          return;
        }
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(idle_limit - idle).count() + 1;
        wait_ms = static_cast<int>(std::min<int64_t>(1000, left));
      }
      pollfd p{0, POLLIN, 0};
      const int ready = ::poll(&p, 1, wait_ms);
      if (ready < 0 && errno == EINTR) continue;
      if (ready == 0) continue;
      const ssize_t n = ::read(0, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // EOF (or a broken stdin): the runner closed the session
      last_line = std::chrono::steady_clock::now();
      buffer.append(chunk, static_cast<size_t>(n));
      size_t begin = 0;
      for (size_t nl; (nl = buffer.find('\n', begin)) != std::string::npos; begin = nl + 1) {
        Handle(buffer.substr(begin, nl - begin));
      }
      buffer.erase(0, begin);
      if (buffer.size() > kMaxRequestBytes) {
        Send({0, ErrorReply(Status::InvalidInput("request larger than 16 MiB"))});
        return;
      }
    }
  }

  void Handle(const std::string& line) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) return;
    auto request = ParseSessionRequest(line);
    if (!request.ok()) {
      nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
      uint64_t id = 0;
      if (j.is_object() && j.contains("id") && j["id"].is_number_unsigned()) {
        id = j["id"].get<uint64_t>();
      }
      Send({id, ErrorReply(request.status())});
      return;
    }
    const auto& actions = HostActions();
    if (request->action == "watchdog" || request->action == "session" ||
        std::find(actions.begin(), actions.end(), request->action) == actions.end()) {
      Send({request->id, ErrorReply(Status::InvalidInput("no action \"" + request->action +
                                                         "\" in a host session"))});
      return;
    }
    if (Status st = NeedsRunId(o_, request->action); !st.ok()) {
      Send({request->id, ErrorReply(st)});
      return;
    }
    if (request->action == "heartbeat") {
      armed_ = true;
      Send({request->id, Dispatch(o_, "heartbeat", request->request)});
      return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(*request));
    work_cv_.notify_all();
  }

  void Work() {
    while (true) {
      SessionRequest request;
      {
        std::unique_lock<std::mutex> lock(mu_);
        work_cv_.wait(lock, [&] { return eof_ || !queue_.empty(); });
        if (queue_.empty()) return;
        request = std::move(queue_.front());
        queue_.pop_front();
      }
      nlohmann::json reply = Dispatch(o_, request.action, request.request);
      if (request.action == "begin" && reply.value("ok", false)) armed_ = true;
      Send({request.id, std::move(reply)});
    }
  }

  void Send(const SessionReply& reply) {
    const std::string text = SessionReplyLine(reply) + "\n";
    std::lock_guard<std::mutex> lock(out_mu_);
    size_t off = 0;
    while (off < text.size()) {
      const ssize_t n = ::write(1, text.data() + off, text.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // the runner is gone; its watchdog deadline judges the rest
      off += static_cast<size_t>(n);
    }
  }

  const HostOptions& o_;
  std::atomic<bool> armed_{false};
  std::mutex out_mu_;
  std::mutex mu_;
  std::condition_variable work_cv_;
  std::deque<SessionRequest> queue_;
  bool eof_ = false;
};

int RunHostSession(const HostOptions& o) {
  ProtectControlConnection();
  return HostSessionLoop(o).Run();
}

int Usage(const std::string& message) {
  std::fprintf(stderr, "ringfence host: %s (see ringfence host --help)\n", message.c_str());
  return 2;
}

}  // namespace

const std::vector<std::string>& HostActions() {
  static const std::vector<std::string> actions = {
      "version", "begin",  "match",     "prepare", "plan",    "inject",  "observe",
      "revert",  "verify", "heartbeat", "end",     "session", "watchdog"};
  return actions;
}

int RunHostAction(const HostOptions& o) {
  if (!o.run_id.empty() && !SafeRunId(o.run_id)) {
    return Usage("--run \"" + o.run_id + "\": expected a run id");
  }
  if (o.action == "session") return RunHostSession(o);
  if (Status st = NeedsRunId(o, o.action); !st.ok()) return Usage(st.message());
  if (o.action == "watchdog") return RunHostWatchdog(o);
  ProtectControlConnection();

  nlohmann::json request = nlohmann::json::object();
  if (o.action != "version" && o.action != "heartbeat") {
    auto read = ReadRequest();
    if (!read.ok()) {
      Reply(ErrorReply(read.status()));
      return 0;
    }
    request = std::move(*read);
  }
  Reply(Dispatch(o, o.action, request));
  return 0;
}

}  // namespace ringfence
