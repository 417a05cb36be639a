#include "faults/latency/latency_proxy.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <future>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio.hpp>

#include "faults/common/netns_command.h"

namespace ringfence {

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;
using std::chrono::microseconds;

// From <linux/netfilter_ipv4.h>, which cannot be included together with <netinet/in.h>.
constexpr int kSoOriginalDst = 80;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr size_t kReadChunk = 256 * 1024;
constexpr size_t kMaxHeldBytes = 8 * 1024 * 1024;
constexpr size_t kSplicePipeBytes = 1024 * 1024;
constexpr std::chrono::seconds kConnectTimeout{10};

tcp::endpoint ToEndpoint(const SocketAddress& a) {
  return tcp::endpoint(asio::ip::make_address(a.ip), a.port);
}

SocketAddress FromEndpoint(const tcp::endpoint& e) {
  return SocketAddress{e.address().to_string(), e.port(), e.address().is_v6()};
}

// Closes a socket so that the peer gets a RST rather than a FIN.
void ResetSocket(tcp::socket& s) {
  if (!s.is_open()) return;
  boost::system::error_code ec;
  s.set_option(asio::socket_base::linger(true, 0), ec);
  s.close(ec);
}

void SetNoDelay(tcp::socket& s) {
  boost::system::error_code ec;
  s.set_option(tcp::no_delay(true), ec);
}

// The live counters, one atomic per entry of RINGFENCE_LATENCY_PROXY_STATS.
struct Counters {
#define RINGFENCE_COUNTER_ATOMIC(name) std::atomic<uint64_t> name{0};
#define RINGFENCE_GAUGE_ATOMIC(name) std::atomic<int> name{0};
  RINGFENCE_LATENCY_PROXY_STATS(RINGFENCE_COUNTER_ATOMIC, RINGFENCE_GAUGE_ATOMIC)
#undef RINGFENCE_COUNTER_ATOMIC
#undef RINGFENCE_GAUGE_ATOMIC
};

struct HeldChunk {
  std::vector<char> data;
  SteadyClock::time_point due;
};

class ProxySession;

struct ProxyCore {
  explicit ProxyCore(const LatencyProxyOptions& o) : options(o), rng(o.seed) {}

  Status Bind();
  asio::awaitable<void> AcceptLoop();
  void HandleAccepted(tcp::socket client);
  void CloseAll(InFlightPolicy policy);

  LatencyProxyOptions options;
  Counters counters;
  // Sessions by id, for Stop(); touched only on the I/O thread (and after it ended).
  std::unordered_map<uint64_t, std::weak_ptr<ProxySession>> sessions;
  std::mt19937_64 rng;  // reset choices, in accept order
  uint64_t next_id = 0;
  SocketAddress bound;
  std::mutex stop_mu;
  bool stopped = false;
  std::atomic<bool> loop_ended{false};
  std::thread thread;
  // Declared last: destroyed first. Destroying the io_context destroys the coroutine frames
  // still pending, which release sessions, which update `sessions` and `counters` above.
  asio::io_context io{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::optional<tcp::acceptor> acceptor;
};

// One direction of a session: src → dst, shaped or not.
struct Direction {
  Direction(asio::io_context& io, tcp::socket& from, tcp::socket& to, DirectionShaping s,
            std::atomic<uint64_t>& byte_counter)
      : src(from),
        dst(to),
        shaping(s),
        bytes(byte_counter),
        writer_wake(io),
        reader_wake(io),
        due_timer(io) {}

