#include "core/sys/system_env.h"

#include <random>

#include "core/sys/http_client.h"
#include "core/sys/run_command.h"
#include "core/sys/system_file_system.h"
#include "core/sys/system_process_table.h"
#include "core/sys/system_worker_processes.h"

namespace ringfence {

SystemEnv::SystemEnv()
    : owned_processes_(MakeSystemProcessTable()),
      processes_(*owned_processes_),
      clock_(SystemClock()) {}

SystemEnv::SystemEnv(ProcessTable& processes, Clock& clock)
    : processes_(processes), clock_(clock) {}

SystemEnv::~SystemEnv() = default;

FileSystem& SystemEnv::files() { return SystemFileSystem(); }

WorkerProcesses& SystemEnv::workers() { return SystemWorkerProcesses(); }

Result<CommandResult> SystemEnv::Run(const std::vector<std::string>& argv,
                                     std::chrono::milliseconds timeout, const StopSource* stop) {
  return RunCommand(argv, timeout, stop);
}

Result<CommandResult> SystemEnv::RunWithInput(const std::vector<std::string>& argv,
                                              const std::string& input,
                                              std::chrono::milliseconds timeout) {
  return RunCommandWithInput(argv, input, timeout);
}

Result<CommandResult> SystemEnv::RunControlled(const std::vector<std::string>& argv,
                                               std::chrono::milliseconds timeout,
                                               const CommandControl& control, CommandHalt* halt) {
  return RunControlledCommand(argv, timeout, control, halt);
}

Result<HttpResponse> SystemEnv::Fetch(const HttpRequest& request) { return HttpFetch(request); }

uint32_t SystemEnv::RandomU32() {
  // One device per call, as the runner did before: nothing shared between threads.
  std::random_device device;
  return device();
}

}  // namespace ringfence
