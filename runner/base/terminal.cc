#include "runner/base/terminal.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <mutex>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "runner/base/redaction.h"

namespace ringfence {

namespace {

// One lock for everything written to stderr, so a log line never lands inside the status line.
std::mutex g_stderr_mu;
bool g_status_drawn = false;                         // a status line is on screen (terminal only)
std::shared_ptr<const Redactor> g_redactor;          // guarded by g_stderr_mu
std::function<void(const std::string&)> g_diverter;  // guarded by g_stderr_mu

void ClearStatusLocked() {
  if (g_status_drawn) {
    std::fputs("\r\033[K", stderr);
    g_status_drawn = false;
  }
}

class StderrSink : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 public:
  explicit StderrSink(LogFormat format) : format_(format) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    std::string line;
    if (format_ == LogFormat::kJson) {
      nlohmann::json j = {{"time", FormatRfc3339(msg.time)},
                          {"level", std::string(spdlog::level::to_string_view(msg.level).data(),
                                                spdlog::level::to_string_view(msg.level).size())},
                          {"msg", std::string(msg.payload.data(), msg.payload.size())}};
      line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    } else {
      spdlog::memory_buf_t buf;
      formatter_->format(msg, buf);
      line.assign(buf.data(), buf.size());
    }
    std::lock_guard<std::mutex> lock(g_stderr_mu);
    if (g_redactor) line = g_redactor->Apply(line);
    if (g_diverter) return g_diverter(line);
    ClearStatusLocked();
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
  }
  void flush_() override { std::fflush(stderr); }

 private:
  LogFormat format_;
};

}  // namespace

void SetLogRedactor(std::shared_ptr<const Redactor> redactor) {
  std::lock_guard<std::mutex> lock(g_stderr_mu);
  g_redactor = std::move(redactor);
}

void SetLogDiverter(std::function<void(const std::string&)> diverter) {
  std::lock_guard<std::mutex> lock(g_stderr_mu);
  g_diverter = std::move(diverter);
}

bool StderrIsTerminal() { return ::isatty(STDERR_FILENO) == 1; }

void SetupLogging(LogFormat format, int verbosity) {
  auto sink = std::make_shared<StderrSink>(format);
  auto logger = std::make_shared<spdlog::logger>("ringfence", sink);
  logger->set_pattern("%H:%M:%S.%e %^%-5l%$ %v");
  const int level =
      std::clamp(static_cast<int>(spdlog::level::info) - verbosity,
                 static_cast<int>(spdlog::level::trace), static_cast<int>(spdlog::level::err));
  logger->set_level(static_cast<spdlog::level::level_enum>(level));
  spdlog::set_default_logger(logger);
}

StatusLine::StatusLine(std::function<std::string()> render, bool enabled)
    : render_(std::move(render)), tty_(StderrIsTerminal()) {
  if (enabled) thread_ = std::thread([this] { Loop(); });
}

StatusLine::~StatusLine() {
  stop_.RequestStop("done");
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(g_stderr_mu);
  ClearStatusLocked();
}

void StatusLine::Loop() {
  const auto period = tty_ ? std::chrono::milliseconds(200) : std::chrono::milliseconds(1000);
  while (stop_.WaitUntil(std::chrono::steady_clock::now() + period)) {
    std::string text = render_();
    std::lock_guard<std::mutex> lock(g_stderr_mu);
    if (tty_) {
      std::fprintf(stderr, "\r\033[K%s", text.c_str());
      g_status_drawn = true;
    } else {
      std::fprintf(stderr, "%s\n", text.c_str());
    }
    std::fflush(stderr);
  }
}

}  // namespace ringfence
