// The line protocol of `ringfence host session` and its runner end (HostSession) over a fake
// LineChannel: replies matched by id, timeouts, a channel that ends.
#include "core/fleet/host_session.h"

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/fleet/host_protocol.h"

namespace ringfence {
namespace {

TEST(SessionProtocolTest, RequestLineRoundTrips) {
  const std::string line = SessionRequestLine({7, "match", {{"selector", {{"pid", 42}}}}});
  EXPECT_EQ(line, R"({"action":"match","id":7,"request":{"selector":{"pid":42}}})");
  auto parsed = ParseSessionRequest(line);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->id, 7u);
  EXPECT_EQ(parsed->action, "match");
  EXPECT_EQ(parsed->request["selector"]["pid"], 42);
}

TEST(SessionProtocolTest, RequestWithoutRequestMemberIsAnEmptyObject) {
  auto parsed = ParseSessionRequest(R"({"id": 1, "action": "version"})");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->request, nlohmann::json::object());
}

TEST(SessionProtocolTest, ReplyLineRoundTrips) {
  const std::string line = SessionReplyLine({3, {{"ok", true}, {"version", "0.1.0"}}});
  EXPECT_EQ(line, R"({"id":3,"reply":{"ok":true,"version":"0.1.0"}})");
  auto parsed = ParseSessionReply(line);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->id, 3u);
  EXPECT_EQ(parsed->reply["version"], "0.1.0");
}

TEST(SessionProtocolTest, BadLinesAreNamedWordForWord) {
  EXPECT_EQ(ParseSessionRequest("{").status().message().rfind("session request: not JSON (", 0),
            0u);
  EXPECT_EQ(ParseSessionRequest(std::string(100000, '[')).status().message(),
            "session request: nesting deeper than 64 levels");
  EXPECT_EQ(ParseSessionRequest("[1]").status().message(), "session request: not a JSON object");
  EXPECT_EQ(ParseSessionRequest(R"({"id": -1, "action": "end"})").status().message(),
            "session request: no \"id\" (a number from 0)");
  EXPECT_EQ(ParseSessionRequest(R"({"id": 1})").status().message(),
            "session request: no \"action\" string");
  EXPECT_EQ(ParseSessionRequest(R"({"id": 1, "action": "end", "request": 3})").status().message(),
            "session request: \"request\" is not an object");
  EXPECT_EQ(ParseSessionReply(R"({"id": 1})").status().message(),
            "session reply: no \"reply\" object");
  EXPECT_EQ(
      ParseSessionReply("ssh: noise").status().message().rfind("session reply: not JSON (", 0), 0u);
  EXPECT_EQ(ParseSessionReply("{\"id\": 1e400}")
                .status()
                .message()
                .rfind("session reply: not JSON (number overflow parsing '1e400'", 0),
            0u);
  EXPECT_EQ(ParseSessionRequest("{").status().code(), StatusCode::kInvalidInput);
}

// A channel whose far end is the test: every sent line is kept, and `respond` (when set)
// answers it at once, on the sending thread.
class FakeChannel : public LineChannel {
 public:
  explicit FakeChannel(LineHandlers handlers) : handlers_(std::move(handlers)) {}
  Status Send(const std::string& line, std::chrono::milliseconds) override {
    std::function<void(const SessionRequest&)> respond;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_) return Status::Unavailable("its stdin is closed");
      sent_.push_back(line);
      respond = respond_;
      cv_.notify_all();
    }
    if (respond) respond(*ParseSessionRequest(line));
    return Status::Ok();
  }
  void Close(std::chrono::milliseconds) override { End("closed by the runner"); }

  void Reply(uint64_t id, const nlohmann::json& reply) {
    handlers_.on_line(SessionReplyLine({id, reply}));
  }
  void Line(const std::string& line) { handlers_.on_line(line); }
  void End(const std::string& why) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_) return;
      closed_ = true;
    }
    handlers_.on_closed(why);
  }
  void SetResponder(std::function<void(const SessionRequest&)> respond) {
    std::lock_guard<std::mutex> lock(mu_);
    respond_ = std::move(respond);
  }
  bool WaitForSent(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return sent_.size() >= n; });
  }
  std::vector<std::string> sent() {
    std::lock_guard<std::mutex> lock(mu_);
    return sent_;
  }

 private:
  LineHandlers handlers_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> sent_;
  std::function<void(const SessionRequest&)> respond_;
  bool closed_ = false;
};

class HostSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = HostSession::Open([&](const LineHandlers& handlers) {
      auto channel = std::make_unique<FakeChannel>(handlers);
      channel_ = channel.get();
      return Result<std::unique_ptr<LineChannel>>(std::move(channel));
    });
    ASSERT_TRUE(opened.ok());
    session_ = std::move(*opened);
  }
  FakeChannel* channel_ = nullptr;
  std::unique_ptr<HostSession> session_;
};

