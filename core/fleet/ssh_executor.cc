#include "core/fleet/ssh_executor.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <mutex>

#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/readable_pipe.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/writable_pipe.hpp>
#include <boost/asio/write.hpp>
#include <boost/process/v2.hpp>

#include "core/base/json_fields.h"
#include "core/base/parallel_for.h"
#include "core/base/process_table.h"
#include "core/base/shell_quote.h"
#include "core/fleet/host_protocol.h"
#include "core/sys/child_exec_setup.h"
#include "core/sys/run_command.h"
#include "core/targets/host_selection.h"
#include "core/targets/target_resolver.h"

namespace ringfence {

namespace {

namespace asio = boost::asio;
namespace bp = boost::process::v2;

constexpr size_t kCaptureCap = 1 << 20;
// ssh masters linger this long after their last session (a runner killed with SIGKILL leaves
// them behind for no longer).
constexpr int kControlPersistSeconds = 60;

class ProcessSshTransport : public SshTransport {
 public:
  explicit ProcessSshTransport(Env& system) : system_(system) {
    // Requests go down pipes to ssh clients that may die first (a host that goes away, a
    // timeout): that must be an error of one write, never SIGPIPE for the whole runner.
    static std::once_flag once;
    std::call_once(once, [] { ::signal(SIGPIPE, SIG_IGN); });
  }

  Result<SshCommandResult> Run(const std::vector<std::string>& argv, const std::string& input,
                               std::chrono::milliseconds timeout) override {
    auto run = system_.RunWithInput(argv, input, timeout);
    if (!run.ok()) {
      if (run.status().code() == StatusCode::kNotFound)
        return Status::Unavailable(argv.at(0) + " not found in PATH (install openssh-client)");
      return run.status();
    }
    return SshCommandResult{run->exit_code, run->timed_out, std::move(run->out),
                            std::move(run->err)};
  }

  Result<std::unique_ptr<LineChannel>> Open(const std::vector<std::string>& argv,
                                            const LineHandlers& handlers) override;

 private:
  Env& system_;
};

std::string Seconds(std::chrono::milliseconds d) {
  return std::to_string(std::max<long long>(1, (d.count() + 999) / 1000));
}

// The last non-empty line of `text`, trimmed.
std::string LastLine(const std::string& text) {
  size_t end = text.find_last_not_of(" \r\n\t");
  if (end == std::string::npos) return "";
  size_t begin = text.rfind('\n', end);
  begin = begin == std::string::npos ? 0 : begin + 1;
  return text.substr(begin, end - begin + 1);
}

// A long-lived child (`ssh ... -- ringfence host session`) spoken to in lines. Its own thread
// launches it (the child is killed when the thread that forked it ends: PR_SET_PDEATHSIG) and
// then runs the reads; Send writes stdin directly from the caller's thread.
class ProcessLineChannel : public LineChannel {
 public:
  explicit ProcessLineChannel(LineHandlers handlers) : handlers_(std::move(handlers)) {}
  ~ProcessLineChannel() override { Close(std::chrono::milliseconds(100)); }

  Status Start(const std::string& exe, const std::vector<std::string>& argv) {
    auto launched = std::make_shared<std::promise<Status>>();
    auto started = launched->get_future();
    thread_ = std::thread([this, exe, argv, launched] { Run(exe, argv, *launched); });
    Status st = started.get();
    if (!st.ok()) thread_.join();
    return st;
  }

  Status Send(const std::string& line, std::chrono::milliseconds timeout) override {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    const std::string data = line + "\n";
    std::lock_guard<std::mutex> lock(write_mu_);
    size_t off = 0;
    while (off < data.size()) {
      if (in_fd_ < 0) return Status::Unavailable("its stdin is closed");
      const ssize_t n = ::write(in_fd_, data.data() + off, data.size() - off);
      if (n > 0) {
        off += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno != EAGAIN) return Status::FromErrno(errno, "write to the session");
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return Status::Timeout("the session does not read its stdin");
      pollfd p{in_fd_, POLLOUT, 0};
      ::poll(&p, 1, static_cast<int>(left.count()));
    }
    return Status::Ok();
  }

  void Close(std::chrono::milliseconds grace) override {
    std::lock_guard<std::mutex> closing(close_mu_);
    if (!thread_.joinable()) return;
    {
      std::lock_guard<std::mutex> lock(write_mu_);
      if (in_fd_ >= 0) ::close(in_fd_);
      in_fd_ = -1;
    }
    std::unique_lock<std::mutex> lock(state_mu_);
    if (!state_cv_.wait_for(lock, grace, [&] { return closed_; })) {
      if (pidfd_ >= 0) ::syscall(SYS_pidfd_send_signal, pidfd_, SIGKILL, nullptr, 0);
      if (!state_cv_.wait_for(lock, std::chrono::seconds(2), [&] { return closed_; })) {
        ctx_.stop();  // something else holds its pipes: stop reading them
      }
    }
    lock.unlock();
    thread_.join();
    if (pidfd_ >= 0) ::close(pidfd_);
    pidfd_ = -1;
  }

