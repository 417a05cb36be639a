#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "core/observe/probe.h"
#include "core/sys/system_env.h"
#include "tests/support/fake_process_table.h"

namespace ringfence {
namespace {

using std::chrono::milliseconds;

// A listening socket on 127.0.0.1 with an ephemeral port. Nothing accepts unless a server
// does: a client's connect still completes (backlog), its request is never answered.
class Listener {
 public:
  Listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd_, 16), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~Listener() { Close(); }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int fd() const { return fd_; }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// Answers every request with one fixed response and records the request lines.
class FixedResponseServer {
 public:
  FixedResponseServer(int status, std::string body) : status_(status), body_(std::move(body)) {
    thread_ = std::thread([this] { Serve(); });
  }
  ~FixedResponseServer() {
    stopping_ = true;
    ::shutdown(listener_.fd(), SHUT_RDWR);  // wakes accept()
    thread_.join();
  }
  int port() const { return listener_.port(); }
  std::string last_request_line() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_request_line_;
  }

 private:
  void Serve() {
    while (!stopping_) {
      int client = ::accept4(listener_.fd(), nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) return;
      std::string request;
      char buf[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::read(client, buf, sizeof buf);
        if (n <= 0) break;
        request.append(buf, static_cast<size_t>(n));
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        last_request_line_ = request.substr(0, request.find("\r\n"));
      }
      std::string response = "HTTP/1.1 " + std::to_string(status_) +
                             " X\r\nContent-Length: " + std::to_string(body_.size()) +
                             "\r\nConnection: close\r\n\r\n" + body_;
      ssize_t written = ::write(client, response.data(), response.size());
      (void)written;
      ::close(client);
    }
  }

  Listener listener_;
  int status_;
  std::string body_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::string last_request_line_;
  std::thread thread_;
};

// The port of a socket that was bound and closed: nothing listens there.
int ClosedPort() {
  Listener l;
  return l.port();
}

class ProbeTest : public ::testing::Test {
 protected:
  testing::FakeProcessTable processes_;  // no process: real HTTP, sockets and commands
  SystemEnv system_{processes_};
  std::unique_ptr<ProbeRunner> runner_ = MakeProbeRunner(system_);
  Experiment experiment_;

