#include "runner/watchdog/watchdog.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <ctime>

#include "core/engine/journal.h"
#include "core/fault/executor.h"
#include "core/fault/fault.h"
#include "core/ledger/file_ledger.h"
#include "core/ledger/recovery.h"
#include "core/sys/child_launcher.h"
#include "core/sys/system_clock.h"
#include "core/sys/system_env.h"
#include "core/sys/system_process_table.h"
#include "runner/watchdog/watchdog_loop.h"

namespace ringfence {

namespace {

// Waits (poll on the socket, no sleeping loop) for the watchdog's 'a'. On failure the child is
// killed (a no-op when it has already exited) and reaped, so that the wait cannot hang.
Status AwaitArmed(int fd, pid_t pid) {
  const auto deadline = std::chrono::steady_clock::now() + WatchdogHandle::kArmTimeout;
  bool answered = false;  // the socket closed or carried something other than 'a'
  while (!answered) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    struct pollfd pfd = {fd, POLLIN, 0};
    const int r = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (r == 0 || (r < 0 && errno == EINTR)) continue;  // the deadline check ends a silence
    char byte = 0;
    const ssize_t n = r < 0 ? -1 : ::recv(fd, &byte, 1, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n == 1 && byte == 'a') return Status::Ok();
    answered = true;
  }
  ::kill(pid, SIGKILL);
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (answered && WIFEXITED(wstatus)) {
    return Status::Unavailable("the watchdog exited before it was armed (exit code " +
                               std::to_string(WEXITSTATUS(wstatus)) + ")");
  }
  return Status::Unavailable("the watchdog was not armed within " +
                             std::to_string(WatchdogHandle::kArmTimeout.count() / 1000) + "s");
}

}  // namespace

Result<std::unique_ptr<WatchdogHandle>> WatchdogHandle::Start(
    const std::string& binary, const std::string& ledger_path, int lock_fd,
    std::chrono::milliseconds grace, ProcessTable& processes, const SecretValues& secrets) {
  // A socket pair rather than a pipe: send(MSG_NOSIGNAL) cannot raise SIGPIPE in the runner
  // when the watchdog has already gone.
  int p[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) != 0) {
    return Status::FromErrno(errno, "watchdog socket pair");
  }
  const std::string grace_ms = std::to_string(grace.count()) + "ms";
  // Copies above 3 and 4 first: dup2 onto the same number is a no-op that keeps FD_CLOEXEC (the
  // socket may well be fd 3), and one target must not overwrite the other's source.
  const int sock_hi = ::fcntl(p[0], F_DUPFD_CLOEXEC, 10);
  const int lock_hi = lock_fd >= 0 ? ::fcntl(lock_fd, F_DUPFD_CLOEXEC, 10) : -1;
  if (sock_hi < 0 || (lock_fd >= 0 && lock_hi < 0)) {
    int err = errno;
    for (int fd : {p[0], p[1], sock_hi, lock_hi}) {
      if (fd >= 0) ::close(fd);
    }
    return Status::FromErrno(err, "watchdog descriptors");
  }
  // A session of its own, so that a signal to the runner's process group (Ctrl-C) misses it.
  ChildLaunch launch;
  launch.argv = {binary, "watchdog", "--ledger", ledger_path, "--grace", grace_ms};
  launch.new_session = true;
  launch.fds.emplace_back(sock_hi, 3);  // dup2 clears FD_CLOEXEC on the new descriptor
  if (lock_hi >= 0) launch.fds.emplace_back(lock_hi, 4);
  launch.what = "watchdog fork";
  Result<pid_t> launched = LaunchChild(launch);
  if (!launched.ok()) {
    for (int fd : {p[0], p[1], sock_hi, lock_hi}) {
      if (fd >= 0) ::close(fd);
    }
    return launched.status();
  }
  const pid_t pid = *launched;
  ::close(p[0]);
  ::close(sock_hi);
  if (lock_hi >= 0) ::close(lock_hi);
  // The secrets frame, before any heartbeat (the beater starts in the constructor).
  const std::string frame = SecretsFrame(secrets);
  for (size_t off = 0; off < frame.size();) {
    ssize_t n = ::send(p[1], frame.data() + off, frame.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;  // it is gone already: it reverts what the ledger shows on its own
    off += static_cast<size_t>(n);
  }
  if (Status armed = AwaitArmed(p[1], pid); !armed.ok()) {
    ::close(p[1]);
    return armed;
  }
  return std::unique_ptr<WatchdogHandle>(new WatchdogHandle(pid, p[1], grace, processes));
}

