#include "runner/cli.h"

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <map>

#include "core/base/duration.h"
#include "core/fault/fault.h"
#include "core/ledger/file_ledger.h"
#include "core/model/params.h"
#include "demo/demo_command.h"
#include "runner/experiment_runner.h"
#include "runner/host_command.h"
#include "runner/state_commands.h"
#include "runner/terminal.h"
#include "runner/watchdog.h"

namespace ringfence {

namespace {

using Args = std::vector<std::string>;

struct Command {
  const char* name;
  const char* usage;
  const char* summary;
  int (*run)(const Args& args);
};

int CmdRun(const Args& args);
int CmdValidate(const Args& args);
int CmdFaults(const Args& args);
int CmdDemo(const Args& args);
int CmdRecover(const Args& args);
int CmdStatus(const Args& args);
int CmdWatchdog(const Args& args);
int CmdHost(const Args& args) { return RunHostSubcommand(args); }

// The command table is also the help text.
const Command kCommands[] = {
    {"run",
     "FILE [--journal P] [--dry-run] [--var k=v]... [--secret k=v]... [--seed N] "
     "[--progress auto|always|never] [--check-sources] [--metrics-listen ADDR:PORT] "
     "[--pushgateway URL] "
     "[--state-dir D] [--allow-concurrent] [--watchdog-grace DURATION] [--max-targets N] "
     "[--inventory F] [--push-binary PATH]",
     "validate FILE, resolve its targets, check the steady state, inject its faults, revert them "
     "(always), check again, write the journal",
     CmdRun},
    {"validate", "[--var k=v]... FILE...",
     "check experiment files without running anything; exit 2 if any is invalid",
     CmdValidate},
    {"faults", "[--json]", "list the fault types with their parameters, defaults and limits",
     CmdFaults},
    {"demo", "[--scenario FILE] [--fleet-size N] [--journal P] [--var k=v]... [--seed N] [--state-dir D]",
     "start an embedded demo fleet, run a game day against it (default "
     "scenarios/demo-game-day.json), stop the fleet",
     CmdDemo},
    {"recover", "[--state-dir D] [--run ID] [--inventory F] [--secret k=v]...",
     "revert every fault the ledgers show as not reverted (newest first, idempotent); --secret "
     "gives a value an undo record names as [redacted:k]; exit 0 only when nothing is left, else 4 "
     "with how to undo the rest by hand (3: a ledger or the state dir is not trusted)",
     CmdRecover},
    {"status", "[--state-dir D]", "list runs, their state, and any fault still active with its deadline",
     CmdStatus},
    {"watchdog", "--ledger PATH --grace DURATION",
     "(internal, started by run) revert from the ledger when the runner's heartbeats stop or a "
     "deadline passes",
     CmdWatchdog},
    {"host",
     "ACTION [--state-dir D] [--run ID] [--grace DURATION] (JSON request on stdin)",
     "(internal, run over SSH on fleet hosts) the host side of a run: version, begin, match, "
     "prepare, plan, inject, observe, revert, heartbeat, end, watchdog; one JSON reply on stdout; "
     "session: many requests, one JSON line each, over one command",
     CmdHost},
};

const char* kGlobalOptions =
    "global options (before or after the command):\n"
    "  --log-format text|json   logs on stderr: readable (default) or one JSON object per line\n"
    "  --help                   this text, or a command's usage after the command\n"
    "  --version                print the version\n";

const char* kExitCodes =
    "exit codes: 0 passed; 1 failed, aborted or not steady; 2 invalid input (nothing touched);\n"
    "  3 runtime error (after reverting); 4 a revert failed (what is left is printed);\n"
    "  130 / 143 / 129 interrupted by SIGINT / SIGTERM / SIGHUP (after reverting)\n";

void PrintHelp() {
  std::printf("usage: ringfence <command> [options]\n\ncommands:\n");
  for (const auto& c : kCommands) {
    std::printf("  %-9s %s\n  %-9s   %s\n", c.name, c.usage, "", c.summary);
  }
  std::printf("\n%s\n%s", kGlobalOptions, kExitCodes);
}

void PrintCommandHelp(const Command& c) {
  std::printf("usage: ringfence %s %s\n\n%s\n\n%s\n%s", c.name, c.usage, c.summary, kGlobalOptions,
              kExitCodes);
}

int UsageError(const std::string& command, const std::string& message) {
  std::fprintf(stderr, "ringfence %s: %s (see ringfence %s --help)\n", command.c_str(),
               message.c_str(), command.c_str());
  return 2;
}

// Options shared by run and demo. Returns false (after printing) on a bad option.
struct RunFlags {
  std::vector<std::string> positional;
  RunRequest request;
  std::string progress = "auto";
  std::string scenario;
  int fleet_size = 0;  // 0: the scenario's or the default
};

bool ParseRunFlags(const std::string& command, const Args& args, bool demo, RunFlags& out,
                   int& error_code) {
  auto need = [&](size_t& i, const char* flag) -> const std::string* {
    if (i + 1 >= args.size()) {
      error_code = UsageError(command, std::string(flag) + " needs a value");
      return nullptr;
    }
    return &args[++i];
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--journal") {
      auto v = need(i, "--journal");
      if (!v) return false;
      out.request.journal = *v;
    } else if (a == "--dry-run" && !demo) {
      out.request.dry_run = true;
    } else if (a == "--var") {
      auto v = need(i, "--var");
      if (!v) return false;
      auto eq = v->find('=');
      if (eq == std::string::npos || eq == 0) {
        error_code = UsageError(command, "--var \"" + *v + "\": expected name=value");
        return false;
      }
      out.request.vars[v->substr(0, eq)] = v->substr(eq + 1);
    } else if (a == "--seed") {
      auto v = need(i, "--seed");
      if (!v) return false;
      char* end = nullptr;
      errno = 0;
      unsigned long long seed = std::strtoull(v->c_str(), &end, 10);
      if (v->empty() || *end != '\0' || errno != 0 || (*v)[0] == '-') {
        error_code = UsageError(command, "--seed \"" + *v + "\": expected an unsigned integer");
        return false;
      }
      out.request.seed = seed;
    } else if (a == "--progress" && !demo) {
      auto v = need(i, "--progress");
      if (!v) return false;
      if (*v != "auto" && *v != "always" && *v != "never") {
        error_code = UsageError(command, "--progress \"" + *v + "\": expected auto, always or never");
        return false;
      }
      out.progress = *v;
    } else if (a == "--secret") {
      auto v = need(i, "--secret");
      if (!v) return false;
      auto eq = v->find('=');
      if (eq == std::string::npos || eq == 0) {
        error_code = UsageError(command, "--secret: expected name=value");
        return false;
      }
      out.request.secrets[v->substr(0, eq)] = v->substr(eq + 1);
    } else if (a == "--state-dir") {
      auto v = need(i, "--state-dir");
      if (!v) return false;
      out.request.state_dir = *v;
    } else if (a == "--metrics-listen" || a == "--pushgateway") {
      auto v = need(i, a.c_str());
      if (!v) return false;
      (a == "--pushgateway" ? out.request.pushgateway : out.request.metrics_listen) = *v;
    } else if (a == "--check-sources") {
      out.request.check_sources = true;
    } else if (a == "--allow-concurrent" && !demo) {
      out.request.allow_concurrent = true;
    } else if (a == "--watchdog-grace" && !demo) {
      auto v = need(i, "--watchdog-grace");
      if (!v) return false;
      auto d = ParseDuration(*v);
      if (!d.ok() || d->count() < 100) {
        error_code = UsageError(command, "--watchdog-grace \"" + *v + "\": expected a duration of at least 100ms");
        return false;
      }
      out.request.watchdog_grace = *d;
    } else if (a == "--max-targets" && !demo) {
      auto v = need(i, "--max-targets");
      if (!v) return false;
      char* end = nullptr;
      long n = std::strtol(v->c_str(), &end, 10);
      if (v->empty() || *end != '\0' || n < 1) {
        error_code = UsageError(command, "--max-targets \"" + *v + "\": expected a whole number of at least 1");
        return false;
      }
      out.request.max_targets = static_cast<int>(n);
    } else if (a == "--inventory" && !demo) {
      auto v = need(i, "--inventory");
      if (!v) return false;
      out.request.inventory = *v;
    } else if (a == "--push-binary" && !demo) {
      auto v = need(i, "--push-binary");
      if (!v) return false;
      if (v->empty() || (*v)[0] != '/') {
        error_code = UsageError(command, "--push-binary \"" + *v +
                                             "\": expected an absolute path on the hosts");
        return false;
      }
      out.request.push_binary = *v;
    } else if (a == "--scenario" && demo) {
      auto v = need(i, "--scenario");
      if (!v) return false;
      out.scenario = *v;
    } else if (a == "--fleet-size" && demo) {
      auto v = need(i, "--fleet-size");
      if (!v) return false;
      char* end = nullptr;
      long n = std::strtol(v->c_str(), &end, 10);
      if (v->empty() || *end != '\0' || n < 1 || n > 64) {
        error_code = UsageError(command, "--fleet-size \"" + *v + "\": expected an integer from 1 to 64");
        return false;
      }
      out.fleet_size = static_cast<int>(n);
    } else if (a.size() > 1 && a[0] == '-') {
      error_code = UsageError(command, "unknown option " + a);
      return false;
    } else {
      out.positional.push_back(a);
    }
  }
  out.request.progress =
      out.progress == "always" || (out.progress == "auto" && StderrIsTerminal());
  return true;
}

int CmdRun(const Args& args) {
  RunFlags flags;
  int code = 0;
  if (!ParseRunFlags("run", args, false, flags, code)) return code;
  if (flags.positional.size() != 1) return UsageError("run", "expected exactly one experiment FILE");
  flags.request.file = flags.positional[0];
  return RunExperimentFile(flags.request);
}

int CmdDemo(const Args& args) {
  RunFlags flags;
  int code = 0;
  if (!ParseRunFlags("demo", args, true, flags, code)) return code;
  if (!flags.positional.empty()) return UsageError("demo", "unexpected argument " + flags.positional[0]);
  DemoRequest demo;
  demo.scenario = flags.scenario;
  demo.fleet_size = flags.fleet_size;
  demo.run = flags.request;
  demo.run.progress = true;
  return RunDemo(demo);
}

// Parses `--state-dir D` (and `--run ID` when `run_id` is given); false after printing.
bool ParseStateFlags(const std::string& command, const Args& args, std::string& state_dir,
                     std::string* run_id, int& code, std::string* inventory = nullptr) {
  for (size_t i = 0; i < args.size(); ++i) {
    if ((args[i] == "--state-dir" || (run_id && args[i] == "--run") ||
         (inventory && args[i] == "--inventory")) &&
        i + 1 < args.size()) {
      (args[i] == "--run" ? *run_id : args[i] == "--inventory" ? *inventory : state_dir) =
          args[i + 1];
      ++i;
    } else {
      code = UsageError(command, "unexpected argument " + args[i]);
      return false;
    }
  }
  if (state_dir.empty()) state_dir = DefaultStateDir();
  return true;
}

int CmdRecover(const Args& args) {
  std::string state_dir, run_id, inventory;
  SecretValues secrets;
  Args rest;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] != "--secret") {
      rest.push_back(args[i]);
      continue;
    }
    const std::string v = i + 1 < args.size() ? args[++i] : "";
    const auto eq = v.find('=');
    if (eq == std::string::npos || eq == 0) return UsageError("recover", "--secret: expected name=value");
    secrets.Add(v.substr(0, eq), v.substr(eq + 1));
  }
  int code = 0;
  if (!ParseStateFlags("recover", rest, state_dir, &run_id, code, &inventory)) return code;
  return RecoverStateDir(state_dir, run_id, inventory, secrets);
}