 private:
  void Run(const std::string& exe, const std::vector<std::string>& argv,
           std::promise<Status>& launched) {
    std::optional<bp::basic_process<asio::io_context::executor_type>> proc;
    try {
      boost::system::error_code ec;
      bp::posix::default_launcher launcher;
      std::vector<std::string> args(argv.begin() + 1, argv.end());
      proc.emplace(launcher(ctx_.get_executor(), ec, bp::filesystem::path(exe), args,
                            bp::process_stdio{in_, out_, err_}, DieWithParentInit{::getpid()}));
      if (ec) {
        launched.set_value(Status::Runtime("start " + argv[0] + ": " + ec.message()));
        return;
      }
      pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, proc->id(), 0));
      in_fd_ = in_.release();
      ::fcntl(in_fd_, F_SETFL, ::fcntl(in_fd_, F_GETFL) | O_NONBLOCK);
    } catch (const std::exception& e) {
      launched.set_value(Status::Runtime("start " + argv[0] + ": " + e.what()));
      return;
    }
    launched.set_value(Status::Ok());
    ReadOut();
    ReadErr();
    asio::steady_timer drain(ctx_);
    proc->async_wait([&](const boost::system::error_code& ec, int) {
      if (!ec) {
        const int status = proc->native_exit_code();
        exit_ = WIFEXITED(status)     ? "exited " + std::to_string(WEXITSTATUS(status))
                : WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                      : "ended";
      }
      // Whatever inherited its pipes must not hold the session open.
      drain.expires_after(std::chrono::milliseconds(200));
      drain.async_wait([&](const boost::system::error_code& e) {
        if (e) return;
        boost::system::error_code ignored;
        out_.close(ignored);
        err_.close(ignored);
      });
    });
    try {
      ctx_.run();
    } catch (const std::exception& e) {
      spdlog::error("host session: {}", e.what());
    }
    std::string why = LastLine(err_text_);
    if (why.empty()) why = "`ringfence host session` " + (exit_.empty() ? "ended" : exit_);
    handlers_.on_closed(why);
    std::lock_guard<std::mutex> lock(state_mu_);
    closed_ = true;
    state_cv_.notify_all();
  }

  void ReadOut() {
    out_.async_read_some(
        asio::buffer(out_buf_), [this](const boost::system::error_code& ec, size_t n) {
          line_.append(out_buf_.data(), n);
          size_t begin = 0;
          for (size_t nl; (nl = line_.find('\n', begin)) != std::string::npos; begin = nl + 1) {
            handlers_.on_line(line_.substr(begin, nl - begin));
          }
          line_.erase(0, begin);
          if (line_.size() > kCaptureCap * 16) line_.clear();  // no reply is this large
          if (!ec) ReadOut();
        });
  }

  void ReadErr() {
    err_.async_read_some(asio::buffer(err_buf_),
                         [this](const boost::system::error_code& ec, size_t n) {
                           err_text_.append(err_buf_.data(), n);
                           if (err_text_.size() > kCaptureCap)
                             err_text_.erase(0, err_text_.size() - kCaptureCap / 2);
                           if (!ec) ReadErr();
                         });
  }

  LineHandlers handlers_;
  asio::io_context ctx_;
  asio::writable_pipe in_{ctx_};
  asio::readable_pipe out_{ctx_};
  asio::readable_pipe err_{ctx_};
  std::array<char, 16 * 1024> out_buf_{};
  std::array<char, 4 * 1024> err_buf_{};
  std::string line_;
  std::string err_text_;
  std::string exit_;
  std::thread thread_;
  int pidfd_ = -1;
  std::mutex write_mu_;
  int in_fd_ = -1;  // the session's stdin, owned here (non-blocking); -1 once closed
  std::mutex close_mu_;
  std::mutex state_mu_;
  std::condition_variable state_cv_;
  bool closed_ = false;  // on_closed was called
};

}  // namespace

Result<std::unique_ptr<LineChannel>> SshTransport::Open(const std::vector<std::string>&,
                                                        const LineHandlers&) {
  return Status::Unavailable("this transport has no long-lived commands");
}

Result<std::unique_ptr<LineChannel>> ProcessSshTransport::Open(const std::vector<std::string>& argv,
                                                               const LineHandlers& handlers) {
  auto exe = FindExecutable(argv.at(0));
  if (!exe) return Status::Unavailable(argv[0] + " not found in PATH (install openssh-client)");
  auto channel = std::make_unique<ProcessLineChannel>(handlers);
  if (Status st = channel->Start(*exe, argv); !st.ok()) return st;
  return std::unique_ptr<LineChannel>(std::move(channel));
}

std::unique_ptr<SshTransport> MakeSshTransport(Env& system) {
  return std::make_unique<ProcessSshTransport>(system);
}

// ---- SshExecutor -----------------------------------------------------------------------------

SshExecutor::SshExecutor(SshFleet& fleet, const InventoryHost& host)
    : fleet_(fleet), host_(host), binary_(host.binary) {}