WatchdogHandle::WatchdogHandle(pid_t pid, int fd, std::chrono::milliseconds grace,
                               ProcessTable& processes)
    : pid_(pid), fd_(fd), grace_(grace), processes_(processes) {
  // Our child, not reaped yet: its pid cannot belong to another process.
  if (auto self = processes_.Get(pid_); self.ok()) start_ticks_ = self->start_ticks;
  beater_ = std::thread([this] { Beat(); });
}

void WatchdogHandle::Beat() {
  const auto period = std::max(std::chrono::milliseconds(50), grace_ / 4);
  do {
    char h = 'h';
    if (::send(fd_, &h, 1, MSG_NOSIGNAL) < 0 && errno != EINTR) return;
  } while (stop_.WaitUntil(std::chrono::steady_clock::now() + period));
}

void WatchdogHandle::Finish() {
  stop_.RequestStop("finished");
  if (beater_.joinable()) beater_.join();
  if (fd_ >= 0) {
    char d = 'd';
    ssize_t ignored = ::send(fd_, &d, 1, MSG_NOSIGNAL);
    (void)ignored;
    ::close(fd_);
    fd_ = -1;
  }
  // Reap it (bounded): it is our child until we exit, and it holds the state dir's lock until
  // it exits. Its pidfd becomes readable when it exits; no sleeping in between.
  if (start_ticks_ != 0) processes_.WaitExit(pid_, start_ticks_, std::chrono::seconds(2));
  ::waitpid(pid_, nullptr, WNOHANG);
}

WatchdogHandle::~WatchdogHandle() {
  stop_.RequestStop("gone");
  if (beater_.joinable()) beater_.join();
  if (fd_ >= 0) ::close(fd_);  // no "done": the watchdog reverts what is left
  ::waitpid(pid_, nullptr, WNOHANG);
}

namespace {

FILE* g_log = stderr;

void Log(const std::string& text) {
  const std::string when = FormatRfc3339(SystemClock().Now());
  std::fprintf(g_log, "%s watchdog[%d] %s\n", when.c_str(), static_cast<int>(::getpid()),
               text.c_str());
  std::fflush(g_log);
}

constexpr const char* kRunnerGone = "the runner is gone";

// The runner's end of the heartbeat socket: 'h' heartbeats, 'd' done, EOF without "done": the
// runner died.
class HeartbeatSocketLink : public RunnerLink {
 public:
  HeartbeatSocketLink(int fd, Clock& clock) : fd_(fd), clock_(clock) {}

  RunnerNews Next(std::chrono::steady_clock::time_point until) override {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(until - clock_.Monotonic());
    struct pollfd pfd = {fd_, POLLIN, 0};
    const int rc = ::poll(&pfd, 1, static_cast<int>(std::max<int64_t>(0, left.count())));
    if (rc < 0 && errno != EINTR) {
      return {RunnerNews::Kind::kGone, {}, "heartbeat socket failed"};
    }
    if (rc <= 0) return {};
    char buf[64];
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n == 0) {
      return {RunnerNews::Kind::kGone,
              {},
              std::string(kRunnerGone) + " (its heartbeat socket closed without \"done\")"};
    }
    if (n < 0) return {};
    for (ssize_t i = 0; i < n; ++i) {
      if (buf[i] == 'd') return {RunnerNews::Kind::kFinished, {}, ""};
    }
    return {RunnerNews::Kind::kBeat, std::chrono::milliseconds(0), ""};
  }

 private:
  int fd_;
  Clock& clock_;
};

