#include "runner/watchdog.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ctime>

#include "core/fault/executor.h"
#include "core/fault/fault.h"
#include "core/ledger/file_ledger.h"
#include "core/engine/journal.h"
#include "core/ledger/recovery.h"
#include "core/sys/system_process_table.h"
#include "core/sys/system_clock.h"

namespace ringfence {

Result<std::unique_ptr<WatchdogHandle>> WatchdogHandle::Start(const std::string& binary,
                                                              const std::string& ledger_path,
                                                              int lock_fd,
                                                              std::chrono::milliseconds grace,
                                                              const SecretValues& secrets) {
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
  pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    for (int fd : {p[0], p[1], sock_hi, lock_hi}) {
      if (fd >= 0) ::close(fd);
    }
    return Status::FromErrno(err, "watchdog fork");
  }
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    ::setsid();
    ::dup2(sock_hi, 3);  // dup2 clears FD_CLOEXEC on the new descriptor
    if (lock_hi >= 0) ::dup2(lock_hi, 4);
    const char* argv[] = {binary.c_str(), "watchdog", "--ledger", ledger_path.c_str(), "--grace",
                          grace_ms.c_str(), nullptr};
    ::execv(binary.c_str(), const_cast<char* const*>(argv));
    ::_exit(127);
  }
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
  return std::unique_ptr<WatchdogHandle>(new WatchdogHandle(pid, p[1], grace));
}

WatchdogHandle::WatchdogHandle(pid_t pid, int fd, std::chrono::milliseconds grace)
    : pid_(pid), fd_(fd), grace_(grace) {
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
  // Reap it (bounded): it is our child until we exit.
  for (int i = 0; i < 200; ++i) {
    if (::waitpid(pid_, nullptr, WNOHANG) != 0) return;
    ::usleep(10000);
  }
}

WatchdogHandle::~WatchdogHandle() {
  stop_.RequestStop("gone");
  if (beater_.joinable()) beater_.join();
  if (fd_ >= 0) ::close(fd_);  // no "done": the watchdog reverts what is left
  ::waitpid(pid_, nullptr, WNOHANG);
}

namespace {

FILE* g_log = stderr;

void Log(const char* fmt, const std::string& a = "", const std::string& b = "") {
  std::string when = FormatRfc3339(std::chrono::system_clock::now());
  std::fprintf(g_log, "%s watchdog[%d] ", when.c_str(), static_cast<int>(::getpid()));
  std::fprintf(g_log, fmt, a.c_str(), b.c_str());
  std::fputc('\n', g_log);
  std::fflush(g_log);
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

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
  Log("watching %s (grace %s)", ledger_path, std::to_string(grace.count()) + " ms");
  const SecretValues secrets = ReceiveSecrets(3, grace);

  auto last_beat = std::chrono::steady_clock::now();
  std::string reason;
  while (reason.empty()) {
    struct pollfd pfd = {3, POLLIN, 0};
    int rc = ::poll(&pfd, 1, 100);
    if (rc > 0) {
      char buf[64];
      ssize_t n = ::read(3, buf, sizeof buf);
      if (n == 0) {
        reason = "the runner is gone (its heartbeat socket closed without \"done\")";
        break;
      }
      for (ssize_t i = 0; i < n; ++i) {
        if (buf[i] == 'd') {
          Log("the runner finished; exiting");
          return 0;
        }
      }
      if (n > 0) last_beat = std::chrono::steady_clock::now();
    } else if (rc < 0 && errno != EINTR) {
      reason = "heartbeat socket failed";
      break;
    }
    if (std::chrono::steady_clock::now() - last_beat > grace) {
      reason = "no heartbeat for longer than the grace";
      break;
    }
    auto contents = ReadLedger(ledger_path);
    if (contents.ok()) {
      const int64_t now = NowMs();
      for (const auto* e : contents->Outstanding()) {
        if (e->undo.deadline_ms > 0 && e->undo.deadline_ms < now) {
          reason = "the deadline of " + e->undo.fault_name + " on " + e->undo.target + " passed";
          break;
        }
      }
    }
  }

  Log("acting: %s", reason);
  auto processes = MakeSystemProcessTable();
  StopSource stop;
  FaultEnv env{*processes, SystemClock(), stop};
  LocalExecutor executor(env, FaultRegistry::Global());
  if (auto contents = ReadLedger(ledger_path); contents.ok() && contents->run.is_object()) {
    env.run_id = contents->run.value("run_id", "norun");
  }
  RecoveryReport report = RecoverRun(ledger_path, executor, SystemClock(), "watchdog", 3, secrets);
  for (const auto& a : report.actions) Log("%s", a);
  for (const auto& l : report.left) Log("LEFT: %s", l);
  if (auto ledger = FileLedger::OpenForAppend(ledger_path, secrets); ledger.ok()) {
    Status st = (*ledger)->Append({{"type", "watchdog"}, {"event", "reverted"}, {"reason", reason},
                                   {"ok", report.ok()}, {"pid", ::getpid()}});
    (void)st;
  }
  // A runner that is alive but missed a deadline or its heartbeats may inject again when it wakes:
  // stop it (it reverts on SIGTERM too; reverting twice is harmless).
  if (auto contents = ReadLedger(ledger_path); contents.ok() && contents->run.is_object()) {
    pid_t runner = contents->run.value("runner_pid", 0);
    auto p = processes->Get(runner);
    if (runner > 0 && p.ok() &&
        p->start_ticks == contents->run.value("runner_start_ticks", 0ULL) && p->state != 'Z') {
      Log("stopping the runner (pid %s) with SIGTERM", std::to_string(runner));
      Status st = processes->Signal(runner, p->start_ticks, SIGTERM);
      (void)st;
    }
  }
  // A runner that died left its journal as a checkpoint: stream every guard sample of its event
  // log into it (docs/journal.md). Only a checkpoint of this run is touched.
  if (reason.rfind("the runner is gone", 0) == 0) {
    if (auto contents = ReadLedger(ledger_path); contents.ok()) {
      std::string journal;
      Status st = CompleteJournalOfRun(contents->run, "watchdog", SystemClock().Now(), &journal);
      if (st.ok()) {
        Log("journal %s: every guard sample of its event log added", journal);
      } else if (st.code() != StatusCode::kNotFound) {
        Log("journal %s: left as it was: %s", journal, st.message());
      }
    }
  }
  return report.ok() ? 0 : 4;
}

}  // namespace ringfence
