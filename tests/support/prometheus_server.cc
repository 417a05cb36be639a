#include "tests/support/prometheus_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/sys/http_client.h"

namespace ringfence::testing {

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

bool Answers200(const std::string& url) {
  Result<HttpResponse> r = HttpGet(url, milliseconds(500));
  return r.ok() && r->status == 200;
}

}  // namespace

// Bound to port 0, read back, closed.
int FreeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

LoopbackServer::~LoopbackServer() {
  Stop();
  if (!dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

void LoopbackServer::Stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  bool reaped = false;
  for (int i = 0; i < 500 && !reaped; ++i) {  // at most 5 s
    reaped = ::waitpid(pid_, nullptr, WNOHANG) == pid_;
    if (!reaped) std::this_thread::sleep_for(milliseconds(10));
  }
  if (!reaped) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  pid_ = -1;
}

std::string LoopbackServer::Log() const {
  std::ifstream in(dir_ + "/server.log");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

Status LoopbackServer::Launch(
    const std::string& name,
    const std::function<std::vector<std::string>(const std::string&, int)>& argv_for) {
  char tmpl[] = "/tmp/ringfence-server-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return Status::FromErrno(errno, "mkdtemp");
  dir_ = tmpl;
  port_ = FreeLoopbackPort();
  if (port_ == 0) return Status::Unavailable("no free loopback port");
  const std::vector<std::string> argv = argv_for(dir_, port_);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const std::string log = dir_ + "/server.log";
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) return Status::FromErrno(errno, "fork");
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    if (::chdir(dir_.c_str()) != 0) ::_exit(126);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (Answers200(url() + "/-/ready")) return Status::Ok();
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return Status::Unavailable(name + " exited at start: " + Log());
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  return Status::Timeout(name + " not ready after 10s: " + Log());
}

Result<std::unique_ptr<PrometheusServer>> PrometheusServer::Start(
    const std::vector<std::string>& targets) {
  std::unique_ptr<PrometheusServer> server(new PrometheusServer());
  Status s = server->Launch("prometheus", [&targets](const std::string& dir, int port) {
    std::string list;
    for (const auto& t : targets) list += (list.empty() ? "'" : ", '") + t + "'";
    std::ofstream(dir + "/prometheus.yml") << "global:\n"
                                              "  scrape_interval: 1s\n"
                                              "  scrape_timeout: 900ms\n"
                                              "  evaluation_interval: 1s\n"
                                              "scrape_configs:\n"
                                              "  - job_name: demo\n"
                                              "    static_configs:\n"
                                              "      - targets: ["
                                           << list << "]\n";
    return std::vector<std::string>{"/usr/bin/prometheus",
                                    "--config.file=" + dir + "/prometheus.yml",
                                    "--storage.tsdb.path=" + dir + "/data",
                                    "--web.listen-address=127.0.0.1:" + std::to_string(port),
                                    "--storage.tsdb.retention.time=1h"};
  });
  if (!s.ok()) return s;
  return server;
}

bool PrometheusServer::WaitForData(const std::string& query, milliseconds limit) {
  std::string escaped;
  for (unsigned char c : query) {
    if (std::isalnum(c)) {
      escaped += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      escaped += buf;
    }
  }
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    Result<HttpResponse> r = HttpGet(url() + "/api/v1/query?query=" + escaped, milliseconds(500));
    if (r.ok() && r->status == 200) {
      nlohmann::json doc = nlohmann::json::parse(r->body, nullptr, false);
      if (!doc.is_discarded() && doc.contains("data") && doc["data"].contains("result") &&
          doc["data"]["result"].is_array() && !doc["data"]["result"].empty()) {
        return true;
      }
    }
    std::this_thread::sleep_for(milliseconds(200));
  }
  return false;
}

Result<std::unique_ptr<PushgatewayServer>> PushgatewayServer::Start() {
  std::unique_ptr<PushgatewayServer> server(new PushgatewayServer());
  Status s = server->Launch("prometheus-pushgateway", [](const std::string&, int port) {
    return std::vector<std::string>{"/usr/bin/prometheus-pushgateway",
                                    "--web.listen-address=127.0.0.1:" + std::to_string(port),
                                    "--persistence.file="};
  });
  if (!s.ok()) return s;
  return server;
}

std::string PushgatewayServer::Metrics() const {
  Result<HttpResponse> r = HttpGet(url() + "/metrics", seconds(2));
  return r.ok() && r->status == 200 ? r->body : "";
}

}  // namespace ringfence::testing
