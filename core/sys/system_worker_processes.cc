#include "core/sys/system_worker_processes.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
// glibc 2.36's <sys/pidfd.h> lacks the extern "C" guards.
extern "C" {
#include <sys/pidfd.h>
}

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include "core/sys/child_launcher.h"

namespace ringfence {
namespace {

// What a child reports on its "ready" pipe: 0 when set up, otherwise the step that failed.
enum SetupStep : unsigned char {
  kSetupOk = 0,
  kSetupDeathSignal,
  kSetupOomScore,
  kSetupCgroup,
  kSetupAffinity,
};

const char* SetupStepText(unsigned char step) {
  switch (step) {
    case kSetupDeathSignal:
      return "setting its parent-death signal";
    case kSetupOomScore:
      return "writing its oom_score_adj";
    case kSetupCgroup:
      return "joining its cgroup";
    case kSetupAffinity:
      return "pinning it to its CPU";
  }
  return "setting it up";
}

// Everything the child needs, prepared before fork() so that the child allocates nothing.
struct ChildPlan {
  pid_t parent = 0;
  char comm[16] = {};
  bool set_oom = false;
  char oom_text[16] = {};
  const char* cgroup_procs = nullptr;
  bool pin = false;
  cpu_set_t cpus;
  int ready_write = -1;
  int go_read = -1;
};

void CloseAllBut(int a, int b) {
  if (a > b) std::swap(a, b);
  if (a > 3) ::close_range(3, a - 1, 0);
  if (b > a + 1) ::close_range(a + 1, b - 1, 0);
  ::close_range(b + 1, ~0U, 0);
}

bool WriteAll(int fd, const char* text) {
  size_t len = std::strlen(text);
  return ::write(fd, text, len) == static_cast<ssize_t>(len);
}

bool WriteFileText(const char* path, const char* text) {
  int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = WriteAll(fd, text);
  ::close(fd);
  return ok;
}

// Runs in the child: async-signal-safe system calls only.
[[noreturn]] void RunChild(const ChildPlan& plan, WorkerBody body, const void* arg) {
  unsigned char step = kSetupOk;
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) step = kSetupDeathSignal;
  // The parent may have died before PR_SET_PDEATHSIG took effect: then no signal will come.
  if (::getppid() != plan.parent) ::_exit(0);

  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &dfl, nullptr);
  }
  CloseAllBut(plan.ready_write, plan.go_read);
  ::prctl(PR_SET_NAME, plan.comm);

  if (step == kSetupOk && plan.set_oom &&
      !WriteFileText("/proc/self/oom_score_adj", plan.oom_text)) {
    step = kSetupOomScore;
  }
  // "0" moves the writing process itself (cgroup v1).
  if (step == kSetupOk && plan.cgroup_procs != nullptr && !WriteFileText(plan.cgroup_procs, "0")) {
    step = kSetupCgroup;
  }
  if (step == kSetupOk && plan.pin && ::sched_setaffinity(0, sizeof plan.cpus, &plan.cpus) != 0) {
    step = kSetupAffinity;
  }
  if (::write(plan.ready_write, &step, 1) != 1 || step != kSetupOk) ::_exit(1);
  ::close(plan.ready_write);

  // Start only once the parent has recorded this worker; EOF means it gave up (or died).
  unsigned char go = 0;
  ssize_t n;
  do {
    n = ::read(plan.go_read, &go, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1) ::_exit(0);
  ::close(plan.go_read);

  body(arg);
  ::_exit(0);
}

// A decimal /proc field; 0 when it is not one (it always is, but /proc is text).
uint64_t Number(const std::string& field) {
  uint64_t n = 0;
  std::from_chars(field.data(), field.data() + field.size(), n);
  return n;
}

