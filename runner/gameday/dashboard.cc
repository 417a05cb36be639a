#include "runner/gameday/dashboard.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "runner/base/terminal.h"

namespace ringfence {

namespace {

// ---- The terminal's state, restorable from a signal handler ----
struct termios g_saved;
volatile sig_atomic_t g_raw = 0;     // stdin is in our mode; g_saved holds the original
volatile sig_atomic_t g_screen = 0;  // the alternate screen is shown
int g_winch_fd = -1;
constexpr char kEnterScreen[] = "\033[?1049h\033[?25l";
constexpr char kLeaveScreen[] = "\033[0m\033[?25h\033[?1049l";
const int kFatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGQUIT};
struct sigaction g_prev_fatal[6];
struct sigaction g_prev_winch;

// Async-signal-safe: tcsetattr and write only.
void RestoreTerminalNow() {
  if (g_raw) {
    ::tcsetattr(STDIN_FILENO, TCSANOW, &g_saved);
    g_raw = 0;
  }
  if (g_screen) {
    ssize_t ignored = ::write(STDERR_FILENO, kLeaveScreen, sizeof kLeaveScreen - 1);
    (void)ignored;
    g_screen = 0;
  }
}

void OnFatal(int signo) {
  RestoreTerminalNow();
  ::signal(signo, SIG_DFL);  // SA_RESETHAND is set too; re-raise for the core dump and status
  ::raise(signo);
}

void OnWinch(int) {
  int saved = errno;
  if (g_winch_fd >= 0) {
    char b = 'w';
    ssize_t ignored = ::write(g_winch_fd, &b, 1);
    (void)ignored;
  }
  errno = saved;
}

void AtExitRestore() { RestoreTerminalNow(); }

// ---- Text ----
size_t Columns(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// `s` cut to `width` columns (one column per code point), padded with spaces when `pad`.
std::string Fit(const std::string& s, size_t width, bool pad = false) {
  std::string out;
  size_t cols = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) != 0x80) {
      if (cols == width) break;
      ++cols;
    }
    out += s[i];
  }
  if (pad) out.append(width - cols, ' ');
  return out;
}

std::string ClockText(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) seconds = 0;
  const long s = static_cast<long>(seconds);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%02ld:%02ld", s / 60, s % 60);
  return buf;
}

std::string Number(const nlohmann::json& v) {
  if (!v.is_number()) return "—";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v.get<double>());
  return buf;
}

std::string Str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

const char* VerdictColor(const std::string& v) {
  if (v == "ok") return "\033[32m";
  if (v == "breach" || v == "error") return "\033[1;31m";
  return "\033[33m";
}

const char* EventColor(const std::string& kind) {
  if (kind == "breach" || kind == "probe_failed" || kind == "refused") return "\033[31m";
  if (kind == "injected") return "\033[35m";
  if (kind == "reverted") return "\033[32m";
  if (kind == "note" || kind == "operator" || kind == "held" || kind == "skipped")
    return "\033[36m";
  return "";
}

std::string Paint(const std::string& text, const char* sgr, bool color) {
  if (!color || sgr == nullptr || *sgr == '\0') return text;
  return std::string(sgr) + text + "\033[0m";
}

}  // namespace

