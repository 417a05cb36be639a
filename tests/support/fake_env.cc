#include "tests/support/fake_env.h"

#include <utility>

namespace ringfence::testing {

namespace {

// The table fake workers are added to: the Env's when it is a fake one.
FakeProcessTable& WorkerTable(ProcessTable& processes, FakeProcessTable& own) {
  auto* fake = dynamic_cast<FakeProcessTable*>(&processes);
  return fake != nullptr ? *fake : own;
}

}  // namespace

FakeEnv::FakeEnv()
    : processes_(own_processes_), clock_(own_clock_), workers_(own_processes_), random_(42) {}

FakeEnv::FakeEnv(ProcessTable& processes, Clock& clock, uint32_t seed)
    : processes_(processes),
      clock_(clock),
      workers_(WorkerTable(processes, own_processes_)),
      random_(seed) {}

void FakeEnv::OnCommand(CommandHandler handler) {
  std::lock_guard<std::mutex> lock(mu_);
  on_command_ = std::move(handler);
}

void FakeEnv::OnHttp(HttpHandler handler) {
  std::lock_guard<std::mutex> lock(mu_);
  on_http_ = std::move(handler);
}

std::vector<FakeEnv::CommandCall> FakeEnv::commands() const {
  std::lock_guard<std::mutex> lock(mu_);
  return commands_;
}

std::vector<std::string> FakeEnv::command_lines() const {
  std::vector<std::string> lines;
  for (const CommandCall& call : commands()) {
    std::string line;
    for (const std::string& arg : call.argv) line += (line.empty() ? "" : " ") + arg;
    lines.push_back(line);
  }
  return lines;
}

std::vector<HttpRequest> FakeEnv::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

Result<CommandResult> FakeEnv::Record(CommandCall call) {
  CommandHandler handler;
  {
    std::lock_guard<std::mutex> lock(mu_);
    commands_.push_back(call);
    handler = on_command_;
  }
  if (handler) return handler(call);
  CommandResult ok;
  ok.exit_code = 0;
  return ok;
}

Result<CommandResult> FakeEnv::Run(const std::vector<std::string>& argv, std::chrono::milliseconds,
                                   const StopSource*) {
  return Record({argv, "", false});
}

Result<CommandResult> FakeEnv::RunWithInput(const std::vector<std::string>& argv,
                                            const std::string& input, std::chrono::milliseconds) {
  return Record({argv, input, false});
}

Result<CommandResult> FakeEnv::RunControlled(const std::vector<std::string>& argv,
                                             std::chrono::milliseconds, const CommandControl&,
                                             CommandHalt*) {
  return Record({argv, "", true});
}

Result<HttpResponse> FakeEnv::Fetch(const HttpRequest& request) {
  HttpHandler handler;
  {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(request);
    handler = on_http_;
  }
  if (handler) return handler(request);
  HttpResponse ok;
  ok.status = 200;
  return ok;
}

uint32_t FakeEnv::RandomU32() {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<uint32_t>(random_());
}

}  // namespace ringfence::testing
