#include "demo/demo_fleet.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <future>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/process/v2.hpp>

#include "core/sys/child_exec_setup.h"
#include "core/sys/http_client.h"

namespace ringfence {
namespace {

namespace asio = boost::asio;
namespace bp = boost::process::v2;

constexpr int kMaxFleetSize = 64;
constexpr std::chrono::seconds kHealthyWithin{10};
constexpr std::chrono::seconds kTermGrace{2};
constexpr std::chrono::milliseconds kHealthPollTimeout{500};
constexpr std::chrono::milliseconds kHealthPollInterval{50};

// Ports the kernel hands out for 127.0.0.1:0, all distinct (every socket stays bound until all
// are picked). The service binds them again with SO_REUSEADDR.
Result<std::vector<int>> PickFreePorts(int count) {
  std::vector<int> fds;
  std::vector<int> ports;
  Status failure;
  for (int i = 0; i < count && failure.ok(); ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      failure = Status::FromErrno(errno, "socket for a free port");
      break;
    }
    fds.push_back(fd);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      failure = Status::FromErrno(errno, "bind 127.0.0.1:0");
      break;
    }
    ports.push_back(ntohs(addr.sin_port));
  }
  for (int fd : fds) ::close(fd);
  if (!failure.ok()) return failure;
  return ports;
}

std::string NewFleetId() {
  std::random_device entropy;  // uniqueness, not replay: fleet ids are not part of a run's seed
  return fmt::format("fleet-{}-{:08x}", ::getpid(), entropy());
}

bool SendSignal(int pidfd, int signo) {
  return ::syscall(SYS_pidfd_send_signal, pidfd, signo, nullptr, 0) == 0;
}

std::string DescribeExit(const DemoInstanceExit& e) {
  if (e.signal != 0) return fmt::format("was killed by SIG{}", ::sigabbrev_np(e.signal));
  return fmt::format("exited with code {}", e.exit_code);
}

}  // namespace

class DemoFleet::Supervisor {
 public:
  explicit Supervisor(DemoFleetOptions options) : options_(std::move(options)) {
    if (options_.fleet_id.empty()) options_.fleet_id = NewFleetId();
  }
  ~Supervisor() { Stop(); }

  Status Start();
  void Stop();

  std::vector<int> ports() const {
    std::lock_guard<std::mutex> lock(mu_);
    return ports_;
  }
  const DemoFleetOptions& options() const { return options_; }
  int restarts() const { return restarts_.load(); }
  std::vector<DemoInstanceExit> exits() const {
    std::lock_guard<std::mutex> lock(mu_);
    return exits_;
  }

 private:
  // Everything below is touched only on the supervisor thread (after Start() created it).
  struct Instance {
    Instance(asio::io_context& ctx, int p, std::string content)
        : port(p), content_file(std::move(content)), restart_timer(ctx) {}
    int port;
    std::string content_file;
    std::optional<bp::basic_process<asio::io_context::executor_type>> process;
    int pidfd = -1;  // opened before the child can be reaped: signals never hit a reused pid
    pid_t pid = 0;
    bool running = false;
    asio::steady_timer restart_timer;
  };

  Status Spawn(Instance& instance);
  void OnExit(Instance& instance, int wait_status);
  void ScheduleRestart(Instance& instance);
  void BeginShutdown();
  void FinishIfAllExited();
  Status WaitHealthy();

  DemoFleetOptions options_;
  asio::io_context ctx_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  asio::steady_timer kill_timer_{ctx_};
  std::vector<std::unique_ptr<Instance>> instances_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> restarts_{0};

  mutable std::mutex mu_;  // guards ports_, exits_, started_
  std::vector<int> ports_;
  std::vector<DemoInstanceExit> exits_;
  bool started_ = false;
  std::mutex stop_mu_;  // serializes Stop()
};

