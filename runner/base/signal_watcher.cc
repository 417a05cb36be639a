#include "runner/base/signal_watcher.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ringfence {

namespace {
int g_write_fd = -1;
struct sigaction g_previous[3];
const int kSignals[3] = {SIGINT, SIGTERM, SIGHUP};

void OnSignal(int signo) {
  int saved = errno;
  unsigned char b = static_cast<unsigned char>(signo);
  if (g_write_fd >= 0) {
    ssize_t ignored = ::write(g_write_fd, &b, 1);
    (void)ignored;
  }
  errno = saved;
}
}  // namespace

SignalWatcher::SignalWatcher(StopSource& stop, std::function<void(int)> on_repeat)
    : stop_(stop), on_repeat_(std::move(on_repeat)) {
  if (::pipe2(pipe_, O_CLOEXEC) != 0) return;
  g_write_fd = pipe_[1];
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (int i = 0; i < 3; ++i) ::sigaction(kSignals[i], &sa, &g_previous[i]);
  thread_ = std::thread([this] { Loop(); });
}

SignalWatcher::~SignalWatcher() {
  for (int i = 0; i < 3; ++i) ::sigaction(kSignals[i], &g_previous[i], nullptr);
  g_write_fd = -1;
  if (pipe_[1] >= 0) ::close(pipe_[1]);  // ends Loop()
  if (thread_.joinable()) thread_.join();
  if (pipe_[0] >= 0) ::close(pipe_[0]);
}

void SignalWatcher::Loop() {
  while (true) {
    unsigned char b = 0;
    ssize_t n = ::read(pipe_[0], &b, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    int signo = b;
    int expected = 0;
    if (first_.compare_exchange_strong(expected, signo)) {
      stop_.RequestStop(sigabbrev_np(signo) ? std::string("SIG") + sigabbrev_np(signo)
                                            : "signal " + std::to_string(signo));
    } else if (on_repeat_) {
      on_repeat_(signo);
    }
  }
}

}  // namespace ringfence