  static ProbeSpec Http(int port, const std::string& path = "/health") {
    ProbeSpec p;
    p.name = "http-0";
    p.type = ProbeType::kHttp;
    p.url = "http://127.0.0.1:" + std::to_string(port) + path;
    return p;
  }
  static ProbeSpec Command(std::vector<std::string> argv) {
    ProbeSpec p;
    p.name = "command-0";
    p.type = ProbeType::kCommand;
    p.argv = std::move(argv);
    return p;
  }
  static ProbeSpec Tcp(int port) {
    ProbeSpec p;
    p.name = "tcp-0";
    p.type = ProbeType::kTcp;
    p.port = port;
    return p;
  }
};

TEST_F(ProbeTest, HttpStatusWithinTolerance) {
  FixedResponseServer server(200, "{\"status\":\"ok\"}");
  ProbeOutcome o = runner_->Run(Http(server.port()), experiment_);
  EXPECT_TRUE(o.met) << o.detail;
  EXPECT_EQ(o.value, 200);
  EXPECT_EQ(o.ToJson().dump(),
            R"({"detail":"","met":true,"name":"http-0","tolerance":{"exact":200},)"
            R"("type":"http","value":200})");
  EXPECT_EQ(server.last_request_line(), "GET /health HTTP/1.1");
}

TEST_F(ProbeTest, HttpStatusOutsideTolerance) {
  FixedResponseServer server(503, "down");
  ProbeOutcome o = runner_->Run(Http(server.port()), experiment_);
  EXPECT_FALSE(o.met);
  EXPECT_EQ(o.value, 503);
  EXPECT_EQ(o.detail, R"(status 503 is not within {"exact":200})");
}

TEST_F(ProbeTest, HttpBodyRegex) {
  FixedResponseServer server(200, "{\"status\":\"ok\"}");
  ProbeSpec p = Http(server.port());
  p.body_regex = "\"status\":\"ok\"";
  EXPECT_TRUE(runner_->Run(p, experiment_).met);
  p.body_regex = "degraded";
  ProbeOutcome o = runner_->Run(p, experiment_);
  EXPECT_FALSE(o.met);
  EXPECT_EQ(o.value, 200);
  EXPECT_EQ(o.detail, "body does not match /degraded/");
}

TEST_F(ProbeTest, HttpMethods) {
  FixedResponseServer server(200, "");
  ProbeSpec p = Http(server.port(), "/admin");
  p.method = "HEAD";
  EXPECT_TRUE(runner_->Run(p, experiment_).met);
  EXPECT_EQ(server.last_request_line(), "HEAD /admin HTTP/1.1");
  p.method = "POST";
  EXPECT_TRUE(runner_->Run(p, experiment_).met);
  EXPECT_EQ(server.last_request_line(), "POST /admin HTTP/1.1");
}

TEST_F(ProbeTest, HttpConnectionRefused) {
  int port = ClosedPort();
  ProbeOutcome o = runner_->Run(Http(port), experiment_);
  EXPECT_FALSE(o.met);
  EXPECT_TRUE(o.value.is_null());
  EXPECT_EQ(o.detail,
            "connect to 127.0.0.1:" + std::to_string(port) + " failed: Connection refused");
}

TEST_F(ProbeTest, HttpTimeout) {
  Listener silent;
  ProbeSpec p = Http(silent.port());
  p.timeout = milliseconds(200);
  ProbeOutcome o = runner_->Run(p, experiment_);
  EXPECT_FALSE(o.met);
  EXPECT_TRUE(o.value.is_null());
  EXPECT_EQ(o.detail, "timed out after 200ms");
}

TEST_F(ProbeTest, TcpConnects) {
  Listener listening;
  ProbeOutcome o = runner_->Run(Tcp(listening.port()), experiment_);
  EXPECT_TRUE(o.met) << o.detail;
  EXPECT_EQ(o.value, true);
  EXPECT_EQ(o.tolerance.dump(), R"({"exact":true})");
}

TEST_F(ProbeTest, TcpRefused) {
  int port = ClosedPort();
  ProbeOutcome o = runner_->Run(Tcp(port), experiment_);
  EXPECT_FALSE(o.met);
  EXPECT_EQ(o.value, false);
  EXPECT_EQ(o.detail,
            "connect to 127.0.0.1:" + std::to_string(port) + " failed: Connection refused");
}

TEST_F(ProbeTest, CommandExitCodeAndStdout) {
  ProbeSpec p = Command({"sh", "-c", "echo ready; exit 0"});
  p.stdout_regex = "^ready";
  ProbeOutcome o = runner_->Run(p, experiment_);
  EXPECT_TRUE(o.met) << o.detail;
  EXPECT_EQ(o.value, 0);

  p.stdout_regex = "^steady";
  o = runner_->Run(p, experiment_);
  EXPECT_FALSE(o.met);
  EXPECT_EQ(o.detail, "stdout does not match /^steady/");
}

TEST_F(ProbeTest, CommandFailingExitCode) {
  ProbeOutcome o = runner_->Run(Command({"sh", "-c", "exit 4"}), experiment_);
  EXPECT_FALSE(o.met);
  EXPECT_EQ(o.value, 4);
  EXPECT_EQ(o.detail, R"(exit code 4 is not within {"exact":0})");
}

TEST_F(ProbeTest, CommandTimeout) {
  ProbeSpec p = Command({"sleep", "30"});
  p.timeout = milliseconds(200);
  ProbeOutcome o = runner_->Run(p, experiment_);
  EXPECT_FALSE(o.met);
  EXPECT_TRUE(o.value.is_null());
  EXPECT_EQ(o.detail, "timed out after 200ms");
}

TEST_F(ProbeTest, CommandNotFound) {
  ProbeOutcome o = runner_->Run(Command({"ringfence-no-such-probe"}), experiment_);
  EXPECT_FALSE(o.met);
  EXPECT_TRUE(o.value.is_null());
  EXPECT_EQ(o.detail, "command not found: ringfence-no-such-probe");
}

}  // namespace
}  // namespace ringfence
