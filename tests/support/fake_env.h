#pragma once

#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "core/base/env.h"
#include "tests/support/fake_clock.h"
#include "tests/support/fake_file_system.h"
#include "tests/support/fake_process_table.h"
#include "tests/support/fake_worker_processes.h"

namespace ringfence::testing {

// An Env with no real side effect, for unit tests: processes and the clock are the given fakes
// (its own FakeProcessTable and FakeClock unless given), files are its own FakeFileSystem, and
// workers are FakeWorkerProcesses on the table when it is a FakeProcessTable (else on its own);
// every command and HTTP request is
// recorded in order and answered by a handler (by default: a command exits 0 with no output, a
// request gets 200 with an empty body); RandomU32 comes from a generator seeded with `seed`.
// Thread-safe.
class FakeEnv : public Env {
 public:
  struct CommandCall {
    std::vector<std::string> argv;
    std::string input;        // RunWithInput's
    bool controlled = false;  // through RunControlled
  };
  using CommandHandler = std::function<Result<CommandResult>(const CommandCall&)>;
  using HttpHandler = std::function<Result<HttpResponse>(const HttpRequest&)>;

  FakeEnv();
  FakeEnv(ProcessTable& processes, Clock& clock, uint32_t seed = 42);

  // The table and clock of an Env made without them.
  FakeProcessTable& fake_processes() { return own_processes_; }
  FakeClock& fake_clock() { return own_clock_; }
  FakeFileSystem& fake_files() { return files_; }
  FakeWorkerProcesses& fake_workers() { return workers_; }

  // Answers every later command / request.
  void OnCommand(CommandHandler handler);
  void OnHttp(HttpHandler handler);

  std::vector<CommandCall> commands() const;
  // The argvs of the commands, each joined with spaces: "nft -f -".
  std::vector<std::string> command_lines() const;
  std::vector<HttpRequest> requests() const;

  ProcessTable& processes() override { return processes_; }
  Clock& clock() override { return clock_; }
  FileSystem& files() override { return files_; }
  WorkerProcesses& workers() override { return workers_; }
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
  Result<CommandResult> Record(CommandCall call);

  FakeProcessTable own_processes_;
  FakeClock own_clock_;
  ProcessTable& processes_;
  Clock& clock_;
  FakeFileSystem files_;
  FakeWorkerProcesses workers_;
  mutable std::mutex mu_;
  std::vector<CommandCall> commands_;
  std::vector<HttpRequest> requests_;
  CommandHandler on_command_;
  HttpHandler on_http_;
  std::mt19937 random_;
};

}  // namespace ringfence::testing