int CmdStatus(const Args& args) {
  std::string state_dir;
  int code = 0;
  if (!ParseStateFlags("status", args, state_dir, nullptr, code)) return code;
  return PrintStatus(state_dir);
}

int CmdWatchdog(const Args& args) {
  std::string ledger;
  std::chrono::milliseconds grace{3000};
  for (size_t i = 0; i + 1 < args.size(); i += 2) {
    if (args[i] == "--ledger") {
      ledger = args[i + 1];
    } else if (args[i] == "--grace") {
      auto d = ParseDuration(args[i + 1]);
      if (!d.ok()) return UsageError("watchdog", "--grace: " + d.status().message());
      grace = *d;
    } else {
      return UsageError("watchdog", "unexpected argument " + args[i]);
    }
  }
  if (ledger.empty() || args.size() % 2 != 0) return UsageError("watchdog", "expected --ledger PATH");
  return RunWatchdog(ledger, grace);
}

int CmdValidate(const Args& args) {
  std::map<std::string, std::string> vars;
  std::vector<std::string> files;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--var" && i + 1 < args.size()) {
      const std::string& v = args[++i];
      auto eq = v.find('=');
      if (eq == std::string::npos || eq == 0) {
        return UsageError("validate", "--var \"" + v + "\": expected name=value");
      }
      vars[v.substr(0, eq)] = v.substr(eq + 1);
    } else if (args[i].size() > 1 && args[i][0] == '-') {
      return UsageError("validate", "unknown option " + args[i]);
    } else {
      files.push_back(args[i]);
    }
  }
  if (files.empty()) return UsageError("validate", "expected at least one experiment FILE");
  int code = 0;
  for (const auto& file : files) {
    ValidationErrors errors;
    LoadOptions options;
    options.vars = vars;
    options.catalog = &FaultRegistry::Global();
    auto experiment = LoadExperimentFile(file, options, errors);
    if (!experiment) {
      for (const auto& line : errors.Format(file)) std::fprintf(stderr, "%s\n", line.c_str());
      code = 2;
      continue;
    }
    size_t faults = 0;
    for (const auto& s : experiment->method) faults += s.kind == MethodStep::Kind::kFault;
    std::printf("%s: ok (%zu steps, %zu faults)\n", file.c_str(), experiment->method.size(), faults);
  }
  return code;
}