void KillAndReap(pid_t pid) {
  ::kill(pid, SIGKILL);
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

// Fields after the command name in /proc/PID/stat: index 0 is field 3 (state).
Result<std::vector<std::string>> ReadStatFields(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!in || !std::getline(in, line)) {
    return Status::NotFound("process " + std::to_string(pid) + " is gone");
  }
  size_t close = line.rfind(')');
  if (close == std::string::npos) {
    return Status::Runtime("unreadable /proc/" + std::to_string(pid) + "/stat");
  }
  std::istringstream rest(line.substr(close + 1));
  std::vector<std::string> fields;
  std::string f;
  while (rest >> f) fields.push_back(f);
  if (fields.size() < 20) {
    return Status::Runtime("unreadable /proc/" + std::to_string(pid) + "/stat");
  }
  return fields;
}

// Field 22 of /proc/PID/stat (start time in clock ticks since boot); kNotFound when gone.
Result<unsigned long long> ReadStartTicks(pid_t pid) {
  auto fields = ReadStatFields(pid);
  if (!fields.ok()) return fields.status();
  return static_cast<unsigned long long>(Number((*fields)[19]));
}

Result<WorkerSample> SampleWorker(pid_t pid, unsigned long long start_ticks) {
  auto fields = ReadStatFields(pid);
  if (!fields.ok()) return fields.status();
  const auto& f = *fields;
  const std::string gone = "worker " + std::to_string(pid) + " is gone";
  if (Number(f[19]) != start_ticks || f[0] == "Z" || f[0] == "X") {
    return Status::NotFound(gone);
  }
  WorkerSample sample;
  sample.state = f[0][0];
  sample.cpu_ticks = Number(f[11]) + Number(f[12]);
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    std::istringstream fields_of(line);
    std::string key;
    uint64_t kib = 0;
    fields_of >> key >> kib;
    if (key == "VmRSS:") sample.rss_bytes = kib * 1024;
    if (key == "VmHWM:") sample.rss_peak_bytes = kib * 1024;
  }
  return sample;
}

// What LaunchChild hands the child: RunChild's arguments.
struct WorkerStart {
  const ChildPlan* plan;
  WorkerBody body;
  const void* arg;
};

void StartInChild(const void* start) {
  const auto* s = static_cast<const WorkerStart*>(start);
  RunChild(*s->plan, s->body, s->arg);
}