  tcp::socket& src;
  tcp::socket& dst;
  DirectionShaping shaping;
  std::atomic<uint64_t>& bytes;
  std::mt19937_64 rng;
  std::deque<HeldChunk> held;
  size_t held_bytes = 0;
  bool src_done = false;
  SteadyClock::time_point last_due{};
  SteadyClock::time_point rate_next{};
  // Timers used as condition variables (expire never; cancel() wakes the waiter). Everything
  // runs on one thread, so a check followed by a wait cannot miss a wake-up.
  asio::steady_timer writer_wake;
  asio::steady_timer reader_wake;
  asio::steady_timer due_timer;  // the writer waits for a chunk's due time or the rate
};

asio::awaitable<void> WaitForWake(asio::steady_timer& t) {
  t.expires_at(SteadyClock::time_point::max());
  co_await t.async_wait(kNoThrow);
}

class ProxySession : public std::enable_shared_from_this<ProxySession> {
 public:
  ProxySession(ProxyCore& impl, uint64_t id, tcp::socket client)
      : impl_(impl),
        id_(id),
        client_(std::move(client)),
        upstream_(impl.io),
        connect_timer_(impl.io),
        to_upstream_(impl.io, client_, upstream_, impl.options.to_upstream,
                     impl.counters.bytes_to_upstream),
        to_client_(impl.io, upstream_, client_, impl.options.to_client,
                   impl.counters.bytes_to_client) {
    impl_.counters.open.fetch_add(1);
    // Each connection and direction has its own generator, so a connection's jitter does not
    // depend on how others interleave with it.
    const uint64_t seed = impl.options.seed;
    std::seed_seq up{uint32_t(seed), uint32_t(seed >> 32), uint32_t(id), uint32_t(id >> 32), 1u};
    std::seed_seq down{uint32_t(seed), uint32_t(seed >> 32), uint32_t(id), uint32_t(id >> 32), 2u};
    to_upstream_.rng.seed(up);
    to_client_.rng.seed(down);
  }

  ~ProxySession() {
    boost::system::error_code ec;
    client_.close(ec);
    upstream_.close(ec);
    impl_.sessions.erase(id_);
    impl_.counters.open.fetch_sub(1);
  }

  static void Begin(std::shared_ptr<ProxySession> self, tcp::endpoint upstream) {
    asio::co_spawn(self->impl_.io, Connect(self, upstream), asio::detached);
  }

  static void BeginBlackhole(std::shared_ptr<ProxySession> self) {
    self->blackhole_ = true;
    asio::co_spawn(self->impl_.io, Discard(self), asio::detached);
  }

  // RST to both peers; every pending operation of the session ends.
  void Abort() {
    if (aborted_) return;
    aborted_ = true;
    ResetSocket(client_);
    ResetSocket(upstream_);
    for (Direction* d : {&to_upstream_, &to_client_}) {
      d->writer_wake.cancel();
      d->reader_wake.cancel();
      d->due_timer.cancel();
    }
    connect_timer_.cancel();
  }

  // For Stop(kFinish): a blackholed connection has nothing in flight; close it with a FIN.
  void CloseBlackhole() {
    boost::system::error_code ec;
    client_.shutdown(tcp::socket::shutdown_both, ec);
    client_.close(ec);
  }

  bool blackhole() const { return blackhole_; }

 private:
  static asio::awaitable<void> Connect(std::shared_ptr<ProxySession> self, tcp::endpoint target) {
    boost::system::error_code ec;
    self->upstream_.open(target.protocol(), ec);
    if (!ec && self->impl_.options.upstream_mark != 0) {
      const uint32_t mark = self->impl_.options.upstream_mark;
      if (::setsockopt(self->upstream_.native_handle(), SOL_SOCKET, SO_MARK, &mark, sizeof mark) !=
          0) {
        ec = boost::system::error_code(errno, boost::system::system_category());
      }
    }
    if (!ec) {
      self->connect_timer_.expires_after(kConnectTimeout);
      self->connect_timer_.async_wait([weak = std::weak_ptr<ProxySession>(self)](auto error) {
        if (error) return;
        if (auto s = weak.lock()) {
          boost::system::error_code ignored;
          s->upstream_.close(ignored);
        }
      });
      std::tie(ec) = co_await self->upstream_.async_connect(target, kNoThrow);
      self->connect_timer_.cancel();
    }
    if (ec || self->aborted_) {
      if (!self->aborted_) self->impl_.counters.upstream_failures.fetch_add(1);
      self->Abort();
      co_return;
    }
    self->impl_.counters.proxied.fetch_add(1);
    SetNoDelay(self->upstream_);
    for (Direction* d : {&self->to_upstream_, &self->to_client_}) {
      if (d->shaping.shaped()) {
        asio::co_spawn(self->impl_.io, ReadShaped(self, *d), asio::detached);
        asio::co_spawn(self->impl_.io, WriteShaped(self, *d), asio::detached);
      } else {
        asio::co_spawn(self->impl_.io, SpliceRelay(self, *d), asio::detached);
      }
    }
  }