std::vector<std::string> SshExecutor::SshArgs(bool master) const {
  const SshSettings& ssh = fleet_.inventory().ssh;
  std::vector<std::string> a = {"ssh",
                                "-p",
                                std::to_string(host_.port),
                                "-l",
                                host_.user,
                                "-o",
                                "BatchMode=yes",
                                "-o",
                                "ConnectTimeout=" + Seconds(ssh.connect_timeout),
                                "-o",
                                "LogLevel=ERROR",
                                "-o",
                                "ServerAliveInterval=5",
                                "-o",
                                "ServerAliveCountMax=3"};
  if (!host_.identity_file.empty()) {
    a.insert(a.end(), {"-i", host_.identity_file, "-o", "IdentitiesOnly=yes"});
  }
  if (ssh.strict_host_key_checking) {
    a.insert(a.end(), {"-o", "StrictHostKeyChecking=yes"});
    if (!host_.known_hosts.empty()) {
      a.insert(a.end(), {"-o", "UserKnownHostsFile=" + host_.known_hosts, "-o",
                         "GlobalKnownHostsFile=/dev/null"});
    }
  } else {
    a.insert(a.end(), {"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"});
  }
  // An Ansible inventory's safe ssh options (docs/fleets.md) come after ringfence's own: ssh
  // takes the first value of each option, so they cannot override those.
  for (const auto& option : host_.ssh_options) a.insert(a.end(), {"-o", option});
  if (ssh.multiplex) {
    a.insert(a.end(), {"-o", "ControlPath=" + fleet_.control_dir() + "/%C", "-o",
                       std::string("ControlMaster=") + (master ? "yes" : "auto"), "-o",
                       "ControlPersist=" + std::to_string(kControlPersistSeconds)});
  }
  return a;
}

Status SshExecutor::TransportError(const SshCommandResult& r, const std::string& what,
                                   Duration timeout) const {
  const std::string who = "host " + host_.Describe();
  const std::string kh =
      host_.known_hosts.empty() ? "ssh's default known_hosts" : host_.known_hosts;
  if (r.timed_out) {
    return Status::Timeout(who + ": no answer to " + what + " within " + FormatDuration(timeout));
  }
  if (r.err.find("REMOTE HOST IDENTIFICATION HAS CHANGED") != std::string::npos ||
      r.err.find("has changed and you have requested strict checking") != std::string::npos) {
    return Status::Error(StatusCode::kPermission,
                         who + ": refused: its host key does not match the known_hosts file " + kh +
                             " (a man-in-the-middle, or the host was reinstalled: check the "
                             "key, then update " +
                             kh + ")");
  }
  if (r.err.find("host key is known for") != std::string::npos ||
      r.err.find("Host key verification failed") != std::string::npos) {
    return Status::Error(StatusCode::kPermission,
                         who + ": refused: no host key for it in the known_hosts file " + kh +
                             " (add it after checking its fingerprint)");
  }
  if (r.err.find("Permission denied") != std::string::npos) {
    return Status::Error(StatusCode::kPermission,
                         who + ": refused: authentication failed (" + LastLine(r.err) + ")");
  }
  if (r.exit_code == 127) {
    return Status::NotFound(who + ": ringfence not found at " + binary_ +
                            " on the host; install ringfence " + RINGFENCE_VERSION +
                            " there or pass --push-binary PATH");
  }
  if (r.exit_code == 255) {
    return Status::Unavailable(
        who + ": unreachable: " + (LastLine(r.err).empty() ? "ssh failed" : LastLine(r.err)));
  }
  return Status::Runtime(who + ": " + what + " exited " + std::to_string(r.exit_code) +
                         (LastLine(r.err).empty() ? "" : ": " + LastLine(r.err)));
}

std::string SshExecutor::RemoteCommand(const std::string& action) const {
  std::string remote =
      ShellQuote(binary_) + " host " + action + " --state-dir " + ShellQuote(host_.state_dir);
  if (!fleet_.options().run_id.empty()) remote += " --run " + ShellQuote(fleet_.options().run_id);
  if (action == "begin" || action == "session")
    remote += " --grace " + std::to_string(fleet_.options().grace.count()) + "ms";
  return remote;
}

Result<nlohmann::json> SshExecutor::CallOneShot(const std::string& action,
                                                const nlohmann::json& request, Duration limit) {
  std::vector<std::string> argv = SshArgs(false);
  argv.insert(argv.end(), {host_.address, "--", RemoteCommand(action)});
  auto run = fleet_.transport().Run(argv, request.dump(), limit);
  const std::string what = "`ringfence host " + action + "`";
  if (!run.ok())
    return Status::Unavailable("host " + host_.Describe() + ": " + run.status().message());
  if (run->timed_out || run->exit_code != 0) return TransportError(*run, what, limit);
  auto parsed = ParseUntrustedJson(LastLine(run->out));
  nlohmann::json reply = parsed.ok() ? std::move(*parsed) : nlohmann::json();
  if (!reply.is_object()) {
    return Status::Runtime("host " + host_.Describe() + ": " + what +
                           " gave no JSON reply: " + LastLine(run->out) + LastLine(run->err));
  }
  return reply;
}