Result<ProcessInfo> StartWorker(const WorkerSetup& setup, WorkerBody body, const void* arg,
                                WorkerRecorder& recorder) {
  ChildPlan plan;
  plan.parent = ::getpid();
  std::strncpy(plan.comm, setup.comm.c_str(), sizeof plan.comm - 1);
  if (setup.oom_score_adj != 0) {
    plan.set_oom = true;
    std::snprintf(plan.oom_text, sizeof plan.oom_text, "%d", setup.oom_score_adj);
  }
  const std::string cgroup_procs =
      setup.cgroup_dir.empty() ? "" : setup.cgroup_dir + "/cgroup.procs";
  if (!cgroup_procs.empty()) plan.cgroup_procs = cgroup_procs.c_str();
  CPU_ZERO(&plan.cpus);
  if (setup.cpu) {
    if (*setup.cpu < 0 || *setup.cpu >= CPU_SETSIZE) {
      return Status::InvalidInput("cpu " + std::to_string(*setup.cpu) + " is out of range");
    }
    plan.pin = true;
    CPU_SET(*setup.cpu, &plan.cpus);
  }

  int ready[2], go[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) return Status::FromErrno(errno, "pipe");
  if (::pipe2(go, O_CLOEXEC) != 0) {
    int err = errno;
    ::close(ready[0]);
    ::close(ready[1]);
    return Status::FromErrno(err, "pipe");
  }
  plan.ready_write = ready[1];
  plan.go_read = go[0];

  // The child runs RunChild (no exec): it sets itself up from `plan` with system calls only.
  const WorkerStart start_in_child{&plan, body, arg};
  ChildLaunch launch;
  launch.body = StartInChild;
  launch.arg = &start_in_child;
  launch.what = "fork of a worker";
  Result<pid_t> launched = LaunchChild(launch);
  if (!launched.ok()) {
    for (int fd : {ready[0], ready[1], go[0], go[1]}) ::close(fd);
    return launched.status();
  }
  const pid_t pid = *launched;

  ::close(ready[1]);
  ::close(go[0]);
  auto fail = [&](Status s) -> Result<ProcessInfo> {
    ::close(ready[0]);
    ::close(go[1]);
    KillAndReap(pid);
    return s;
  };

  unsigned char step = 0;
  ssize_t n;
  do {
    n = ::read(ready[0], &step, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1) return fail(Status::Runtime("worker " + std::to_string(pid) + " exited at start"));
  if (step != kSetupOk) {
    std::string what = std::string("the kernel refused ") + SetupStepText(step);
    if (step == kSetupCgroup) what += " " + setup.cgroup_dir;
    if (step == kSetupAffinity) what += " " + std::to_string(*setup.cpu);
    return fail(Status::Runtime("worker " + std::to_string(pid) + ": " + what));
  }
  auto start_ticks = ReadStartTicks(pid);
  if (!start_ticks.ok()) return fail(start_ticks.status());

  ProcessInfo ref;
  ref.pid = pid;
  ref.start_ticks = *start_ticks;
  ref.name = plan.comm;
  ref.state = 'S';
  Status recorded = recorder.Record(ref);
  if (!recorded.ok()) return fail(recorded);

  const unsigned char start = 1;
  bool started = ::write(go[1], &start, 1) == 1;
  ::close(ready[0]);
  ::close(go[1]);
  if (!started) {
    KillAndReap(pid);
    return Status::Runtime("worker " + std::to_string(pid) + " exited before it started");
  }
  return ref;
}

Status KillWorker(pid_t pid, unsigned long long start_ticks, std::chrono::milliseconds timeout) {
  // The pidfd pins the process: once its start time matches, the signal cannot reach a later
  // process that reuses the pid.
  int fd = ::pidfd_open(pid, 0);
  if (fd < 0) {
    if (errno == ESRCH) return Status::Ok();
    return Status::FromErrno(errno, "pidfd_open " + std::to_string(pid));
  }
  auto ticks = ReadStartTicks(pid);
  if (!ticks.ok() || *ticks != start_ticks) {
    ::close(fd);
    return Status::Ok();
  }
  if (::pidfd_send_signal(fd, SIGKILL, nullptr, 0) != 0 && errno != ESRCH) {
    int err = errno;
    ::close(fd);
    return Status::FromErrno(err, "kill -9 " + std::to_string(pid));
  }
  struct pollfd p {
    fd, POLLIN, 0
  };
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int ready = 0;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    ready = ::poll(&p, 1, static_cast<int>(std::max<long long>(0, left.count())));
    if (ready >= 0 || errno != EINTR) break;
  }
  if (ready <= 0) {
    ::close(fd);
    return Status::Timeout("worker " + std::to_string(pid) + " did not exit within " +
                           std::to_string(timeout.count()) + " ms of SIGKILL");
  }
  // Reaps it when it is our child; ECHILD (another process's worker) is fine.
  siginfo_t info{};
  ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(fd), &info, WEXITED | WNOHANG);
  ::close(fd);
  return Status::Ok();
}

class SystemWorkers : public WorkerProcesses {
 public:
  Result<ProcessInfo> Start(const WorkerSetup& setup, WorkerBody body, const void* arg,
                            WorkerRecorder& recorder) override {
    return StartWorker(setup, body, arg, recorder);
  }
  Status Kill(pid_t pid, unsigned long long start_ticks,
              std::chrono::milliseconds timeout) override {
    return KillWorker(pid, start_ticks, timeout);
  }
  Result<WorkerSample> Sample(pid_t pid, unsigned long long start_ticks) override {
    return SampleWorker(pid, start_ticks);
  }
  long TicksPerSecond() override {
    static const long ticks = ::sysconf(_SC_CLK_TCK);
    return ticks > 0 ? ticks : 100;
  }
};

}  // namespace

WorkerProcesses& SystemWorkerProcesses() {
  static SystemWorkers workers;
  return workers;
}

}  // namespace ringfence