  // The end of one direction's data: pass the half-close on.
  static void FinishDirection(Direction& d) {
    boost::system::error_code ec;
    d.dst.shutdown(tcp::socket::shutdown_send, ec);
  }

  static asio::awaitable<void> Relay(std::shared_ptr<ProxySession> self, Direction& d) {
    std::vector<char> buffer(kReadChunk);
    for (;;) {
      auto [ec, n] = co_await d.src.async_read_some(asio::buffer(buffer), kNoThrow);
      if (ec) {
        if (ec == asio::error::eof)
          FinishDirection(d);
        else
          self->Abort();
        co_return;
      }
      auto [write_ec, written] =
          co_await asio::async_write(d.dst, asio::buffer(buffer.data(), n), kNoThrow);
      if (write_ec) {
        self->Abort();
        co_return;
      }
      d.bytes.fetch_add(written, std::memory_order_relaxed);
    }
  }

  // The unshaped path without copies: socket → pipe → socket with splice(2), the pages moving by
  // reference. Falls back to Relay when a pipe cannot be had (e.g. out of descriptors).
  static asio::awaitable<void> SpliceRelay(std::shared_ptr<ProxySession> self, Direction& d) {
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) != 0) {
      co_await Relay(self, d);
      co_return;
    }
    const int pipe_r = pipe_fds[0], pipe_w = pipe_fds[1];
    int capacity = ::fcntl(pipe_w, F_SETPIPE_SZ, static_cast<int>(kSplicePipeBytes));
    if (capacity <= 0) capacity = ::fcntl(pipe_w, F_GETPIPE_SZ);
    boost::system::error_code ec;
    d.src.native_non_blocking(true, ec);
    if (!ec) d.dst.native_non_blocking(true, ec);
    size_t in_pipe = 0;
    bool src_eof = false;
    bool failed = static_cast<bool>(ec);
    while (!failed && !self->aborted_ && (!src_eof || in_pipe > 0)) {
      bool progressed = false;
      if (!src_eof && in_pipe < static_cast<size_t>(capacity)) {
        const ssize_t n =
            ::splice(d.src.native_handle(), nullptr, pipe_w, nullptr,
                     static_cast<size_t>(capacity) - in_pipe, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (n > 0) {
          in_pipe += static_cast<size_t>(n);
          progressed = true;
        } else if (n == 0) {
          src_eof = true;
          progressed = true;
        } else if (errno != EAGAIN && errno != EINTR) {
          failed = true;
          break;
        }
      }
      if (in_pipe > 0) {
        const ssize_t n = ::splice(pipe_r, nullptr, d.dst.native_handle(), nullptr, in_pipe,
                                   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (n > 0) {
          in_pipe -= static_cast<size_t>(n);
          d.bytes.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
          progressed = true;
        } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
          failed = true;
          break;
        }
      }
      if (progressed) continue;
      // Nothing moved: wait until the side that blocks is ready. A full pipe waits for the
      // destination; an empty one for the source.
      if (in_pipe >= static_cast<size_t>(capacity) || src_eof) {
        std::tie(ec) = co_await d.dst.async_wait(tcp::socket::wait_write, kNoThrow);
      } else if (in_pipe == 0) {
        std::tie(ec) = co_await d.src.async_wait(tcp::socket::wait_read, kNoThrow);
      } else {
        // Both may block: wake on whichever comes first by trying the write side first; the
        // source is retried on the next turn.
        std::tie(ec) = co_await d.dst.async_wait(tcp::socket::wait_write, kNoThrow);
      }
      if (ec) failed = true;
    }
    ::close(pipe_r);
    ::close(pipe_w);
    if (self->aborted_) co_return;
    if (failed) {
      self->Abort();
      co_return;
    }
    FinishDirection(d);
  }

