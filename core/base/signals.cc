#include "core/base/signals.h"

#include <csignal>
#include <string>

namespace ringfence {

namespace {

struct SignalEntry {
  const char* name;  // without "SIG"
  int number;
};

// Canonical names first: SignalName() returns the first entry with a number.
constexpr SignalEntry kSignals[] = {
    {"HUP", SIGHUP},   {"INT", SIGINT},       {"QUIT", SIGQUIT}, {"ILL", SIGILL},
    {"TRAP", SIGTRAP}, {"ABRT", SIGABRT},     {"BUS", SIGBUS},   {"FPE", SIGFPE},
    {"KILL", SIGKILL}, {"USR1", SIGUSR1},     {"SEGV", SIGSEGV}, {"USR2", SIGUSR2},
    {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},     {"TERM", SIGTERM}, {"STKFLT", SIGSTKFLT},
    {"CHLD", SIGCHLD}, {"CONT", SIGCONT},     {"STOP", SIGSTOP}, {"TSTP", SIGTSTP},
    {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},   {"XCPU", SIGXCPU},
    {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH},
    {"IO", SIGIO},     {"PWR", SIGPWR},       {"SYS", SIGSYS},   {"IOT", SIGIOT},
    {"POLL", SIGPOLL}, {"CLD", SIGCHLD},
};

constexpr int kMaxSignal = 64;

}  // namespace

int ParseSignal(const nlohmann::json& value) {
  if (value.is_number_integer()) {
    if (value.is_number_unsigned()) {
      auto u = value.get<uint64_t>();
      return u >= 1 && u <= kMaxSignal ? static_cast<int>(u) : 0;
    }
    auto i = value.get<int64_t>();
    return i >= 1 && i <= kMaxSignal ? static_cast<int>(i) : 0;
  }
  if (!value.is_string()) return 0;
  std::string_view text = value.get_ref<const std::string&>();
  if (!text.empty() && text.size() <= 2 &&
      text.find_first_not_of("0123456789") == std::string_view::npos) {
    int n = std::stoi(std::string(text));
    return n >= 1 && n <= kMaxSignal ? n : 0;
  }
  if (text.rfind("SIG", 0) == 0) text.remove_prefix(3);
  for (const auto& s : kSignals) {
    if (text == s.name) return s.number;
  }
  return 0;
}

std::string SignalName(int signo) {
  for (const auto& s : kSignals) {
    if (s.number == signo) return std::string("SIG") + s.name;
  }
  return "SIG" + std::to_string(signo);
}

}  // namespace ringfence