Result<nlohmann::json> SshExecutor::Call(const std::string& action, const nlohmann::json& request,
                                         std::optional<std::chrono::milliseconds> timeout) {
  const Duration limit = timeout.value_or(fleet_.inventory().ssh.command_timeout);
  std::shared_ptr<HostSession> session;
  {
    std::lock_guard<std::mutex> lock(session_mu_);
    // A session that ended between calls (its connection dropped while idle) is replaced by
    // one command per action: the host is judged by the call, as without sessions.
    if (session_ && session_->closed()) {
      spdlog::warn("host {}: its host session ended; host-side actions go one ssh command each",
                   host_.name);
      session_.reset();
    }
    session = session_;
  }
  Result<nlohmann::json> reply = Status::Runtime("unreached");
  bool sent = false;
  if (session) reply = session->Call(action, request, limit, &sent);
  if (session && !reply.ok()) {
    // The session is dropped (a late reply must not be taken for another request's).
    {
      std::lock_guard<std::mutex> lock(session_mu_);
      if (session_ == session) session_.reset();
    }
    session->Close(std::chrono::milliseconds(0));
    if (!sent) {
      // It ended before the request left: the host never saw it, so it goes as a command.
      spdlog::warn(
          "host {}: its host session ended ({}); host-side actions go one ssh command "
          "each",
          host_.name, reply.status().message());
      session.reset();
    } else if (reply.status().code() == StatusCode::kTimeout) {
      // Fails as a one-shot command that timed out or lost its connection does.
      SshCommandResult timed_out;
      timed_out.timed_out = true;
      return TransportError(timed_out, "`ringfence host " + action + "`", limit);
    } else {
      return Status::Unavailable("host " + host_.Describe() +
                                 ": unreachable: " + reply.status().message());
    }
  }
  if (!session) {
    reply = CallOneShot(action, request, limit);
    if (!reply.ok()) return reply.status();
  }
  Status st = StatusOfReply(*reply);
  if (!st.ok()) return Status::Error(st.code(), "host " + host_.name + ": " + st.message());
  return reply;
}

Result<nlohmann::json> SshExecutor::StartSession() {
  std::vector<std::string> argv = SshArgs(false);
  argv.insert(argv.end(), {host_.address, "--", RemoteCommand("session")});
  auto opened = HostSession::Open(
      [&](const LineHandlers& handlers) { return fleet_.transport().Open(argv, handlers); });
  if (!opened.ok()) return opened.status();
  std::shared_ptr<HostSession> session = std::move(*opened);
  auto version =
      session->Call("version", nlohmann::json::object(), fleet_.inventory().ssh.command_timeout);
  if (version.ok() && !StatusOfReply(*version).ok()) version = StatusOfReply(*version);
  if (!version.ok()) {
    session->Close(std::chrono::milliseconds(0));
    return version.status();
  }
  std::lock_guard<std::mutex> lock(session_mu_);
  session_ = std::move(session);
  session_used_ = true;
  return version;
}

bool SshExecutor::in_session() const {
  std::lock_guard<std::mutex> lock(session_mu_);
  return session_ && !session_->closed();
}

Status SshExecutor::PushBinary() {
  const std::string& path = fleet_.options().push_binary;
  const std::string part = path + ".part";
  std::vector<std::string> mkdir = SshArgs(false);
  const std::string dir = std::filesystem::path(path).parent_path().string();
  mkdir.insert(mkdir.end(),
               {host_.address, "--", "mkdir -p " + ShellQuote(dir.empty() ? "." : dir)});
  auto made = fleet_.transport().Run(mkdir, "", fleet_.inventory().ssh.command_timeout);
  if (!made.ok()) return made.status();
  if (made->exit_code != 0)
    return TransportError(*made, "mkdir for --push-binary", fleet_.inventory().ssh.command_timeout);
  // scp through the same master: the ssh options go along with -o, the port with -P.
  std::vector<std::string> scp = {"scp", "-q", "-P", std::to_string(host_.port)};
  std::vector<std::string> ssh = SshArgs(false);
  for (size_t i = 1; i < ssh.size(); ++i) {
    if (ssh[i] == "-o" || ssh[i] == "-i") {
      scp.push_back(ssh[i]);
      scp.push_back(ssh[++i]);
    } else if (ssh[i] == "-p" || ssh[i] == "-l") {
      ++i;
    }
  }
  scp.insert(scp.end(),
             {fleet_.options().local_binary, host_.user + "@" + host_.address + ":" + part});
  auto copied = fleet_.transport().Run(
      scp, "",
      std::max<Duration>(fleet_.inventory().ssh.command_timeout, std::chrono::seconds(60)));
  if (!copied.ok()) return copied.status();
  if (copied->exit_code != 0)
    return TransportError(
        *copied, "scp of --push-binary",
        std::max<Duration>(fleet_.inventory().ssh.command_timeout, std::chrono::seconds(60)));
  std::vector<std::string> install = SshArgs(false);
  install.insert(install.end(), {host_.address, "--",
                                 "chmod 755 " + ShellQuote(part) + " && mv -f " + ShellQuote(part) +
                                     " " + ShellQuote(path)});
  auto moved = fleet_.transport().Run(install, "", fleet_.inventory().ssh.command_timeout);
  if (!moved.ok()) return moved.status();
  if (moved->exit_code != 0)
    return TransportError(*moved, "install of --push-binary",
                          fleet_.inventory().ssh.command_timeout);
  binary_ = path;
  return Status::Ok();
}

