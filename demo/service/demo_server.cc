#include "demo/service/demo_server.h"

#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string_view>
#include <thread>

#include <spdlog/spdlog.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "demo/demo_content.h"
#include "demo/service/demo_metrics.h"

namespace ringfence::demo {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr auto kIdleTimeout = std::chrono::seconds(30);

std::optional<std::string> QueryParam(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    size_t eq = pair.find('=');
    if (pair.substr(0, eq) == key) {
      return std::string(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

std::optional<int> ParseNonNegative(const std::string& text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

// Spends about `ms` of CPU time on arithmetic the compiler cannot drop.
void BurnCpu(int ms) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  volatile unsigned long long sink = 0;
  unsigned long long x = 88172645463325252ull;
  while (std::chrono::steady_clock::now() < end) {
    for (int i = 0; i < 1000; ++i) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
    }
    sink = sink + x;
  }
}

struct Reply {
  http::status status = http::status::ok;
  std::string content_type = "application/json";
  std::string body;
  bool delayed = false;  // the injected latency applies
};

class DemoServer {
 public:
  explicit DemoServer(const DemoServerOptions& options)
      : options_(options), acceptor_(ctx_), signals_(ctx_, SIGTERM, SIGINT, SIGHUP) {
    for (const auto& spec : options.depends) {
      dependencies_.push_back(std::make_unique<DependencyClient>(spec));
      metrics_.AddDependency(spec.name);
    }
  }

  int Run();
  Reply Handle(const http::request<http::string_body>& request);
  int latency_ms() const { return latency_ms_.load(); }
  DemoMetrics& metrics() { return metrics_; }
  asio::io_context& ctx() { return ctx_; }

 private:
  // Loads the content file; at start a missing file is fatal (returns false). A record with too
  // many fields aborts the process.
  bool LoadContent(bool at_start);
  void AwaitSignal();
  void Accept();
  Reply Health();
  // Calls every dependency; the 503 of a failed hard one, or nullopt (fallbacks taken).
  std::optional<Reply> CallDependencies();
  // Keeps a connection to each dependency open while the service runs.
  void KeepConnections();

  DemoServerOptions options_;
  asio::io_context ctx_;
  tcp::acceptor acceptor_;
  asio::signal_set signals_;
  DemoMetrics metrics_;
  std::atomic<bool> healthy_{true};
  std::atomic<int> latency_ms_{0};
  std::atomic<size_t> records_{0};
  std::vector<std::unique_ptr<DependencyClient>> dependencies_;
  std::atomic<bool> stopping_{false};
};

// One keep-alive connection: read a request, answer it (after the injected latency), repeat.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, DemoServer& server)
      : stream_(std::move(socket)), delay_(stream_.get_executor()), server_(server) {}

  void Start() { Read(); }

 private:
  void Read() {
    request_ = {};
    stream_.expires_after(kIdleTimeout);
    http::async_read(
        stream_, buffer_, request_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec) return Close();
    started_ = std::chrono::steady_clock::now();
    Reply reply = server_.Handle(request_);
    response_ = {};
    response_.version(request_.version());
    response_.result(reply.status);
    response_.set(http::field::server, "ringfence-demo-service");
    response_.set(http::field::content_type, reply.content_type);
    response_.body() = std::move(reply.body);
    response_.keep_alive(request_.keep_alive());
    response_.prepare_payload();
    if (request_.method() == http::verb::head) {  // the GET's headers, without its body
      const size_t length = response_.body().size();
      response_.body().clear();
      response_.content_length(length);
    }
    const int latency = reply.delayed ? server_.latency_ms() : 0;
    if (latency <= 0) return Write();
    delay_.expires_after(std::chrono::milliseconds(latency));
    delay_.async_wait([self = shared_from_this()](beast::error_code) { self->Write(); });
  }

  void Write() {
    std::string path(request_.target().substr(0, request_.target().find('?')));
    server_.metrics().CountRequest(
        path, response_.result_int(),
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count());
    auto self = shared_from_this();
    http::async_write(stream_, response_, [self](beast::error_code ec, size_t) {
      if (ec || !self->response_.keep_alive()) return self->Close();
      self->Read();
    });
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  asio::steady_timer delay_;
  DemoServer& server_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
  std::chrono::steady_clock::time_point started_;
};

bool DemoServer::LoadContent(bool at_start) {
  if (options_.content_file.empty()) return true;
  std::ifstream in(options_.content_file, std::ios::binary);
  if (!in) {
    std::string reason = std::strerror(errno);
    if (at_start) {
      spdlog::error("cannot read content file {}: {}", options_.content_file, reason);
      return false;
    }
    spdlog::error("cannot read content file {}: {}; keeping the previous content",
                  options_.content_file, reason);
    return true;
  }
  std::stringstream text;
  text << in.rdbuf();
  DemoContentParse parse = ParseContent(text.str(), options_.fields);
  switch (parse.problem) {
    case DemoContentParse::Problem::kTooManyFields:
      // The bug this demo exists for: a reader that trusts the record's field count.
      spdlog::critical("{}", parse.message);
      spdlog::default_logger()->flush();
      std::abort();
    case DemoContentParse::Problem::kTooFewFields:
      spdlog::error("{}", parse.message);
      metrics_.CountContentReject();
      return true;
    case DemoContentParse::Problem::kNone:
      break;
  }
  records_ = parse.content.records.size();
  metrics_.SetContentRecords(records_);
  metrics_.CountContentLoad();
  spdlog::info("content loaded from {}: {} records", options_.content_file, records_.load());
  return true;
}

void DemoServer::AwaitSignal() {
  signals_.async_wait([this](beast::error_code ec, int signo) {
    if (ec) return;
    if (signo == SIGHUP) {
      spdlog::info("SIGHUP: reloading content");
      LoadContent(false);
      AwaitSignal();
      return;
    }
    spdlog::info("{}: shutting down", signo == SIGTERM ? "SIGTERM" : "SIGINT");
    beast::error_code ignored;
    acceptor_.close(ignored);
    ctx_.stop();
  });
}

void DemoServer::Accept() {
  acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) std::make_shared<Session>(std::move(socket), *this)->Start();
    Accept();
  });
}

