#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "core/base/clock.h"

namespace ringfence {

enum class LogFormat { kText, kJson };

// Sets up spdlog on stderr: readable text, or one JSON object per line for machines. In text
// mode a live status line may be drawn at the bottom; log lines are written above it.
// `verbosity` (-v +1, -q -1 each): 0 logs info and above, 1 debug, 2 trace, -1 warnings and
// errors, -2 errors only.
void SetupLogging(LogFormat format, int verbosity = 0);

// Redraws one status line on stderr while it lives. On a terminal the line is redrawn in place
// every 200 ms; otherwise (`always` without a terminal) a full line is printed every second.
class StatusLine {
 public:
  StatusLine(std::function<std::string()> render, bool enabled);
  ~StatusLine();  // stops and clears the line

 private:
  void Loop();
  std::function<std::string()> render_;
  bool tty_ = false;
  StopSource stop_;
  std::thread thread_;
};

// While set, every log line (redacted, with its newline) goes to `diverter` instead of stderr
// (the dashboard keeps them and writes them out when it ends); null restores stderr.
void SetLogDiverter(std::function<void(const std::string&)> diverter);

// Whether stderr is a terminal.
bool StderrIsTerminal();

}  // namespace ringfence