// A limit or default as a person writes it: 1 rather than 1.0, durations as "250ms".
std::string LimitText(const nlohmann::json& v) {
  if (v.is_number_float() && v.get<double>() == static_cast<double>(static_cast<long long>(v.get<double>()))) {
    return std::to_string(static_cast<long long>(v.get<double>()));
  }
  return v.is_string() ? v.get<std::string>() : v.dump();
}

int CmdFaults(const Args& args) {
  bool json = false;
  for (const auto& a : args) {
    if (a == "--json") json = true;
    else return UsageError("faults", "unknown argument " + a);
  }
  auto all = FaultRegistry::Global().All();
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto* f : all) out.push_back(DeclToJson(f->Declaration()));
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  for (const auto* f : all) {
    const nlohmann::json d = DeclToJson(f->Declaration());
    std::printf("%s (%s fault)\n  %s\n", d.value("name", "").c_str(),
                d.value("target_kind", "").c_str(), d.value("summary", "").c_str());
    if (d["params"].empty()) std::printf("  (no parameters)\n");
    for (const auto& p : d["params"]) {
      std::string line = "  " + p.value("name", "") + " (" + p.value("type", "");
      line += p.value("required", false) ? ", required" : ", optional";
      if (p.contains("default")) line += ", default " + p["default"].dump();
      if (p.contains("min")) line += ", min " + LimitText(p["min"]);
      if (p.contains("max")) line += ", max " + LimitText(p["max"]);
      if (p.contains("choices")) {
        line += ", one of";
        for (const auto& c : p["choices"]) line += " " + c.get<std::string>();
      }
      line += "): " + p.value("doc", "");
      std::printf("%s\n", line.c_str());
    }
    std::printf("\n");
  }
  return 0;
}

}  // namespace