std::string Sparkline(const nlohmann::json& samples, size_t width) {
  static const char* kBars[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  if (!samples.is_array() || width == 0) return "";
  const size_t from = samples.size() > width ? samples.size() - width : 0;
  double lo = INFINITY, hi = -INFINITY;
  for (size_t i = from; i < samples.size(); ++i) {
    if (!samples[i].is_number()) continue;
    lo = std::min(lo, samples[i].get<double>());
    hi = std::max(hi, samples[i].get<double>());
  }
  std::string out;
  for (size_t i = from; i < samples.size(); ++i) {
    if (!samples[i].is_number()) {
      out += " ";
      continue;
    }
    const double v = samples[i].get<double>();
    int level = hi > lo ? static_cast<int>((v - lo) / (hi - lo) * 7.0 + 0.5) : 0;
    out += kBars[std::clamp(level, 0, 7)];
  }
  return out;
}

std::vector<std::string> RenderDashboard(const nlohmann::json& st, int width, int height,
                                         bool color, const std::string& footer) {
  const size_t w = static_cast<size_t>(std::max(width, 20));
  const size_t h = static_cast<size_t>(std::max(height, 6));
  std::vector<std::string> lines;
  auto add = [&](const std::string& plain, const char* sgr = nullptr) {
    lines.push_back(Paint(Fit(plain, w), sgr, color));
  };
  // Head: title, times.
  std::string times = "elapsed " + ClockText(st.value("elapsed_s", 0.0));
  if (st.contains("left_s") && st["left_s"].is_number()) {
    times += "  left " + ClockText(st["left_s"].get<double>());
  }
  std::string title = "ringfence · " + Str(st, "title");
  const size_t tw = Columns(times);
  if (w > tw + 2) {
    title = Fit(title, w - tw - 1, true);
    add(title + " " + times, "\033[1m");
  } else {
    add(title, "\033[1m");
  }
  // Phase and step.
  const std::string phase = Str(st, "phase");
  std::string where = "phase " + phase;
  if (phase == "method") {
    where += " " + std::to_string(st.value("step", 0)) + "/" + std::to_string(st.value("steps", 0));
  }
  if (!Str(st, "method_range").empty()) where += " (" + Str(st, "method_range") + ")";
  if (st.contains("result") && st["result"].is_string()) where += " · result " + Str(st, "result");
  const bool held = st.value("held", false);
  if (held) {
    add(where + " · HELD before " + Str(st, "next_step") + " — c continue, s skip, a abort",
        "\033[1;33m");
  } else {
    add(where +
        (st.value("hold_requested", false) ? " · hold requested: holds before the next step" : ""));
  }
  add("  " + Str(st, "activity"));
  // Faults.
  add("faults", "\033[1m");
  const auto& faults = st.contains("faults") ? st["faults"] : nlohmann::json::array();
  if (faults.empty()) add("  none active");
  for (const auto& f : faults) {
    std::string targets;
    for (const auto& t : f.value("targets", nlohmann::json::array())) {
      targets += (targets.empty() ? "" : ", ") + t.get<std::string>();
    }
    std::string left = "left " + ClockText(f.value("left_s", 0.0));
    std::string head = "  " + Str(f, "name") + " on " + targets;
    if (w > Columns(left) + 4) head = Fit(head, w - Columns(left) - 1, true) + " " + left;
    add(head, "\033[35m");
  }
  // Guards: name value limit sparkline verdict.
  add("guards", "\033[1m");
  const auto& guards = st.contains("guards") ? st["guards"] : nlohmann::json::array();
  if (guards.empty()) add("  none");
  size_t name_width = 8;
  for (const auto& g : guards) name_width = std::max(name_width, Columns(Str(g, "name")));
  name_width = std::min<size_t>(name_width, 30);
  for (const auto& g : guards) {
    const std::string verdict = Str(g, "verdict");
    std::string text = "  " + Fit(Str(g, "name"), name_width, true) + " " +
                       Fit(Number(g["value"]), 9, true) + " limit " +
                       Fit(Str(g, "limit").empty() ? "—" : Str(g, "limit"), 12, true) + " ";
    const size_t room = w > Columns(text) + 12 ? w - Columns(text) - 12 : 0;
    text += Sparkline(g.value("samples", nlohmann::json::array()), std::min<size_t>(room, 40));
    text += " " + verdict;
    add(text, VerdictColor(verdict));
  }
  // Events: as many of the latest as fit above the footer.
  add("events", "\033[1m");
  const auto& events = st.contains("events") ? st["events"] : nlohmann::json::array();
  const size_t room = h > lines.size() + 1 ? h - lines.size() - 1 : 0;
  const size_t first = events.size() > room ? events.size() - room : 0;
  for (size_t i = first; i < events.size(); ++i) {
    const auto& e = events[i];
    const std::string at = Str(e, "at");
    const std::string hms = at.size() >= 19 ? at.substr(11, 8) : at;
    add("  " + hms + " " + Fit(Str(e, "kind"), 12, true) + " " + Str(e, "text"),
        EventColor(Str(e, "kind")));
  }
  if (lines.size() > h - 1) lines.resize(h - 1);
  while (lines.size() < h - 1) lines.emplace_back();
  lines.push_back(Paint(Fit(footer, w), "\033[7m", color));
  return lines;
}

bool Dashboard::Possible() { return StderrIsTerminal(); }

Dashboard::Dashboard(GameDay& game_day)
    : game_day_(game_day),
      who_(GameDay::LocalUser()),
      color_(std::getenv("NO_COLOR") == nullptr || *std::getenv("NO_COLOR") == '\0') {
  if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) wake_[0] = wake_[1] = -1;
  // Keys: only when standard input is a terminal we can put in non-canonical mode.
  if (::isatty(STDIN_FILENO) == 1 && ::tcgetattr(STDIN_FILENO, &g_saved) == 0) {
    struct termios raw = g_saved;
    raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
    raw.c_cc[VMIN] = 0;
    raw.c_cc[VTIME] = 0;
    raw.c_cc[VSUSP] = _POSIX_VDISABLE;  // Ctrl-Z would stop the runner with faults active
    static bool registered = false;
    if (!registered) {
      std::atexit(AtExitRestore);
      registered = true;
    }
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_handler = OnFatal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    for (int i = 0; i < 6; ++i) ::sigaction(kFatal[i], &sa, &g_prev_fatal[i]);
    if (::tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0) {
      g_raw = 1;
      keys_ = true;
    }
  }
  g_winch_fd = wake_[1];
  struct sigaction sw;
  std::memset(&sw, 0, sizeof sw);
  sw.sa_handler = OnWinch;
  sigemptyset(&sw.sa_mask);
  sw.sa_flags = SA_RESTART;
  ::sigaction(SIGWINCH, &sw, &g_prev_winch);
  SetLogDiverter([this](const std::string& line) {
    std::lock_guard<std::mutex> lock(log_mu_);
    log_.push_back(line);
    if (log_.size() > 5000) log_.pop_front();
  });
  ssize_t ignored = ::write(STDERR_FILENO, kEnterScreen, sizeof kEnterScreen - 1);
  (void)ignored;
  g_screen = 1;
  thread_ = std::thread([this] { Loop(); });
}