// Reads exactly `n` bytes from `fd` before `deadline`; false on EOF, error or time out.
bool ReadFrameBytes(int fd, std::string& out, size_t n,
                    std::chrono::steady_clock::time_point deadline) {
  out.resize(n);
  size_t off = 0;
  while (off < n) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    struct pollfd pfd = {fd, POLLIN, 0};
    int rc = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) return false;
    ssize_t r = ::read(fd, out.data() + off, n - off);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    off += static_cast<size_t>(r);
  }
  return true;
}

}  // namespace

std::string SecretsFrame(const SecretValues& secrets) {
  const std::string json = secrets.ToJson().dump();
  char head[16];
  std::snprintf(head, sizeof head, "s%08zx", json.size());
  return head + json;
}

SecretValues ReceiveSecrets(int fd, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string head, json;
  if (!ReadFrameBytes(fd, head, 9, deadline) || head[0] != 's') return {};
  size_t size = 0;
  if (std::sscanf(head.c_str() + 1, "%8zx", &size) != 1 || size > (16u << 20)) return {};
  if (!ReadFrameBytes(fd, json, size, deadline)) return {};
  auto parsed = SecretValues::FromJson(nlohmann::json::parse(json, nullptr, false));
  return parsed.ok() ? std::move(*parsed) : SecretValues();
}

int RunWatchdog(const std::string& ledger_path, std::chrono::milliseconds grace) {
  std::string log_path = ledger_path;
  if (log_path.size() > 7 && log_path.compare(log_path.size() - 7, 7, ".ledger") == 0) {
    log_path.resize(log_path.size() - 7);
  }
  log_path += ".watchdog.log";
  int log_fd =
      ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (log_fd >= 0) {
    struct stat st;
    if (::fstat(log_fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == ::geteuid()) {
      if (FILE* f = ::fdopen(log_fd, "a")) g_log = f;
    } else {
      ::close(log_fd);
    }
  }
  // The heartbeat socket (3) and the state dir's lock (4) came through exec without
  // FD_CLOEXEC; what the watchdog starts (a restart_command's service) must inherit neither, or
  // a restarted daemon would hold the lock and refuse every later run.
  ::fcntl(3, F_SETFD, FD_CLOEXEC);
  ::fcntl(4, F_SETFD, FD_CLOEXEC);
  ::signal(SIGINT, SIG_IGN);
  ::signal(SIGHUP, SIG_IGN);
  ::signal(SIGPIPE, SIG_IGN);
  Log("watching " + ledger_path + " (grace " + std::to_string(grace.count()) + " ms)");
  const SecretValues secrets = ReceiveSecrets(3, grace);

  auto processes = MakeSystemProcessTable();
  StopSource stop;
  SystemEnv system(*processes);
  FaultEnv env{system, stop};
  LedgerWatchdogEffects effects(ledger_path, secrets, env, Log);
  HeartbeatSocketLink link(3, SystemClock());
  WatchdogLoop loop({.grace = grace, .self_pid = ::getpid()}, SystemClock(), link, effects,
                    *processes);
  // Armed: the runner starts its run only after this byte (WatchdogHandle::Start).
  const char armed = 'a';
  if (::send(3, &armed, 1, MSG_NOSIGNAL) != 1) Log("cannot tell the runner it is armed");
  const WatchdogLoop::Watched watched = loop.Watch();
  if (watched.finished) return 0;
  const int code = loop.Act(watched.reason);
  // A runner that died left its journal as a checkpoint: stream every guard sample of its event
  // log into it (docs/journal.md). Only a checkpoint of this run is touched.
  if (watched.reason.rfind(kRunnerGone, 0) == 0) {
    if (auto contents = ReadLedger(ledger_path); contents.ok()) {
      std::string journal;
      Status st = CompleteJournalOfRun(contents->run, "watchdog", SystemClock().Now(), &journal,
                                       &*contents);
      if (st.ok()) {
        Log("journal " + journal + ": every guard sample of its event log added");
      } else if (st.code() != StatusCode::kNotFound) {
        Log("journal " + journal + ": left as it was: " + st.message());
      }
    }
  }
  return code;
}

}  // namespace ringfence