  static asio::awaitable<void> ReadShaped(std::shared_ptr<ProxySession> self, Direction& d) {
    std::vector<char> buffer(kReadChunk);
    const int64_t jitter_us = d.shaping.jitter.count();
    std::uniform_int_distribution<int64_t> jitter(-jitter_us, jitter_us);
    for (;;) {
      while (d.held_bytes >= kMaxHeldBytes && !self->aborted_) co_await WaitForWake(d.reader_wake);
      if (self->aborted_) co_return;
      auto [ec, n] = co_await d.src.async_read_some(asio::buffer(buffer), kNoThrow);
      if (ec) {
        if (ec == asio::error::eof) {
          d.src_done = true;
          d.writer_wake.cancel();
        } else {
          self->Abort();
        }
        co_return;
      }
      microseconds hold = d.shaping.delay;
      if (jitter_us > 0) hold += microseconds(jitter(d.rng));
      if (hold.count() < 0) hold = microseconds(0);
      // TCP is a stream: a chunk never overtakes the one read before it.
      const auto due = std::max(SteadyClock::now() + hold, d.last_due);
      d.last_due = due;
      d.held.push_back(HeldChunk{std::vector<char>(buffer.data(), buffer.data() + n), due});
      d.held_bytes += n;
      d.writer_wake.cancel();
    }
  }

  static asio::awaitable<void> WriteShaped(std::shared_ptr<ProxySession> self, Direction& d) {
    Counters& counters = self->impl_.counters;
    const uint64_t rate = d.shaping.rate_bytes_per_s;
    // About 10 ms of data per write when rate-limited, so the cap holds at short time scales.
    const size_t slice = rate == 0 ? kReadChunk : std::clamp<size_t>(rate / 100, 1500, kReadChunk);
    for (;;) {
      while (d.held.empty()) {
        if (self->aborted_) co_return;
        if (d.src_done) {
          FinishDirection(d);
          co_return;
        }
        co_await WaitForWake(d.writer_wake);
      }
      if (self->aborted_) co_return;
      HeldChunk& chunk = d.held.front();
      if (SteadyClock::now() < chunk.due) {
        d.due_timer.expires_at(chunk.due);
        co_await d.due_timer.async_wait(kNoThrow);
        if (self->aborted_) co_return;
      }
      const auto late = std::chrono::duration_cast<microseconds>(SteadyClock::now() - chunk.due);
      const uint64_t late_us = late.count() > 0 ? static_cast<uint64_t>(late.count()) : 0;
      counters.chunks_held.fetch_add(1, std::memory_order_relaxed);
      counters.lateness_us_total.fetch_add(late_us, std::memory_order_relaxed);
      uint64_t seen_max = counters.lateness_us_max.load(std::memory_order_relaxed);
      while (late_us > seen_max &&
             !counters.lateness_us_max.compare_exchange_weak(seen_max, late_us)) {
      }
      size_t offset = 0;
      while (offset < chunk.data.size()) {
        const size_t n = std::min(slice, chunk.data.size() - offset);
        if (rate != 0) {
          const auto now = SteadyClock::now();
          if (d.rate_next < now) d.rate_next = now;  // no credit saved up while idle
          if (d.rate_next > now) {
            d.due_timer.expires_at(d.rate_next);
            co_await d.due_timer.async_wait(kNoThrow);
            if (self->aborted_) co_return;
          }
          d.rate_next += microseconds(n * 1000000 / rate);
        }
        auto [ec, written] = co_await asio::async_write(
            d.dst, asio::buffer(chunk.data.data() + offset, n), kNoThrow);
        if (ec) {
          self->Abort();
          co_return;
        }
        d.bytes.fetch_add(written, std::memory_order_relaxed);
        offset += n;
      }
      d.held_bytes -= chunk.data.size();
      d.held.pop_front();
      d.reader_wake.cancel();
    }
  }

  // Blackhole: read and drop whatever the client sends, never answer.
  static asio::awaitable<void> Discard(std::shared_ptr<ProxySession> self) {
    std::vector<char> buffer(64 * 1024);
    for (;;) {
      auto [ec, n] = co_await self->client_.async_read_some(asio::buffer(buffer), kNoThrow);
      if (ec) co_return;
    }
  }

