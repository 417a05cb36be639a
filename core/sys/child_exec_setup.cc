#include "core/sys/child_exec_setup.h"

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>

namespace ringfence {

int PrepareChildForExec(pid_t parent) noexcept {
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return errno;
  // The parent may have died between fork and prctl; the death signal would then never come.
  if (::getppid() != parent) return ECHILD;
  sigset_t none;
  sigemptyset(&none);
  if (::sigprocmask(SIG_SETMASK, &none, nullptr) != 0) return errno;
  for (int signo = 1; signo < NSIG; ++signo) {
    if (signo == SIGKILL || signo == SIGSTOP) continue;
    ::signal(signo, SIG_DFL);  // fails harmlessly for numbers that are not signals
  }
  return 0;
}

}  // namespace ringfence