Status DemoFleet::Supervisor::Spawn(Instance& instance) {
  std::vector<std::string> args = {"--port", std::to_string(instance.port), "--fleet-id",
                                   options_.fleet_id};
  if (!instance.content_file.empty()) {
    args.push_back("--content");
    args.push_back(instance.content_file);
  }
  boost::system::error_code ec;
  bp::posix::default_launcher launcher;
  auto process = launcher(ctx_.get_executor(), ec, bp::filesystem::path(options_.service_binary),
                          args, bp::process_stdio{nullptr, {}, {}}, DieWithParentInit{::getpid()});
  if (ec) {
    return Status::Runtime("start " + options_.service_binary + ": " + ec.message());
  }
  instance.pid = process.id();
  instance.pidfd = static_cast<int>(::syscall(SYS_pidfd_open, instance.pid, 0));
  instance.process.emplace(std::move(process));
  instance.running = true;
  instance.process->async_wait([this, &instance](boost::system::error_code, int) {
    OnExit(instance, instance.process->native_exit_code());
  });
  return Status::Ok();
}

void DemoFleet::Supervisor::OnExit(Instance& instance, int wait_status) {
  DemoInstanceExit exit;
  exit.port = instance.port;
  exit.pid = instance.pid;
  if (WIFEXITED(wait_status)) exit.exit_code = WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) exit.signal = WTERMSIG(wait_status);
  {
    std::lock_guard<std::mutex> lock(mu_);
    exits_.push_back(exit);
  }
  instance.running = false;
  if (instance.pidfd >= 0) ::close(instance.pidfd);
  instance.pidfd = -1;

  if (stopping_) {
    FinishIfAllExited();
    return;
  }
  spdlog::warn("demo fleet {}: instance on port {} (pid {}) {}; restarting in {}ms",
               options_.fleet_id, exit.port, exit.pid, DescribeExit(exit),
               options_.restart_delay.count());
  ScheduleRestart(instance);
}

void DemoFleet::Supervisor::ScheduleRestart(Instance& instance) {
  instance.restart_timer.expires_after(options_.restart_delay);
  instance.restart_timer.async_wait([this, &instance](boost::system::error_code ec) {
    if (ec || stopping_) return;
    Status started = Spawn(instance);
    if (!started.ok()) {
      spdlog::error("demo fleet {}: restarting the instance on port {} failed: {}",
                    options_.fleet_id, instance.port, started.message());
      ScheduleRestart(instance);
      return;
    }
    ++restarts_;
    spdlog::info("demo fleet {}: restarted the instance on port {} (pid {})", options_.fleet_id,
                 instance.port, instance.pid);
  });
}

void DemoFleet::Supervisor::BeginShutdown() {
  for (auto& instance : instances_) {
    instance->restart_timer.cancel();
    if (instance->running) SendSignal(instance->pidfd, SIGTERM);
  }
  kill_timer_.expires_after(kTermGrace);
  kill_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    for (auto& instance : instances_) {
      if (!instance->running) continue;
      spdlog::warn(
          "demo fleet {}: instance on port {} (pid {}) ignored SIGTERM for {}s; "
          "sending SIGKILL",
          options_.fleet_id, instance->port, instance->pid, kTermGrace.count());
      SendSignal(instance->pidfd, SIGKILL);
    }
  });
  FinishIfAllExited();
}

void DemoFleet::Supervisor::FinishIfAllExited() {
  for (auto& instance : instances_)
    if (instance->running) return;
  kill_timer_.cancel();
  work_.reset();
  ctx_.stop();
}

Status DemoFleet::Supervisor::WaitHealthy() {
  const auto deadline = std::chrono::steady_clock::now() + kHealthyWithin;
  for (int port : ports()) {
    const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/health";
    for (;;) {
      Result<HttpResponse> response = HttpGet(url, kHealthPollTimeout);
      if (response.ok() && response->status == 200) break;
      if (std::chrono::steady_clock::now() >= deadline) {
        return Status::Timeout(fmt::format("demo fleet: instance on port {} not healthy after {}s",
                                           port, kHealthyWithin.count()));
      }
      std::this_thread::sleep_for(kHealthPollInterval);
    }
  }
  return Status::Ok();
}