  ProxyCore& impl_;
  uint64_t id_;
  tcp::socket client_;
  tcp::socket upstream_;
  asio::steady_timer connect_timer_;
  Direction to_upstream_;
  Direction to_client_;
  bool aborted_ = false;
  bool blackhole_ = false;
};

Status ProxyCore::Bind() {
  try {
    const tcp::endpoint endpoint = ToEndpoint(options.listen);
    acceptor.emplace(io);
    acceptor->open(endpoint.protocol());
    acceptor->set_option(asio::socket_base::reuse_address(true));
    if (endpoint.address().is_v6()) acceptor->set_option(asio::ip::v6_only(true));
    acceptor->bind(endpoint);
    acceptor->listen(1024);
    bound = FromEndpoint(acceptor->local_endpoint());
    return Status::Ok();
  } catch (const boost::system::system_error& e) {
    acceptor.reset();
    return Status::Runtime("listen on " + options.listen.ToString() + ": " + e.code().message());
  }
}

asio::awaitable<void> ProxyCore::AcceptLoop() {
  asio::steady_timer backoff(io);
  for (;;) {
    if (!acceptor || !acceptor->is_open()) co_return;
    auto [ec, socket] = co_await acceptor->async_accept(kNoThrow);
    if (ec == asio::error::operation_aborted || !acceptor || !acceptor->is_open()) co_return;
    if (ec) {  // EMFILE and the like: try again a little later rather than spin
      backoff.expires_after(std::chrono::milliseconds(50));
      co_await backoff.async_wait(kNoThrow);
      continue;
    }
    HandleAccepted(std::move(socket));
  }
}

void ProxyCore::HandleAccepted(tcp::socket client) {
  counters.accepted.fetch_add(1);
  const uint64_t id = next_id++;
  SetNoDelay(client);
  if (counters.open.load() >= options.max_connections) {
    counters.over_limit.fetch_add(1);
    ResetSocket(client);
    return;
  }
  if (!options.blackhole && options.reset_percent > 0) {
    std::uniform_real_distribution<double> percent(0.0, 100.0);
    if (percent(rng) < options.reset_percent) {
      counters.reset.fetch_add(1);
      ResetSocket(client);
      return;
    }
  }
  tcp::endpoint target;
  if (options.upstream) {
    target = ToEndpoint(*options.upstream);
  } else if (!options.blackhole) {
    sockaddr_in original{};
    socklen_t len = sizeof original;
    boost::system::error_code ec;
    const tcp::endpoint local = client.local_endpoint(ec);
    if (::getsockopt(client.native_handle(), SOL_IP, kSoOriginalDst, &original, &len) != 0 ||
        original.sin_family != AF_INET) {
      counters.no_original_destination.fetch_add(1);
      ResetSocket(client);
      return;
    }
    target = tcp::endpoint(asio::ip::address_v4(ntohl(original.sin_addr.s_addr)),
                           ntohs(original.sin_port));
    // Not redirected (someone connected to the proxy's port directly): going "back" to the
    // original destination would be the proxy itself, a loop.
    if (ec || target == local) {
      counters.no_original_destination.fetch_add(1);
      ResetSocket(client);
      return;
    }
  }
  auto session = std::make_shared<ProxySession>(*this, id, std::move(client));
  sessions[id] = session;
  if (options.blackhole) {
    counters.blackholed.fetch_add(1);
    ProxySession::BeginBlackhole(session);
  } else {
    ProxySession::Begin(session, target);
  }
}

void ProxyCore::CloseAll(InFlightPolicy policy) {
  std::vector<std::shared_ptr<ProxySession>> open;
  for (auto& [id, weak] : sessions) {
    if (auto s = weak.lock()) open.push_back(std::move(s));
  }
  for (auto& s : open) {
    if (s->blackhole()) {
      if (policy == InFlightPolicy::kReset)
        s->Abort();
      else
        s->CloseBlackhole();
    } else if (policy == InFlightPolicy::kReset) {
      counters.reset_at_stop.fetch_add(1);
      s->Abort();
    }
  }
}

}  // namespace

struct LatencyProxy::Impl {
  explicit Impl(const LatencyProxyOptions& options) : core(options) {}
  ProxyCore core;
};