Reply DemoServer::Health() {
  const bool healthy = healthy_.load();
  nlohmann::ordered_json body = {{"status", healthy ? "ok" : "down"},
                                 {"records", records_.load()},
                                 {"fleet_id", options_.fleet_id},
                                 {"pid", ::getpid()}};
  return {healthy ? http::status::ok : http::status::service_unavailable, "application/json",
          body.dump() + "\n", true};
}

std::optional<Reply> DemoServer::CallDependencies() {
  for (const auto& dependency : dependencies_) {
    const DependencySpec& spec = dependency->spec();
    const std::string result = dependency->Call();
    metrics_.CountDependencyCall(spec.name, result);
    if (result == "ok") continue;
    if (spec.mode == DependencyMode::kHard) {
      return Reply{http::status::service_unavailable, "text/plain",
                   "dependency " + spec.name + ": " + result + "\n", true};
    }
    metrics_.CountFallback(spec.name);
    // A soft dependency's fallback is the slower path (the cache's: ask the database instead).
    if (spec.mode == DependencyMode::kSoft) std::this_thread::sleep_for(kSoftFallback);
  }
  return std::nullopt;
}

void DemoServer::KeepConnections() {
  while (!stopping_.load()) {
    for (const auto& dependency : dependencies_) dependency->Connect(std::chrono::seconds(10));
    for (int i = 0; i < 10 && !stopping_.load(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

Reply DemoServer::Handle(const http::request<http::string_body>& request) {
  std::string_view target = request.target();
  size_t question = target.find('?');
  std::string_view path = target.substr(0, question);
  std::string_view query = question == std::string_view::npos ? "" : target.substr(question + 1);
  const bool get = request.method() == http::verb::get || request.method() == http::verb::head;
  const bool post = request.method() == http::verb::post;
  auto json_reply = [](http::status status, const nlohmann::json& body) {
    return Reply{status, "application/json", body.dump() + "\n", false};
  };

  if (path == "/health" && get) return Health();
  if (path == "/work" && get) {
    if (auto failed = CallDependencies()) return *failed;
    BurnCpu(options_.work_ms);
    if (!healthy_) return {http::status::internal_server_error, "text/plain", "unhealthy\n", true};
    return {http::status::ok, "text/plain", "done\n", true};
  }
  if (path == "/metrics" && get) {
    return {http::status::ok, "text/plain; version=0.0.4", metrics_.Serialize(), false};
  }
  if (path == "/admin/health" && post) {
    std::optional<std::string> state = QueryParam(query, "state");
    if (!state || (*state != "up" && *state != "down")) {
      return json_reply(http::status::bad_request, {{"error", "state must be up or down"}});
    }
    healthy_ = *state == "up";
    metrics_.SetHealthy(healthy_);
    spdlog::info("health set {} by /admin/health", *state);
    return json_reply(http::status::ok, {{"healthy", healthy_.load()}});
  }
  if (path == "/admin/latency" && post) {
    std::optional<std::string> ms_text = QueryParam(query, "ms");
    std::optional<int> ms = ms_text ? ParseNonNegative(*ms_text) : std::nullopt;
    if (!ms) {
      return json_reply(http::status::bad_request,
                        {{"error", "ms must be a non-negative integer"}});
    }
    latency_ms_ = *ms;
    spdlog::info("latency set to {} ms by /admin/latency", *ms);
    return json_reply(http::status::ok, {{"latency_ms", *ms}});
  }
  if (path == "/health" || path == "/work" || path == "/metrics" || path == "/admin/health" ||
      path == "/admin/latency") {
    return json_reply(http::status::method_not_allowed, {{"error", "method not allowed"}});
  }
  return json_reply(http::status::not_found, {{"error", "not found"}});
}

int DemoServer::Run() {
  if (!LoadContent(true)) return 2;

  beast::error_code ec;
  const tcp::endpoint endpoint(asio::ip::make_address_v4("127.0.0.1"),
                               static_cast<unsigned short>(options_.port));
  acceptor_.open(endpoint.protocol(), ec);
  // SO_REUSEADDR: a restarted instance rebinds its port at once despite TIME_WAIT connections.
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    spdlog::error("cannot listen on 127.0.0.1:{}: {}", options_.port, ec.message());
    return 1;
  }
  spdlog::info("listening on 127.0.0.1:{} (fleet {}, {} records)", options_.port, options_.fleet_id,
               records_.load());

  AwaitSignal();
  Accept();
  std::thread keeper;
  if (!dependencies_.empty()) keeper = std::thread([this] { KeepConnections(); });
  std::thread second_io_thread([this] { ctx_.run(); });
  ctx_.run();
  second_io_thread.join();
  stopping_ = true;
  if (keeper.joinable()) keeper.join();
  spdlog::info("stopped");
  return 0;
}

}  // namespace

int RunDemoServer(const DemoServerOptions& options) {
  // An abort (the content crash) must not leave core files behind.
  rlimit no_core{0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);
  try {
    DemoServer server(options);
    return server.Run();
  } catch (const std::exception& e) {
    spdlog::error("demo service failed: {}", e.what());
    return 1;
  }
}

}  // namespace ringfence::demo