Status DemoFleet::Supervisor::Start() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (started_) return Status::InvalidInput("demo fleet already started");
    started_ = true;
  }
  if (options_.size < 1 || options_.size > kMaxFleetSize) {
    return Status::InvalidInput(
        fmt::format("demo fleet size must be 1..{}, got {}", kMaxFleetSize, options_.size));
  }
  if (!options_.content_files.empty() &&
      options_.content_files.size() != static_cast<size_t>(options_.size)) {
    return Status::InvalidInput(fmt::format("demo fleet: {} content files for {} instances",
                                            options_.content_files.size(), options_.size));
  }
  if (::access(options_.service_binary.c_str(), X_OK) != 0) {
    return Status::NotFound("demo service binary not found: " + options_.service_binary);
  }
  Result<std::vector<int>> ports = PickFreePorts(options_.size);
  if (!ports.ok()) return ports.status();
  {
    std::lock_guard<std::mutex> lock(mu_);
    ports_ = *ports;
  }
  for (size_t i = 0; i < ports->size(); ++i) {
    const std::string& content =
        options_.content_files.empty() ? options_.content_file : options_.content_files[i];
    instances_.push_back(std::make_unique<Instance>(ctx_, (*ports)[i], content));
  }

  // The supervisor thread forks every instance and lives until Stop(): PR_SET_PDEATHSIG fires
  // when the forking *thread* ends.
  work_.emplace(asio::make_work_guard(ctx_));
  thread_ = std::thread([this] {
    for (;;) {
      try {
        ctx_.run();
        return;
      } catch (const std::exception& e) {
        spdlog::error("demo fleet {}: supervisor: {}", options_.fleet_id, e.what());
      }
    }
  });

  std::promise<Status> spawned;
  asio::post(ctx_, [this, &spawned] {
    Status status;
    for (auto& instance : instances_) {
      status = Spawn(*instance);
      if (!status.ok()) break;
    }
    spawned.set_value(status);
  });
  Status status = spawned.get_future().get();
  if (status.ok()) status = WaitHealthy();
  if (!status.ok()) {
    Stop();
    return status;
  }
  spdlog::info("demo fleet {}: {} instances on 127.0.0.1 ports {}", options_.fleet_id,
               options_.size, fmt::join(*ports, ","));
  return Status::Ok();
}

void DemoFleet::Supervisor::Stop() {
  std::lock_guard<std::mutex> lock(stop_mu_);
  if (!thread_.joinable()) return;
  stopping_ = true;
  asio::post(ctx_, [this] { BeginShutdown(); });
  thread_.join();
}

DemoFleet::DemoFleet(DemoFleetOptions o)
    : supervisor_(std::make_unique<Supervisor>(std::move(o))) {}

DemoFleet::~DemoFleet() { Stop(); }

Status DemoFleet::Start() { return supervisor_->Start(); }

void DemoFleet::Stop() { supervisor_->Stop(); }

std::vector<int> DemoFleet::ports() const { return supervisor_->ports(); }

std::string DemoFleet::fleet_id() const { return supervisor_->options().fleet_id; }

int DemoFleet::restarts() const { return supervisor_->restarts(); }

std::vector<DemoInstanceExit> DemoFleet::exits() const { return supervisor_->exits(); }

std::map<std::string, std::string> DemoFleet::Vars() const {
  std::map<std::string, std::string> vars;
  const std::vector<int> ports = supervisor_->ports();
  vars["demo_fleet_id"] = supervisor_->options().fleet_id;
  vars["demo_fleet_size"] = std::to_string(supervisor_->options().size);
  vars["demo_service"] = supervisor_->options().service_binary;
  for (size_t i = 0; i < ports.size(); ++i) {
    vars["demo_port_" + std::to_string(i)] = std::to_string(ports[i]);
  }
  return vars;
}

std::string DemoFleet::DefaultServiceBinary() {
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "ringfence-demo-service";
  return (self.parent_path() / "ringfence-demo-service").string();
}

}  // namespace ringfence