LatencyProxy::LatencyProxy(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

LatencyProxy::~LatencyProxy() { Stop(InFlightPolicy::kReset, std::chrono::milliseconds(0)); }

Result<std::unique_ptr<LatencyProxy>> LatencyProxy::Start(const LatencyProxyOptions& options) {
  auto impl = std::make_unique<Impl>(options);
  std::promise<Status> ready;
  auto ready_future = ready.get_future();
  ProxyCore* raw = &impl->core;
  raw->work.emplace(raw->io.get_executor());
  raw->thread = std::thread([raw, &ready] {
    // Every socket this thread creates (listener, upstream connections) belongs to the
    // namespace it is in when it creates it.
    Status entered = EnterNetnsOnThisThread(raw->options.netns);
    if (!entered.ok()) {
      ready.set_value(entered);
      return;
    }
    Status bound = raw->Bind();
    const bool ok = bound.ok();
    ready.set_value(std::move(bound));
    if (!ok) return;
    asio::co_spawn(raw->io, raw->AcceptLoop(), asio::detached);
    raw->io.run();
    raw->loop_ended.store(true);
  });
  Status status = ready_future.get();
  if (!status.ok()) {
    raw->thread.join();
    raw->stopped = true;
    return status;
  }
  return std::unique_ptr<LatencyProxy>(new LatencyProxy(std::move(impl)));
}

SocketAddress LatencyProxy::listening() const { return impl_->core.bound; }

void LatencyProxy::Stop(InFlightPolicy policy, std::chrono::milliseconds finish_timeout) {
  std::lock_guard<std::mutex> lock(impl_->core.stop_mu);
  if (impl_->core.stopped) return;
  impl_->core.stopped = true;
  ProxyCore* impl = &impl_->core;
  asio::post(impl->io, [impl, policy] {
    boost::system::error_code ec;
    if (impl->acceptor) impl->acceptor->close(ec);
    impl->CloseAll(policy);
  });
  const auto poll = std::chrono::milliseconds(10);
  const auto wait_open = [&](std::chrono::milliseconds limit) {
    const auto deadline = SteadyClock::now() + limit;
    while (impl->counters.open.load() > 0 && SteadyClock::now() < deadline) {
      std::this_thread::sleep_for(poll);
    }
  };
  if (policy == InFlightPolicy::kFinish) {
    wait_open(finish_timeout);
    asio::post(impl->io, [impl] { impl->CloseAll(InFlightPolicy::kReset); });
  }
  // Aborted sessions end within a turn of the loop, and then run() returns by itself; bounded
  // in case something still holds it.
  wait_open(std::chrono::milliseconds(1000));
  asio::post(impl->io, [impl] {
    impl->acceptor.reset();
    impl->work.reset();
  });
  const auto deadline = SteadyClock::now() + std::chrono::milliseconds(1000);
  while (!impl->loop_ended.load() && SteadyClock::now() < deadline)
    std::this_thread::sleep_for(poll);
  impl->io.stop();
  if (impl->thread.joinable()) impl->thread.join();
}

LatencyProxyStats LatencyProxy::Stats() const {
  const Counters& c = impl_->core.counters;
  LatencyProxyStats s;
#define RINGFENCE_LOAD(name) s.name = c.name.load();
  RINGFENCE_LATENCY_PROXY_STATS(RINGFENCE_LOAD, RINGFENCE_LOAD)
#undef RINGFENCE_LOAD
  return s;
}

nlohmann::json LatencyProxyStats::ToJson() const {
  return {
      {"connections",
       {{"accepted", accepted},
        {"proxied", proxied},
        {"reset", reset},
        {"blackholed", blackholed},
        {"over_limit", over_limit},
        {"no_original_destination", no_original_destination},
        {"upstream_failures", upstream_failures},
        {"reset_at_stop", reset_at_stop},
        {"open", open}}},
      {"bytes", {{"to_upstream", bytes_to_upstream}, {"to_client", bytes_to_client}}},
      {"chunks_held", chunks_held},
      {"lateness_us",
       {{"mean", chunks_held == 0 ? 0.0 : double(lateness_us_total) / double(chunks_held)},
        {"max", lateness_us_max}}},
  };
}

Status CheckListenAddress(const std::string& netns, const SocketAddress& address) {
  Status result;
  std::thread probe([&] {
    Status entered = EnterNetnsOnThisThread(netns);
    if (!entered.ok()) {
      result = entered;
      return;
    }
    try {
      asio::io_context io;
      tcp::acceptor acceptor(io);
      const tcp::endpoint endpoint = ToEndpoint(address);
      acceptor.open(endpoint.protocol());
      acceptor.set_option(asio::socket_base::reuse_address(true));
      if (endpoint.address().is_v6()) acceptor.set_option(asio::ip::v6_only(true));
      acceptor.bind(endpoint);
    } catch (const boost::system::system_error& e) {
      result = Status::Runtime("listen on " + address.ToString() + ": " + e.code().message());
    }
  });
  probe.join();
  return result;
}

}  // namespace ringfence