Status SshExecutor::Connect() {
  std::lock_guard<std::mutex> lock(mu_);
  if (connected_) return Status::Ok();
  if (!fleet_.inventory().ssh.strict_host_key_checking) {
    spdlog::warn(
        "host {}: host key checking is OFF (the inventory's ssh.strict_host_key_checking "
        "is false): a man-in-the-middle would not be noticed",
        host_.Describe());
  }
  auto fail = [&](Status st) {
    error_ = st.message();
    return st;
  };
  if (fleet_.inventory().ssh.multiplex && !master_open_) {
    std::vector<std::string> argv = SshArgs(true);
    argv.insert(argv.end(), {"-N", "-f", host_.address});
    auto run = fleet_.transport().Run(
        argv, "", fleet_.inventory().ssh.connect_timeout + fleet_.inventory().ssh.command_timeout);
    if (!run.ok()) return fail(run.status());
    if (run->timed_out || run->exit_code != 0) {
      return fail(TransportError(
          *run, "the ssh master",
          fleet_.inventory().ssh.connect_timeout + fleet_.inventory().ssh.command_timeout));
    }
    master_open_ = true;
  }
  if (!fleet_.options().push_binary.empty()) {
    if (Status pushed = PushBinary(); !pushed.ok()) return fail(pushed);
  }
  // The host session answers `version` itself; when it cannot start (e.g. an older ringfence
  // on the host), one-shot commands do, and name what is wrong.
  Result<nlohmann::json> version = Status::Unavailable("no host session");
  if (fleet_.options().host_sessions) {
    version = StartSession();
    if (!version.ok()) fleet_.SessionUnavailable(*this, version.status());
  }
  if (!version.ok()) version = Call("version", nlohmann::json::object());
  if (!version.ok()) return fail(version.status());
  auto their_version = StringMember(*version, "version", "?");
  auto protocol = IntegerMember(*version, "protocol", INT64_MIN, INT64_MAX, 0);
  if (!their_version.ok() || !protocol.ok()) {
    return fail(Status::Runtime(
        "host " + host_.Describe() + ": malformed version reply: " +
        (their_version.ok() ? protocol.status() : their_version.status()).message()));
  }
  const std::string& theirs = *their_version;
  if (theirs != RINGFENCE_VERSION || *protocol != kHostProtocolVersion) {
    return fail(Status::Runtime("host " + host_.Describe() + ": ringfence " + theirs + " at " +
                                binary_ + ", the runner is " + RINGFENCE_VERSION +
                                "; install the same version or pass --push-binary PATH"));
  }
  connected_ = true;
  error_.clear();
  return Status::Ok();
}

Status SshExecutor::Begin() {
  if (begun_) return Status::Ok();
  if (Status st = Connect(); !st.ok()) return st;
  std::lock_guard<std::mutex> lock(mu_);
  if (begun_) return Status::Ok();
  char hostname[256] = {};
  ::gethostname(hostname, sizeof hostname - 1);
  nlohmann::json request = {
      {"title", fleet_.options().title}, {"runner", std::string(hostname)}, {"host", host_.name}};
  if (!fleet_.options().secrets.empty()) request["secrets"] = fleet_.options().secrets.ToJson();
  auto reply = Call("begin", request);
  if (!reply.ok()) return reply.status();
  begun_ = true;
  fleet_.HostBegun(*this);
  return Status::Ok();
}

Status SshExecutor::Heartbeat() {
  // Held for the whole call: Close waits for a heartbeat in flight, and none starts after it
  // (a one-shot heartbeat then would open a new master).
  std::lock_guard<std::mutex> beat(beat_mu_);
  if (closing_) return Status::Ok();
  // Half the grace (at least 1 s, at most the command timeout): a heartbeat that takes longer
  // counts the host as lost well before its own watchdog gives up on us.
  auto reply = Call(
      "heartbeat", nlohmann::json::object(),
      std::min<Duration>(fleet_.inventory().ssh.command_timeout,
                         std::max<Duration>(fleet_.options().grace / 2, std::chrono::seconds(1))));
  return reply.ok() ? Status::Ok() : reply.status();
}

Status SshExecutor::End(const std::string& status) {
  if (!begun_ || lost_) return Status::Ok();
  auto reply = Call("end", {{"status", status}});
  return reply.ok() ? Status::Ok() : reply.status();
}

void SshExecutor::Close() {
  {
    std::lock_guard<std::mutex> beat(beat_mu_);
    closing_ = true;
  }
  std::shared_ptr<HostSession> session;
  {
    std::lock_guard<std::mutex> lock(session_mu_);
    session.swap(session_);
  }
  // EOF: the host side exits; it never reverts on EOF (its watchdog judges by heartbeats).
  if (session) session->Close(std::chrono::seconds(2));
  std::lock_guard<std::mutex> lock(mu_);
  if (!master_open_) return;
  std::vector<std::string> argv = SshArgs(false);
  argv.insert(argv.end(), {"-O", "exit", host_.address});
  auto run = fleet_.transport().Run(argv, "", std::chrono::seconds(5));
  (void)run;
  master_open_ = false;
}

void SshExecutor::MarkLost(const Status& why) {
  std::lock_guard<std::mutex> lock(mu_);
  lost_ = true;
  error_ = why.message();
}

nlohmann::json SshExecutor::ToJson() const {
  std::lock_guard<std::mutex> lock(mu_);
  nlohmann::json j = {{"address", host_.address},
                      {"port", host_.port},
                      {"user", host_.user},
                      {"reached", connected_.load()},
                      {"session", session_used_.load()},
                      {"armed", begun_.load()},
                      {"lost", lost_.load()}};
  if (!error_.empty()) j["error"] = error_;
  return j;
}

