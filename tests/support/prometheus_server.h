#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/base/status.h"

namespace ringfence::testing {

// A loopback TCP port that was free a moment ago (0 when none could be found).
int FreeLoopbackPort();

// A real server program (Debian's prometheus or prometheus-pushgateway) on a free loopback port,
// with a temporary directory for its config, storage and log. The child gets
// PR_SET_PDEATHSIG(SIGKILL); Stop() (and the destructor) sends SIGTERM, then SIGKILL after 5 s,
// reaps it and removes the directory. Not thread-safe.
class LoopbackServer {
 public:
  ~LoopbackServer();
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  // Stops the server now (e.g. a metrics source going away mid-run). Idempotent.
  void Stop();
  // Its log so far (stdout and stderr), for failure messages.
  std::string Log() const;

 protected:
  LoopbackServer() = default;
  // Makes the directory, picks a port and starts argv (built by `argv_for(dir, port)`), then
  // waits (≤ 10 s) until GET /-/ready answers 200.
  Status Launch(
      const std::string& name,
      const std::function<std::vector<std::string>(const std::string& dir, int port)>& argv_for);
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// `prometheus` scraping `targets` ("127.0.0.1:PORT", job "demo") every second (timeout 900 ms),
// storage in the temporary directory, retention 1 h.
class PrometheusServer : public LoopbackServer {
 public:
  static Result<std::unique_ptr<PrometheusServer>> Start(const std::vector<std::string>& targets);
  // Polls /api/v1/query with `query` every 200 ms until it returns at least one series (the
  // first scrape lands after a few seconds); false after `limit`.
  bool WaitForData(const std::string& query,
                   std::chrono::milliseconds limit = std::chrono::seconds(15));
};

// `prometheus-pushgateway` without persistence.
class PushgatewayServer : public LoopbackServer {
 public:
  static Result<std::unique_ptr<PushgatewayServer>> Start();
  // Its /metrics page ("" when it does not answer).
  std::string Metrics() const;
};

}  // namespace ringfence::testing