TEST_F(HostSessionTest, SendsOneLinePerRequestWithRisingIds) {
  channel_->SetResponder([&](const SessionRequest& r) {
    channel_->Reply(r.id, {{"ok", true}, {"echo", r.action}});
  });
  auto a = session_->Call("version", nlohmann::json::object(), std::chrono::seconds(5));
  auto b = session_->Call("heartbeat", nlohmann::json::object(), std::chrono::seconds(5));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ((*a)["echo"], "version");
  EXPECT_EQ((*b)["echo"], "heartbeat");
  EXPECT_EQ(channel_->sent(),
            (std::vector<std::string>{R"({"action":"version","id":1,"request":{}})",
                                      R"({"action":"heartbeat","id":2,"request":{}})"}));
}

TEST_F(HostSessionTest, RepliesAreMatchedByIdNotByOrder) {
  // The inject waits on the host; a heartbeat sent after it is answered first.
  Result<nlohmann::json> inject = Status::Runtime("not called");
  std::thread slow([&] {
    inject = session_->Call("inject", {{"target", "x"}}, std::chrono::seconds(10));
  });
  ASSERT_TRUE(channel_->WaitForSent(1));
  channel_->SetResponder([&](const SessionRequest& r) {
    channel_->Reply(r.id, {{"ok", true}, {"beat", true}});
    channel_->Reply(1, {{"ok", true}, {"injected", true}});
  });
  auto beat = session_->Call("heartbeat", nlohmann::json::object(), std::chrono::seconds(10));
  slow.join();
  ASSERT_TRUE(beat.ok());
  ASSERT_TRUE(inject.ok()) << inject.status().message();
  EXPECT_EQ((*beat)["beat"], true);
  EXPECT_EQ((*inject)["injected"], true);
}

TEST_F(HostSessionTest, NoReplyInTimeIsATimeoutAndALateReplyIsDropped) {
  auto r = session_->Call("heartbeat", nlohmann::json::object(), std::chrono::milliseconds(20));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kTimeout);
  EXPECT_EQ(r.status().message(), "no reply within 20ms");
  channel_->Reply(1, {{"ok", true}});  // too late: nobody waits for it
  channel_->SetResponder([&](const SessionRequest& req) { channel_->Reply(req.id, {{"ok", 1}}); });
  auto next = session_->Call("heartbeat", nlohmann::json::object(), std::chrono::seconds(5));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ((*next)["ok"], 1);
  EXPECT_FALSE(session_->closed());
}

TEST_F(HostSessionTest, ErrorRepliesAreRepliesNotTransportErrors) {
  channel_->SetResponder([&](const SessionRequest& r) {
    channel_->Reply(r.id, ErrorReply(Status::NotFound("run r1 was not begun on this host")));
  });
  auto r = session_->Call("heartbeat", nlohmann::json::object(), std::chrono::seconds(5));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(StatusOfReply(*r).message(), "run r1 was not begun on this host");
}

TEST_F(HostSessionTest, LinesThatAreNoRepliesAreIgnored) {
  channel_->SetResponder([&](const SessionRequest& r) {
    channel_->Line("Warning: Permanently added '10.0.0.2' to the list of known hosts.");
    channel_->Line(R"({"id": 1})");
    channel_->Reply(r.id + 100, {{"ok", false}});
    channel_->Reply(r.id, {{"ok", true}});
  });
  auto r = session_->Call("version", nlohmann::json::object(), std::chrono::seconds(5));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["ok"], true);
}

TEST_F(HostSessionTest, AChannelThatEndsFailsTheWaitingCallAndEveryLaterOne) {
  std::thread ender([&] {
    ASSERT_TRUE(channel_->WaitForSent(1));
    channel_->End("Connection to 10.0.0.2 closed by remote host.");
  });
  auto r = session_->Call("inject", nlohmann::json::object(), std::chrono::seconds(10));
  ender.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(r.status().message(),
            "the session ended: Connection to 10.0.0.2 closed by remote host.");
  EXPECT_TRUE(session_->closed());
  auto later = session_->Call("heartbeat", nlohmann::json::object(), std::chrono::seconds(10));
  EXPECT_EQ(later.status().message(),
            "the session ended: Connection to 10.0.0.2 closed by remote host.");
  EXPECT_EQ(channel_->sent().size(), 1u);
}

TEST_F(HostSessionTest, CloseEndsTheChannel) {
  session_->Close(std::chrono::milliseconds(0));
  EXPECT_TRUE(session_->closed());
  auto r = session_->Call("heartbeat", nlohmann::json::object(), std::chrono::seconds(1));
  EXPECT_EQ(r.status().message(), "the session ended: closed by the runner");
}

TEST(HostSessionOpenTest, AChannelThatCannotStartIsOpensError) {
  auto opened = HostSession::Open([](const LineHandlers&) {
    return Result<std::unique_ptr<LineChannel>>(Status::Unavailable("ssh not found in PATH"));
  });
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().message(), "ssh not found in PATH");
}

}  // namespace
}  // namespace ringfence