Result<std::vector<ProcessInfo>> SshExecutor::Match(const ProcessSelector& selector) {
  auto reply = Call("match", {{"selector", SelectorToWire(selector)}});
  if (!reply.ok()) return reply.status();
  auto processes = ArrayMember(*reply, "processes");
  if (!processes.ok()) {
    return Status::Runtime("host " + host_.name +
                           ": malformed match reply: " + processes.status().message());
  }
  std::vector<ProcessInfo> out;
  for (const auto& p : *processes) {
    auto info = ProcessInfoFromJson(p);
    if (!info.ok()) {
      return Status::Runtime("host " + host_.name +
                             ": malformed match reply: " + info.status().message());
    }
    out.push_back(std::move(*info));
  }
  return out;
}

nlohmann::json SshExecutor::StepRequest(const Fault& fault) const {
  const SshFleet::Registered* reg = fleet_.StepOf(&fault);
  nlohmann::json r = {{"host", host_.name}};
  if (reg != nullptr) {
    r["step"] = FaultStepToJson(reg->step);
    r["selector"] = SelectorToWire(reg->selector);
  }
  return r;
}

Status SshExecutor::Prepare(Fault& fault, const std::vector<Target>& targets) {
  if (lost_) return Status::Unavailable("host " + host_.name + " is unreachable: " + error_);
  // Armed before anything is injected: the host-side watchdog watches from here on.
  if (!fleet_.options().run_id.empty()) {
    if (Status st = Begin(); !st.ok()) return st;
  }
  nlohmann::json request = StepRequest(fault);
  request["targets"] = nlohmann::json::array();
  for (const auto& t : targets) request["targets"].push_back(TargetToWire(t));
  auto reply = Call("prepare", request);
  return reply.ok() ? Status::Ok() : reply.status();
}

Result<UndoRecord> SshExecutor::PlanUndo(Fault& fault, const Target& target) {
  if (lost_) return Status::Unavailable("host " + host_.name + " is unreachable: " + error_);
  nlohmann::json request = StepRequest(fault);
  request["target"] = TargetToWire(target);
  auto reply = Call("plan", request);
  if (!reply.ok()) return reply.status();
  auto undo = ObjectMember(*reply, "undo");
  Result<UndoRecord> record =
      undo.ok() ? UndoRecordFromWire(*undo) : Result<UndoRecord>(undo.status());
  if (!record.ok()) {
    return Status::Runtime("host " + host_.name +
                           ": malformed plan reply: " + record.status().message());
  }
  return record;
}

Status SshExecutor::Inject(Fault& fault, const Target& target, const UndoRecord& undo) {
  if (lost_) return Status::Unavailable("host " + host_.name + " is unreachable: " + error_);
  nlohmann::json request = StepRequest(fault);
  request["target"] = TargetToWire(target);
  request["undo"] = undo.ToJson();
  request["runner_now_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 fleet_.system().clock().Now().time_since_epoch())
                                 .count();
  if (!fleet_.options().secrets.empty()) request["secrets"] = fleet_.options().secrets.ToJson();
  auto reply = Call("inject", request);
  if (!reply.ok()) return reply.status();
  std::lock_guard<std::mutex> lock(mu_);
  observed_[&fault][target.label] = reply->value("observed", nlohmann::json::object());
  return Status::Ok();
}

nlohmann::json SshExecutor::Observe(Fault& fault) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = observed_.find(&fault);
  return it == observed_.end() ? nlohmann::json::object() : it->second;
}

Status SshExecutor::Revert(const UndoRecord& undo) {
  if (lost_) {
    return Status::Unavailable("host " + host_.name + " is unreachable (" + error_ +
                               "); its host-side watchdog reverts " + undo.target +
                               " by itself once heartbeats stop for the grace or the deadline "
                               "passes");
  }
  nlohmann::json request = {{"host", host_.name}, {"undo", undo.ToJson()}, {"by", "runner"}};
  if (!fleet_.options().secrets.empty()) request["secrets"] = fleet_.options().secrets.ToJson();
  auto reply = Call("revert", request);
  return reply.ok() ? Status::Ok() : reply.status();
}

Verification SshExecutor::Verify(const UndoRecord& undo) {
  if (lost_) return Verification::Unknown("host " + host_.name + " is unreachable: " + error_);
  nlohmann::json request = {{"host", host_.name}, {"undo", undo.ToJson()}};
  if (!fleet_.options().secrets.empty()) request["secrets"] = fleet_.options().secrets.ToJson();
  auto reply = Call("verify", request);
  if (!reply.ok()) {
    return Verification::Unknown("host " + host_.name + ": " + reply.status().message());
  }
  const auto verified = reply->find("verified");
  const auto found = reply->find("found");
  if (verified == reply->end() || !verified->is_boolean() || found == reply->end() ||
      !found->is_string()) {
    return Verification::Unknown("host " + host_.name + ": a verify reply without verified/found");
  }
  Verification v{verified->get<bool>(), "on " + host_.name + ": " + found->get<std::string>(), ""};
  const auto by = reply->find("reverted_by");
  if (v.verified && by != reply->end() && by->is_string() && *by == kHostWatchdog) {
    v.reverted_by = kHostWatchdog;
  }
  return v;
}

