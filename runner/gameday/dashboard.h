#pragma once

#include <atomic>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "runner/gameday/game_day.h"

namespace ringfence {

// The frame of a live dashboard (docs/game-days.md): `status` is GameDay::Status(), the frame is
// at most `height` lines of at most `width` columns each; `footer` is the last line (the keys,
// or the prompt being answered). With `color`, verdicts and states are coloured with ANSI SGR.
std::vector<std::string> RenderDashboard(const nlohmann::json& status, int width, int height,
                                         bool color, const std::string& footer);

// A sparkline of `samples` (null for no data) in at most `width` cells: ▁▂▃▄▅▆▇█, space for none.
std::string Sparkline(const nlohmann::json& samples, size_t width);

// The live dashboard on a terminal while it lives: the alternate screen, redrawn in place 10
// times a second and at once on a key or a resize (SIGWINCH), sized to the terminal. When
// standard input is a terminal too, it reads keys (a abort + y, h hold, c continue, n note,
// s skip, ? help) in non-canonical mode without echo. Log lines are kept while it is drawn and
// written out after it. The terminal is restored when it is destroyed, at exit, and on a fatal
// signal; Ctrl-Z is disabled while it runs (a stopped runner would let the watchdog revert).
// One instance per process.
class Dashboard {
 public:
  explicit Dashboard(GameDay& game_day);
  ~Dashboard();
  Dashboard(const Dashboard&) = delete;
  Dashboard& operator=(const Dashboard&) = delete;

  // Whether stderr is a terminal this can draw on.
  static bool Possible();

 private:
  void Loop();
  void OnKey(char c);
  std::string Footer() const;
  void Draw(bool full);

  GameDay& game_day_;
  const std::string who_;
  const bool color_;
  bool keys_ = false;
  int wake_[2] = {-1, -1};
  std::atomic<bool> stop_{false};
  enum class Mode { kKeys, kConfirmAbort, kNote, kHelp } mode_ = Mode::kKeys;
  std::string note_;
  std::mutex log_mu_;
  std::deque<std::string> log_;  // log lines held back while the dashboard is drawn
  std::thread thread_;
};

}  // namespace ringfence
