#include "runner/gameday/control_server.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <list>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include <spdlog/spdlog.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "core/base/input_file.h"
#include "core/ledger/state_dir.h"
#include "runner/gameday/control_page.h"
#include "runner/metrics/runner_metrics.h"

namespace ringfence {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr size_t kMaxTokenFileBytes = 64 * 1024;
constexpr size_t kMaxBodyBytes = 16 * 1024;
constexpr int kMaxConnections = 32;

bool TokenChars(const std::string& s) {
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return !s.empty();
}

// Compares without stopping at the first difference.
bool SameSecret(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= a[i] ^ b[i % std::max<size_t>(b.size(), 1)];
  return diff == 0;
}

}  // namespace

Result<std::map<std::string, std::string>> ReadControlTokens(const std::string& path) {
  const std::string what = "--control-token-file";
  auto fd = OpenOwnerOnlyFile(what, path);
  if (!fd.ok()) return Status::InvalidInput(fd.status().message());
  struct stat st;
  Status checked = ::fstat(*fd, &st) == 0 ? CheckOwnerOnly(what, path, st, false, true)
                                          : Status::FromErrno(errno, what + " " + path);
  if (!checked.ok()) {
    ::close(*fd);
    return Status::InvalidInput(checked.message());
  }
  auto text = ReadInputStream(*fd, kMaxTokenFileBytes, "token file");
  ::close(*fd);
  if (!text.ok()) return Status::InvalidInput(what + " " + path + ": " + text.status().message());
  std::map<std::string, std::string> tokens;
  std::map<std::string, int> names;
  std::istringstream in(*text);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    const std::string where = path + ":" + std::to_string(number) + ": ";
    std::istringstream words(line);
    std::string name, token, extra;
    words >> name;
    if (name.empty() || name[0] == '#') continue;
    words >> token >> extra;
    // The token itself is never repeated in a message.
    if (token.empty() || !extra.empty()) {
      return Status::InvalidInput(where + "expected `name token`");
    }
    if (!TokenChars(name) || !TokenChars(token)) {
      return Status::InvalidInput(where + "names and tokens are made of A-Z a-z 0-9 . _ -");
    }
    if (token.size() < 16) {
      return Status::InvalidInput(where + "the token of " + name +
                                  " is shorter than 16 characters");
    }
    if (!names.emplace(name, number).second) {
      return Status::InvalidInput(where + "the name " + name + " is used on line " +
                                  std::to_string(names[name]) + " too");
    }
    if (!tokens.emplace(token, name).second) {
      return Status::InvalidInput(where + "the token of " + name + " is also " + tokens[token] +
                                  "'s");
    }
  }
  if (tokens.empty()) return Status::InvalidInput(what + " " + path + ": no tokens");
  return tokens;
}

class ControlServer::Impl {
 public:
  Impl(GameDay& game_day, std::map<std::string, std::string> tokens, bool has_tokens)
      : game_day_(game_day), tokens_(std::move(tokens)), has_tokens_(has_tokens) {}

  Status Bind(const std::string& listen) {
    const size_t colon = listen.rfind(':');
    std::string host = listen.substr(0, colon);
    if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(host, ec);
    if (ec) {
      return Status::InvalidInput("--control-listen: \"" + listen +
                                  "\": an IP address and port such as 127.0.0.1:8480");
    }
    const auto port = static_cast<unsigned short>(std::stoi(listen.substr(colon + 1)));
    try {
      tcp::endpoint endpoint(address, port);
      acceptor_.open(endpoint.protocol());
      acceptor_.set_option(asio::socket_base::reuse_address(true));
      acceptor_.bind(endpoint);
      acceptor_.listen(16);
      port_ = acceptor_.local_endpoint().port();
    } catch (const std::exception& e) {
      return Status::Unavailable("--control-listen: cannot listen on " + listen + ": " + e.what());
    }
    thread_ = std::thread([this] { AcceptLoop(); });
    return Status::Ok();
  }