// ---- SshFleet --------------------------------------------------------------------------------

SshFleet::SshFleet(Env& system, Inventory inventory, FleetOptions options,
                   std::unique_ptr<SshTransport> transport)
    : system_(system),
      inventory_(std::move(inventory)),
      options_(std::move(options)),
      transport_(transport ? std::move(transport) : MakeSshTransport(system)) {
  // The ControlMaster sockets: under `control_dir` (e.g. the state dir, so that a runner killed
  // with SIGKILL leaves nothing outside it), else under /tmp. Socket paths are short: the
  // directory, 40 hex digits and the 17 characters ssh appends while it creates one must fit in
  // a sockaddr_un (108 bytes).
  std::string parent = options_.control_dir;
  if (parent.empty() || parent.size() > 40) parent = "/tmp";
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  std::string tmpl = parent + (parent == "/tmp" ? "/ringfence-ssh-XXXXXX" : "/ssh-XXXXXX");
  if (::mkdtemp(tmpl.data()) != nullptr) {
    control_dir_ = tmpl;
    own_control_dir_ = true;
  } else {
    control_dir_ = "/tmp";
  }
  for (const auto& h : inventory_.hosts) {
    hosts_[h.name] = std::make_unique<SshExecutor>(*this, h);
  }
}

SshFleet::~SshFleet() {
  beat_stop_.RequestStop("fleet gone");
  for (auto& t : beaters_) {
    if (t.joinable()) t.join();
  }
  std::vector<SshExecutor*> all;
  for (auto& [name, h] : hosts_) all.push_back(h.get());
  ParallelFor(all.size(), options_.max_concurrency, [&](size_t i) { all[i]->Close(); });
  if (own_control_dir_) {
    std::error_code ec;
    std::filesystem::remove_all(control_dir_, ec);
  }
}

SshExecutor* SshFleet::Find(const std::string& host) {
  auto it = hosts_.find(host);
  return it == hosts_.end() ? nullptr : it->second.get();
}

Executor* SshFleet::ExecutorFor(const std::string& host) { return Find(host); }

void SshFleet::RegisterFault(const Fault* fault, const FaultStep& step, const TargetSpec& spec) {
  std::lock_guard<std::mutex> lock(mu_);
  faults_[fault] = Registered{step, spec.process};
}

const SshFleet::Registered* SshFleet::StepOf(const Fault* fault) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = faults_.find(fault);
  return it == faults_.end() ? nullptr : &it->second;
}

void SshFleet::OnHostLost(std::function<void(const std::string&, const Status&)> on_lost) {
  std::lock_guard<std::mutex> lock(mu_);
  on_lost_ = std::move(on_lost);
}

std::map<std::string, Status> SshFleet::Connect(const std::vector<std::string>& names) {
  std::vector<SshExecutor*> hosts;
  for (const auto& n : names) {
    if (SshExecutor* h = Find(n)) hosts.push_back(h);
  }
  std::vector<Status> results(hosts.size());
  ParallelFor(hosts.size(), options_.max_concurrency,
              [&](size_t i) { results[i] = hosts[i]->Connect(); });
  std::map<std::string, Status> out;
  for (size_t i = 0; i < hosts.size(); ++i) out[hosts[i]->host()] = results[i];
  return out;
}

Result<std::vector<Target>> SshFleet::ResolveTargets(const TargetSpec& spec, std::mt19937_64& rng) {
  auto selected = SelectHosts(spec, inventory_, rng);
  if (!selected.ok()) return selected.status();
  std::vector<std::string> names;
  for (const auto* h : *selected) names.push_back(h->name);
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& n : names) {
      if (std::find(selected_.begin(), selected_.end(), n) == selected_.end()) {
        selected_.push_back(n);
      }
    }
  }
  auto connected = Connect(names);
  spdlog::debug("fleet: {} hosts connected", names.size());
  // Processes on each host, matched there, in parallel.
  std::vector<Result<std::vector<ProcessInfo>>> matches(
      names.size(), Result<std::vector<ProcessInfo>>(std::vector<ProcessInfo>{}));
  if (spec.has_process) {
    ParallelFor(names.size(), options_.max_concurrency, [&](size_t i) {
      if (connected[names[i]].ok()) matches[i] = Find(names[i])->Match(spec.process);
    });
  }
  spdlog::debug("fleet: {} hosts matched", names.size());
  std::vector<Target> targets;
  for (size_t i = 0; i < names.size(); ++i) {
    Status st = connected[names[i]];
    const bool connect_failed = !st.ok();
    if (st.ok() && !matches[i].ok()) st = matches[i].status();
    if (!st.ok()) {
      const bool unreachable =
          st.code() == StatusCode::kUnavailable || st.code() == StatusCode::kTimeout;
      // A host that answers but cannot be used (host key, authentication, binary, version) is
      // a runtime error, never the input's fault and never skipped.
      if (connect_failed && !unreachable) return Status::Runtime(st.message());
      if (unreachable && options_.skip_unreachable) {
        spdlog::warn("{}; skipped (on_unreachable: skip), counted as unknown", st.message());
        std::lock_guard<std::mutex> lock(mu_);
        skipped_[names[i]] = st.message();
        continue;
      }
      if (unreachable) {
        return Status::Unavailable(st.message() + "; the run is aborted (on_unreachable: abort)");
      }
      if (st.code() == StatusCode::kInvalidInput) {
        return Status::InvalidInput(spec.pointer + ": on host " + names[i] + ": " + st.message());
      }
      return st;
    }
    if (!spec.has_process) {
      Target t;
      t.host = names[i];
      t.label = "host " + names[i];
      targets.push_back(t);
      continue;
    }
    TargetSpec per_host = spec;
    per_host.pointer = spec.pointer + " on host " + names[i];
    auto chosen = SelectTargets(per_host, *matches[i], rng);
    if (!chosen.ok()) {
      return Status::Error(chosen.status().code() == StatusCode::kNotFound
                               ? StatusCode::kInvalidInput
                               : chosen.status().code(),
                           chosen.status().message());
    }
    for (Target t : *chosen) {
      t.host = names[i];
      t.label = names[i] + ": " + t.label;
      targets.push_back(std::move(t));
    }
  }
  return targets;
}