Dashboard::~Dashboard() {
  stop_ = true;
  if (wake_[1] >= 0) {
    char b = 'q';
    ssize_t ignored = ::write(wake_[1], &b, 1);
    (void)ignored;
  }
  if (thread_.joinable()) thread_.join();
  ::sigaction(SIGWINCH, &g_prev_winch, nullptr);
  g_winch_fd = -1;
  RestoreTerminalNow();
  if (keys_) {
    for (int i = 0; i < 6; ++i) ::sigaction(kFatal[i], &g_prev_fatal[i], nullptr);
  }
  SetLogDiverter(nullptr);
  // What was logged while the dashboard was up, so that the scrollback tells the story.
  std::lock_guard<std::mutex> lock(log_mu_);
  for (const auto& line : log_) std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
  for (int fd : wake_) {
    if (fd >= 0) ::close(fd);
  }
}

std::string Dashboard::Footer() const {
  switch (mode_) {
    case Mode::kConfirmAbort:
      return " abort the run and revert every active fault now? press y to confirm, any other "
             "key cancels ";
    case Mode::kNote:
      return " note> " + note_ + "_   (Enter keeps it, Esc cancels)";
    case Mode::kHelp:
      return " a abort (asks y) · h hold before the next step · c continue · n note · s skip "
             "the next step · ? close help · Ctrl-C interrupts ";
    case Mode::kKeys:
      break;
  }
  if (!keys_) return " keys: standard input is not a terminal (use the control API) ";
  return " [a]bort  [h]old  [c]ontinue  [n]ote  [s]kip next  [?] help ";
}

