#include "core/fleet/host_session.h"

#include <optional>

#include <spdlog/spdlog.h>

#include "core/base/duration.h"
#include "core/fleet/host_protocol.h"

namespace ringfence {

Result<std::unique_ptr<HostSession>> HostSession::Open(const OpenChannel& open) {
  std::unique_ptr<HostSession> session(new HostSession());
  HostSession* self = session.get();
  auto channel = open(LineHandlers{[self](const std::string& line) { self->OnLine(line); },
                                   [self](const std::string& why) { self->OnClosed(why); }});
  if (!channel.ok()) return channel.status();
  session->channel_ = std::move(*channel);
  return session;
}

HostSession::~HostSession() { Close(std::chrono::milliseconds(100)); }

void HostSession::OnLine(const std::string& line) {
  auto reply = ParseSessionReply(line);
  if (!reply.ok()) {
    spdlog::debug("host session: ignored a line ({}): {}", reply.status().message(), line);
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pending_.find(reply->id);
  if (it == pending_.end()) return;  // its caller gave up (timeout)
  it->second = std::move(reply->reply);
  replied_.notify_all();
}

void HostSession::OnClosed(const std::string& why) {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  why_ = why.empty() ? "the session's command ended" : why;
  replied_.notify_all();
}

Result<nlohmann::json> HostSession::Call(const std::string& action, const nlohmann::json& request,
                                         std::chrono::milliseconds timeout, bool* sent) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  if (sent != nullptr) *sent = false;
  uint64_t id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return Status::Unavailable("the session ended: " + why_);
    id = next_id_++;
    pending_[id] = std::nullopt;
  }
  Status written = channel_->Send(SessionRequestLine({id, action, request}), timeout);
  std::unique_lock<std::mutex> lock(mu_);
  if (!written.ok()) {
    pending_.erase(id);
    if (written.code() == StatusCode::kTimeout) {
      return Status::Timeout("no reply within " + FormatDuration(timeout));
    }
    return Status::Unavailable("the session ended: " + (closed_ ? why_ : written.message()));
  }
  if (sent != nullptr) *sent = true;
  const bool done =
      replied_.wait_until(lock, deadline, [&] { return pending_[id].has_value() || closed_; });
  std::optional<nlohmann::json> reply = std::move(pending_[id]);
  pending_.erase(id);
  if (reply) return std::move(*reply);
  if (!done) return Status::Timeout("no reply within " + FormatDuration(timeout));
  return Status::Unavailable("the session ended: " + why_);
}

bool HostSession::closed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return closed_;
}

void HostSession::Close(std::chrono::milliseconds grace) {
  if (channel_) channel_->Close(grace);
  std::lock_guard<std::mutex> lock(mu_);
  if (!closed_) {
    closed_ = true;
    why_ = "the session was closed";
  }
  replied_.notify_all();
}

}  // namespace ringfence