void SshFleet::HostBegun(SshExecutor& host) {
  std::lock_guard<std::mutex> lock(mu_);
  if (finished_) return;
  beaters_.emplace_back([this, &host] { Beat(host); });
}

// One thread per armed host: a host that does not answer must never delay the heartbeats of
// the others (their watchdogs would revert them).
void SshFleet::Beat(SshExecutor& host) {
  const auto period = std::max(std::chrono::milliseconds(50), options_.grace / 4);
  while (beat_stop_.WaitUntil(std::chrono::steady_clock::now() + period)) {
    if (host.lost() || host.ending()) return;
    Status st = host.Heartbeat();
    if (!st.ok() && !beat_stop_.stop_requested() && !host.ending()) {
      Lost(host, st);
      return;
    }
  }
}

void SshFleet::Lost(SshExecutor& host, const Status& why) {
  host.MarkLost(why);
  spdlog::error("host {} lost: {}", host.host(), why.message());
  std::function<void(const std::string&, const Status&)> on_lost;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (options_.skip_unreachable) {
      skipped_[host.host()] = why.message();
      return;
    }
    on_lost = on_lost_;
  }
  if (on_lost) on_lost(host.host(), why);
}

void SshFleet::SessionUnavailable(const SshExecutor& host, const Status& why) {
  bool first = false;
  std::call_once(session_fallback_logged_, [&] { first = true; });
  if (first) {
    spdlog::warn(
        "host {}: no host session ({}); its host-side actions go one ssh command each (logged "
        "for the first such host only)",
        host.host(), why.message());
  } else {
    spdlog::debug("host {}: no host session ({})", host.host(), why.message());
  }
}

void SshFleet::Finish(const std::string& status) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (finished_) return;
    finished_ = true;
  }
  // Each host's heartbeats go on until its own `end`: at a low max_concurrency the last hosts
  // wait their turn for longer than the grace, and their watchdogs must not judge them silent.
  std::vector<SshExecutor*> all;
  for (auto& [name, h] : hosts_) all.push_back(h.get());
  ParallelFor(all.size(), options_.max_concurrency, [&](size_t i) {
    all[i]->MarkEnding();
    Status st = all[i]->End(status);
    if (!st.ok()) spdlog::warn("{}", st.message());
    all[i]->Close();
  });
  beat_stop_.RequestStop("finished");
  std::vector<std::thread> beaters;
  {
    std::lock_guard<std::mutex> lock(mu_);
    beaters.swap(beaters_);
  }
  for (auto& t : beaters) {
    if (t.joinable()) t.join();
  }
}

Duration SshFleet::FanoutAllowance() const {
  const size_t hosts = inventory_.hosts.size();
  const size_t conc = static_cast<size_t>(std::max(1, options_.max_concurrency));
  return inventory_.ssh.command_timeout * static_cast<int64_t>((hosts + conc - 1) / conc);
}

std::vector<std::pair<std::string, int>> SshFleet::ControlEndpoints() const {
  std::vector<std::pair<std::string, int>> out;
  for (const auto& [name, h] : hosts_) {
    out.emplace_back(h->inventory_host().address, h->inventory_host().port);
  }
  return out;
}

nlohmann::json SshFleet::ToJson() const {
  nlohmann::json hosts = nlohmann::json::object();
  size_t unknown = 0;
  std::vector<std::string> selected;
  std::map<std::string, std::string> skipped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    selected = selected_;
    skipped = skipped_;
  }
  for (const auto& name : selected) {
    const auto& h = hosts_.at(name);
    nlohmann::json j = h->ToJson();
    const bool is_unknown = h->lost() || skipped.count(name) > 0;
    j["state"] = is_unknown ? "unknown" : (h->begun() ? "armed" : "reached");
    if (skipped.count(name)) j["skipped"] = skipped[name];
    unknown += is_unknown;
    hosts[name] = j;
  }
  return {{"inventory", inventory_.source},
          {"hosts", hosts},
          {"blast_radius", {{"selected", selected.size()}, {"unknown", unknown}}},
          {"on_unreachable", options_.skip_unreachable ? "skip" : "abort"},
          {"max_concurrency", options_.max_concurrency}};
}

}  // namespace ringfence
