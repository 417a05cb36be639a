#pragma once

#include <memory>

#include "core/base/env.h"
#include "core/sys/system_clock.h"

namespace ringfence {

// The real Env: commands through core/sys/run_command.h, HTTP through libcurl
// (core/sys/http_client.h), files through SystemFileSystem() (core/sys/system_file_system.h),
// workers through SystemWorkerProcesses() (core/sys/system_worker_processes.h), entropy from
// std::random_device. Processes and the clock are the system's unless given (a test may hand a fake
// table or clock and keep real commands). Thread-safe.
class SystemEnv : public Env {
 public:
  // The system process table (/proc, pidfds) and SystemClock().
  SystemEnv();
  // `processes` and `clock` must outlive this Env.
  explicit SystemEnv(ProcessTable& processes, Clock& clock = SystemClock());
  ~SystemEnv() override;

  ProcessTable& processes() override { return processes_; }
  Clock& clock() override { return clock_; }
  FileSystem& files() override;
  WorkerProcesses& workers() override;
  Result<CommandResult> Run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                            const StopSource* stop = nullptr) override;
  Result<CommandResult> RunWithInput(const std::vector<std::string>& argv, const std::string& input,
                                     std::chrono::milliseconds timeout) override;
  Result<CommandResult> RunControlled(const std::vector<std::string>& argv,
                                      std::chrono::milliseconds timeout,
                                      const CommandControl& control,
                                      CommandHalt* halt = nullptr) override;
  Result<HttpResponse> Fetch(const HttpRequest& request) override;
  uint32_t RandomU32() override;

 private:
  std::unique_ptr<ProcessTable> owned_processes_;
  ProcessTable& processes_;
  Clock& clock_;
};

}  // namespace ringfence