void Dashboard::Draw(bool full) {
  struct winsize ws;
  int cols = 80, rows = 24;
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
    cols = ws.ws_col;
    rows = ws.ws_row;
  }
  const auto lines = RenderDashboard(game_day_.Status(), cols, rows, color_, Footer());
  std::string frame = full ? "\033[H\033[2J" : "\033[H";
  for (size_t i = 0; i < lines.size(); ++i) {
    frame += lines[i];
    frame += "\033[K";
    if (i + 1 < lines.size()) frame += "\r\n";
  }
  ssize_t ignored = ::write(STDERR_FILENO, frame.data(), frame.size());
  (void)ignored;
}

void Dashboard::OnKey(char c) {
  switch (mode_) {
    case Mode::kConfirmAbort:
      mode_ = Mode::kKeys;
      if (c == 'y' || c == 'Y') game_day_.Abort(who_);
      return;
    case Mode::kNote:
      if (c == '\r' || c == '\n') {
        if (!note_.empty()) game_day_.Note(who_, note_);
        note_.clear();
        mode_ = Mode::kKeys;
      } else if (c == 27) {
        note_.clear();
        mode_ = Mode::kKeys;
      } else if (c == 127 || c == 8) {
        while (!note_.empty() && (static_cast<unsigned char>(note_.back()) & 0xC0) == 0x80) {
          note_.pop_back();
        }
        if (!note_.empty()) note_.pop_back();
      } else if (static_cast<unsigned char>(c) >= 32 && note_.size() < 500) {
        note_ += c;
      }
      return;
    case Mode::kHelp:
      mode_ = Mode::kKeys;
      if (c == '?') return;
      break;
    case Mode::kKeys:
      break;
  }
  switch (c) {
    case 'a':
      mode_ = Mode::kConfirmAbort;
      break;
    case 'h':
      game_day_.Hold(who_);
      break;
    case 'c':
      game_day_.Continue(who_);
      break;
    case 'n':
      mode_ = Mode::kNote;
      break;
    case 's':
      game_day_.SkipNext(who_);
      break;
    case '?':
      mode_ = Mode::kHelp;
      break;
    default:
      break;
  }
}

void Dashboard::Loop() {
  using Steady = std::chrono::steady_clock;
  auto next = Steady::now();
  bool full = true;
  while (!stop_) {
    const auto now = Steady::now();
    if (now >= next || full) {
      Draw(full);
      full = false;
      next = now + std::chrono::milliseconds(100);
    }
    struct pollfd fds[2] = {{wake_[0], POLLIN, 0}, {keys_ ? STDIN_FILENO : -1, POLLIN, 0}};
    const int timeout = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(next - Steady::now()).count());
    const int n = ::poll(fds, 2, std::max(timeout, 0));
    if (n <= 0) continue;
    if (fds[0].revents & POLLIN) {
      char buf[64];
      while (::read(wake_[0], buf, sizeof buf) > 0) {
      }
      full = true;  // a resize (or the end): clear and redraw
    }
    if (fds[1].revents & POLLIN) {
      char buf[64];
      const ssize_t got = ::read(STDIN_FILENO, buf, sizeof buf);
      for (ssize_t i = 0; i < got; ++i) OnKey(buf[i]);
      next = Steady::now();  // show the answer at once
    } else if (fds[1].revents & (POLLHUP | POLLERR)) {
      keys_ = false;  // the terminal went away
    }
  }
}

}  // namespace ringfence
