#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/base/status.h"

namespace ringfence {

// A long-lived child process spoken to in lines (for a fleet run: `ssh ... -- ringfence host
// session`). Thread-safe.
class LineChannel {
 public:
  virtual ~LineChannel() = default;
  // Writes `line` and a newline to the process's stdin. Unavailable once the process is gone or
  // its stdin closed; Timeout when the line could not be handed over within `timeout`.
  virtual Status Send(const std::string& line, std::chrono::milliseconds timeout) = 0;
  // Closes the process's stdin (the far end reads EOF), waits up to `grace` for it to exit, then
  // kills and reaps it. Idempotent; on_closed has been called when it returns.
  virtual void Close(std::chrono::milliseconds grace) = 0;
};

// What a LineChannel reports, from its own thread.
struct LineHandlers {
  std::function<void(const std::string& line)> on_line;  // every stdout line, in order
  // Once, when stdout ended: `why` is the process's last word (its stderr's last line, or how
  // it exited).
  std::function<void(const std::string& why)> on_closed;
};

// The runner's end of `ringfence host session` (docs/fleets.md): requests are lines with an id,
// replies are matched to them by id, so several threads may call at once (a heartbeat need not
// wait for an inject). Thread-safe.
class HostSession {
 public:
  using OpenChannel =
      std::function<Result<std::unique_ptr<LineChannel>>(const LineHandlers& handlers)>;

  // Starts the channel through `open`. The error is open's.
  static Result<std::unique_ptr<HostSession>> Open(const OpenChannel& open);
  ~HostSession();  // Close(100 ms)

  // Sends one request and waits for its reply. The reply object (whatever its "ok"), or:
  // Timeout "no reply within <timeout>" when none came in time (a late reply is dropped);
  // Unavailable "the session ended: <why>" when the channel closed before the reply.
  // `*sent` (when given) says whether the request reached the channel: when it did not, the far
  // end never saw it, and it may be retried another way.
  Result<nlohmann::json> Call(const std::string& action, const nlohmann::json& request,
                              std::chrono::milliseconds timeout, bool* sent = nullptr);
  // Whether the channel has closed (every later Call fails with Unavailable).
  bool closed() const;
  // Ends the session: EOF to the far end, then the channel is closed (see LineChannel::Close).
  void Close(std::chrono::milliseconds grace);

 private:
  HostSession() = default;
  void OnLine(const std::string& line);
  void OnClosed(const std::string& why);

  std::unique_ptr<LineChannel> channel_;
  mutable std::mutex mu_;
  std::condition_variable replied_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::optional<nlohmann::json>> pending_;  // id → reply, once it came
  bool closed_ = false;
  std::string why_;
};

}  // namespace ringfence
