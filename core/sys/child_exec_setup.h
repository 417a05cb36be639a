#pragma once

#include <sys/types.h>

#include <boost/system/error_code.hpp>

namespace ringfence {

// Runs in a forked child just before exec, so it uses async-signal-safe calls only. The child
// gets SIGKILL when the *thread* that forked it ends (PR_SET_PDEATHSIG), an empty signal mask
// and default signal dispositions (a parent's blocked or ignored signals would otherwise be
// inherited across exec). `parent` is the forking process's pid, read before fork: when it
// already died, ECHILD is returned and the child must not exec. Returns 0 or an errno value.
int PrepareChildForExec(pid_t parent) noexcept;

// A Boost.Process v2 launcher initializer that calls PrepareChildForExec in the child.
struct DieWithParentInit {
  pid_t parent;

  template <typename Launcher, typename Path, typename Argv>
  boost::system::error_code on_exec_setup(Launcher&, const Path&, Argv&) const {
    int err = PrepareChildForExec(parent);
    if (err == 0) return {};
    return boost::system::error_code(err, boost::system::system_category());
  }
};

}  // namespace ringfence