  ~Impl() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    {
      std::lock_guard<std::mutex> lock(conns_mu_);
      for (auto& c : conns_) {
        if (c.fd >= 0) ::shutdown(c.fd, SHUT_RDWR);
      }
    }
    for (auto& c : conns_) {
      if (c.thread.joinable()) c.thread.join();
    }
    boost::system::error_code ec;
    acceptor_.close(ec);
  }

  int port() const { return port_; }

 private:
  struct Connection {
    std::thread thread;
    std::atomic<bool> done{false};
    int fd = -1;
  };

  void AcceptLoop() {
    while (!stop_) {
      struct pollfd p = {acceptor_.native_handle(), POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0) {
        Reap();
        continue;
      }
      boost::system::error_code ec;
      tcp::socket socket(io_);
      acceptor_.accept(socket, ec);
      if (ec) continue;
      Reap();
      std::lock_guard<std::mutex> lock(conns_mu_);
      if (static_cast<int>(conns_.size()) >= kMaxConnections) {
        static const char kBusy[] =
            "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        asio::write(socket, asio::buffer(kBusy, sizeof kBusy - 1), ec);
        continue;
      }
      conns_.emplace_back();
      Connection& c = conns_.back();
      c.fd = socket.native_handle();
      c.thread = std::thread([this, &c, s = std::move(socket)]() mutable {
        try {
          Serve(s);
        } catch (const std::exception& e) {
          spdlog::debug("control API: {}", e.what());
        }
        boost::system::error_code ignored;
        s.shutdown(tcp::socket::shutdown_both, ignored);
        {
          std::lock_guard<std::mutex> lock(conns_mu_);
          c.fd = -1;
        }
        s.close(ignored);
        c.done = true;
      });
    }
  }

  void Reap() {
    std::lock_guard<std::mutex> lock(conns_mu_);
    for (auto it = conns_.begin(); it != conns_.end();) {
      if (it->done) {
        it->thread.join();
        it = conns_.erase(it);
      } else {
        ++it;
      }
    }
  }

  template <class Body>
  static void Send(tcp::socket& s, http::status status, const std::string& type, Body body) {
    http::response<http::string_body> res{status, 11};
    res.set(http::field::content_type, type);
    res.set(http::field::cache_control, "no-store");
    res.set(http::field::connection, "close");
    res.body() = std::move(body);
    res.prepare_payload();
    boost::system::error_code ec;
    http::write(s, res, ec);
  }

  static void SendJson(tcp::socket& s, http::status status, const nlohmann::json& j) {
    Send(s, status, "application/json",
         j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  }

  void Serve(tcp::socket& s) {
    struct timeval tv = {10, 0};
    ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(s.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    beast::flat_buffer buffer(8192);
    http::request_parser<http::string_body> parser;
    parser.header_limit(8192);
    parser.body_limit(kMaxBodyBytes);
    boost::system::error_code ec;
    http::read(s, buffer, parser, ec);
    if (ec) {
      if (ec != http::error::end_of_stream) {
        SendJson(s, http::status::bad_request, {{"error", "bad request: " + ec.message()}});
      }
      return;
    }
    const auto& req = parser.get();
    const auto peer = s.remote_endpoint(ec).address();
    const bool loopback =
        !ec && (peer.is_loopback() ||
                (peer.is_v6() && peer.to_v6().is_v4_mapped() &&
                 asio::ip::make_address_v4(asio::ip::v4_mapped, peer.to_v6()).is_loopback()));
    const std::string from = ec ? "unknown" : peer.to_string();
    std::string target(req.target());
    if (const size_t q = target.find('?'); q != std::string::npos) target.resize(q);
    const bool get = req.method() == http::verb::get || req.method() == http::verb::head;
    if (!has_tokens_ && !loopback) {
      game_day_.Refused("client " + from,
                        std::string(req.method_string()) + " " + target +
                            " from a non-loopback address without --control-token-file");
      return SendJson(
          s, http::status::forbidden,
          {{"error", "only loopback clients may connect without --control-token-file"}});
    }
    if (get) return ServeGet(s, target);
    if (req.method() != http::verb::post) {
      return SendJson(s, http::status::method_not_allowed, {{"error", "GET or POST"}});
    }
    static const std::map<std::string, int> kActions = {
        {"/abort", 0}, {"/hold", 1}, {"/continue", 2}, {"/skip", 3}, {"/note", 4}};
    const auto action = kActions.find(target);
    if (action == kActions.end()) {
      return SendJson(s, http::status::not_found, {{"error", "no such action"}});
    }
    if (!has_tokens_) {
      game_day_.Refused("client " + from, "POST " + target + " without --control-token-file");
      return SendJson(s, http::status::forbidden,
                      {{"error", "actions need --control-token-file; only GETs are served"}});
    }
    const std::string who = Authorize(req[http::field::authorization]);
    if (who.empty()) {
      game_day_.Refused("client " + from, "POST " + target + ": wrong or missing token");
      http::response<http::string_body> res{http::status::unauthorized, 11};
      res.set(http::field::www_authenticate, "Bearer realm=\"ringfence\"");
      res.set(http::field::content_type, "application/json");
      res.set(http::field::connection, "close");
      res.body() = "{\"error\":\"wrong or missing bearer token\"}\n";
      res.prepare_payload();
      http::write(s, res, ec);
      return;
    }
    if (game_day_.closed()) {
      return SendJson(s, http::status::conflict, {{"error", "the run is over"}});
    }
    switch (action->second) {
      case 0:
        game_day_.Abort(who);
        break;
      case 1:
        game_day_.Hold(who);
        break;
      case 2:
        game_day_.Continue(who);
        break;
      case 3:
        game_day_.SkipNext(who);
        break;
      case 4: {
        const auto body = nlohmann::json::parse(req.body(), nullptr, false);
        const auto text = body.is_object() ? body.find("text") : body.end();
        if (!body.is_object() || text == body.end() || !text->is_string() ||
            text->get<std::string>().empty() || text->get<std::string>().size() > 2000) {
          return SendJson(
              s, http::status::bad_request,
              {{"error", "/note: a JSON object {\"text\": \"…\"} with 1 to 2000 characters"}});
        }
        game_day_.Note(who, text->get<std::string>());
        break;
      }
    }
    SendJson(s, http::status::accepted, {{"ok", true}, {"who", who}});
  }

  std::string Authorize(beast::string_view header) const {
    const std::string h(header);
    static const std::string kBearer = "Bearer ";
    if (h.size() <= kBearer.size() || h.compare(0, kBearer.size(), kBearer) != 0) return "";
    const std::string given = h.substr(kBearer.size());
    std::string who;
    for (const auto& [token, name] : tokens_) {
      if (SameSecret(given, token)) who = name;
    }
    return who;
  }

  void ServeGet(tcp::socket& s, const std::string& target) {
    if (target == "/") return Send(s, http::status::ok, "text/html; charset=utf-8", ControlPage());
    if (target == "/status") return SendJson(s, http::status::ok, game_day_.Status());
    if (target == "/events") return StreamEvents(s);
    SendJson(s, http::status::not_found, {{"error", "no such page"}});
  }

  // Server-sent events: every event from the start of the run (a late client catches up),
  // then each as it happens; `event: end` when the run is over.
  void StreamEvents(tcp::socket& s) {
    static const char kHead[] =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
        "Connection: close\r\n\r\n";
    boost::system::error_code ec;
    asio::write(s, asio::buffer(kHead, sizeof kHead - 1), ec);
    uint64_t last = 0;
    auto idle = std::chrono::steady_clock::now();
    while (!ec && !stop_) {
      const auto events = game_day_.EventsAfter(last, std::chrono::milliseconds(500));
      std::string out;
      for (const auto& e : events) {
        last = e["seq"].get<uint64_t>();
        out += "id: " + std::to_string(last) + "\nevent: " + e["kind"].get<std::string>() +
               "\ndata: " + e.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
               "\n\n";
      }
      const bool over = events.empty() && game_day_.closed();
      if (over) out += "event: end\ndata: " + game_day_.Status()["result"].dump() + "\n\n";
      if (out.empty() && std::chrono::steady_clock::now() - idle > std::chrono::seconds(15)) {
        out = ": keep-alive\n\n";
      }
      if (!out.empty()) {
        asio::write(s, asio::buffer(out), ec);
        idle = std::chrono::steady_clock::now();
      }
      if (over) return;
    }
  }

  GameDay& game_day_;
  const std::map<std::string, std::string> tokens_;  // token → name
  const bool has_tokens_;
  asio::io_context io_;
  tcp::acceptor acceptor_{io_};
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex conns_mu_;
  std::list<Connection> conns_;
};

ControlServer::ControlServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ControlServer::~ControlServer() = default;
int ControlServer::port() const { return impl_->port(); }

Result<std::unique_ptr<ControlServer>> ControlServer::Start(GameDay& game_day,
                                                            const Options& options) {
  if (!IsListenAddress(options.listen)) {
    return Status::InvalidInput("--control-listen: \"" + options.listen +
                                "\": an IP address and port such as 127.0.0.1:8480");
  }
  std::map<std::string, std::string> tokens;
  if (!options.token_file.empty()) {
    auto read = ReadControlTokens(options.token_file);
    if (!read.ok()) return read.status();
    tokens = std::move(*read);
  }
  auto impl = std::make_unique<Impl>(game_day, std::move(tokens), !options.token_file.empty());
  Status bound = impl->Bind(options.listen);
  if (!bound.ok()) return bound;
  return std::unique_ptr<ControlServer>(new ControlServer(std::move(impl)));
}

}  // namespace ringfence