int RunCli(int argc, char** argv) {
  Args args(argv + 1, argv + argc);
  // Global options may stand anywhere.
  LogFormat format = LogFormat::kText;
  bool help = false;
  Args rest;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--version") {
      std::printf("ringfence %s\n", RINGFENCE_VERSION);
      return 0;
    } else if (args[i] == "--help" || args[i] == "-h") {
      help = true;
    } else if (args[i] == "--log-format") {
      if (i + 1 >= args.size() || (args[i + 1] != "text" && args[i + 1] != "json")) {
        std::fprintf(stderr, "ringfence: --log-format expects text or json\n");
        return 2;
      }
      format = args[++i] == "json" ? LogFormat::kJson : LogFormat::kText;
    } else {
      rest.push_back(args[i]);
    }
  }
  SetupLogging(format);
  if (rest.empty()) {
    PrintHelp();
    return help ? 0 : 2;
  }
  for (const auto& c : kCommands) {
    if (rest[0] == c.name) {
      if (help) {
        PrintCommandHelp(c);
        return 0;
      }
      // The last net: whatever a library still throws ends the command with exit 3 and a
      // message. The engine's Run never throws (it reverts on every path), so by the time an
      // exception reaches here nothing is left injected by this process.
      try {
        return c.run(Args(rest.begin() + 1, rest.end()));
      } catch (const std::exception& e) {
        std::fprintf(stderr, "ringfence: internal error: %s\n", e.what());
      } catch (...) {
        std::fprintf(stderr, "ringfence: internal error: an unknown exception\n");
      }
      return 3;
    }
  }
  std::fprintf(stderr, "ringfence: unknown command '%s' (commands:", rest[0].c_str());
  for (const auto& c : kCommands) std::fprintf(stderr, " %s", c.name);
  std::fprintf(stderr, ")\n");
  return 2;
}

}  // namespace ringfence
