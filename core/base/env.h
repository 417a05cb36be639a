#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/base/clock.h"
#include "core/base/command.h"
#include "core/base/file_system.h"
#include "core/base/http.h"
#include "core/base/process_table.h"
#include "core/base/status.h"
#include "core/base/worker_processes.h"

namespace ringfence {

// Every side effect a fault, probe, rollback, guard or watchdog makes goes through an Env handed
// to it (like LevelDB's Env): processes (and worker processes), running commands, HTTP, the file
// system, the clocks and randomness. The real one is core/sys/system_env.h; tests hand a fake
// (tests/support/fake_env.h) or wrap the real one in an EnvWrapper that overrides one method. Every
// method is thread-safe.
class Env {
 public:
  virtual ~Env() = default;

  // Signals and /proc (core/base/process_table.h).
  virtual ProcessTable& processes() = 0;
  // Wall and monotonic time, sleeps.
  virtual Clock& clock() = 0;
  // The file system where a fault writes (core/base/file_system.h).
  virtual FileSystem& files() = 0;
  // The worker processes a fault forks to make load (core/base/worker_processes.h).
  virtual WorkerProcesses& workers() = 0;

  // Runs `argv` (no shell) with a timeout, in a process group of its own that dies with the
  // runner; `stop` (when given) kills the group at once. Errors only when it could not start
  // (kNotFound for a missing program); a non-zero exit is a result. See core/sys/run_command.h.
  virtual Result<CommandResult> Run(const std::vector<std::string>& argv,
                                    std::chrono::milliseconds timeout,
                                    const StopSource* stop = nullptr) = 0;
  // Run, with `input` written to the child's stdin, then EOF (up to 1 MiB of each output kept).
  virtual Result<CommandResult> RunWithInput(const std::vector<std::string>& argv,
                                             const std::string& input,
                                             std::chrono::milliseconds timeout) = 0;
  // Run that can be halted from another thread (core/base/command.h, CommandControl).
  virtual Result<CommandResult> RunControlled(const std::vector<std::string>& argv,
                                              std::chrono::milliseconds timeout,
                                              const CommandControl& control,
                                              CommandHalt* halt = nullptr) = 0;

  // One HTTP exchange (core/base/http.h). Any status code is a response; only transport failures
  // are errors (kTimeout, kUnavailable, kRuntime when `request.stop` was requested).
  virtual Result<HttpResponse> Fetch(const HttpRequest& request) = 0;

  // 32 bits of entropy, for what must differ between runs (a run's seed when none is given, a
  // run id's suffix). What must replay takes a recorded seed instead.
  virtual uint32_t RandomU32() = 0;

  // Fetch of a GET.
  Result<HttpResponse> Get(const std::string& url, std::chrono::milliseconds timeout) {
    HttpRequest request;
    request.url = url;
    request.timeout = timeout;
    return Fetch(request);
  }
};

// Forwards every call to another Env, so that a test double or a router overrides only the
// methods it changes. `target` must outlive the wrapper.
class EnvWrapper : public Env {
 public:
  explicit EnvWrapper(Env& target) : target_(target) {}
  Env& target() const { return target_; }

  ProcessTable& processes() override { return target_.processes(); }
  Clock& clock() override { return target_.clock(); }
  FileSystem& files() override { return target_.files(); }
  WorkerProcesses& workers() override { return target_.workers(); }
  Result<CommandResult> Run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                            const StopSource* stop = nullptr) override {
    return target_.Run(argv, timeout, stop);
  }
  Result<CommandResult> RunWithInput(const std::vector<std::string>& argv, const std::string& input,
                                     std::chrono::milliseconds timeout) override {
    return target_.RunWithInput(argv, input, timeout);
  }
  Result<CommandResult> RunControlled(const std::vector<std::string>& argv,
                                      std::chrono::milliseconds timeout,
                                      const CommandControl& control,
                                      CommandHalt* halt = nullptr) override {
    return target_.RunControlled(argv, timeout, control, halt);
  }
  Result<HttpResponse> Fetch(const HttpRequest& request) override { return target_.Fetch(request); }
  uint32_t RandomU32() override { return target_.RandomU32(); }

 private:
  Env& target_;
};

}  // namespace ringfence
