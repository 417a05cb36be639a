#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/base/secret_values.h"
#include "runner/base/terminal.h"
#include "runner/commands/convert_command.h"
#include "runner/commands/history_command.h"
#include "runner/commands/init_command.h"
#include "runner/commands/map_command.h"
#include "runner/commands/report_command.h"
#include "runner/commands/schedule_commands.h"
#include "runner/commands/suite_command.h"
#include "runner/host/host_command.h"
#include "runner/run/experiment_runner.h"
#include "runner/schedule/scheduler.h"

namespace ringfence {

// A command line, parsed against the one declaration of the commands and their options
// (runner/cli/cli.cc): which command, and its options converted and checked. `ringfence help
// --markdown` prints that declaration as docs/cli.md's tables.
struct CommandLine {
  std::string command;  // "run", "validate", …; "" for `ringfence` alone or an unknown command
  LogFormat log_format = LogFormat::kText;
  int verbosity = 0;         // -v (+1 each) and -q (-1 each): the log level, info at 0
  bool version = false;      // --version anywhere: print the version and build, nothing else
  bool help = false;         // --help anywhere, or `ringfence help [COMMAND]`
  std::string help_command;  // whose help: `command`, or help's COMMAND ("" for the overview)
  bool markdown = false;     // help --markdown: docs/cli.md's tables
  RunRequest run;            // run; demo's run options
  DemoRequest demo;          // demo (its `run` is filled from `run`)
  ConvertRequest convert;    // convert
  std::map<std::string, std::string> vars;  // validate --var
  std::vector<std::string> files;           // validate FILE...
  SuiteOptions suite;                       // run FILE... and suite FILE: the suite options
  MapRequest map;                           // map FILE and its options (its `run` from `run`)
  std::vector<std::string> var_files;       // validate --var-file
  bool templates = false;                   // validate --templates
  bool json = false;                        // faults --json, status --json
  std::string state_dir;                    // recover, status (DefaultStateDir() if not given)
  std::string run_id;                       // recover --run
  std::string inventory;                    // recover --inventory
  SecretValues secrets;                     // recover --secret
  std::string ledger;                       // watchdog --ledger
  std::chrono::milliseconds grace{3000};    // watchdog --grace
  HostOptions host;                         // host ACTION and its options
  ReportRequest report;                     // report JOURNAL and its options

  std::string man_dir;                   // help --man DIR: write the man pages there
  bool bash_completion = false;          // help --bash-completion: print the completion script
  std::vector<std::string> fault_types;  // faults TYPE...
  InitRequest init;                      // init

  ScheduleRequest schedule;    // schedule ACTION [FILE] and its options
  SchedulerRequest scheduler;  // scheduler FILE and its options
  HistoryRequest history;      // history and its options
  // Not empty when the line cannot be used: the whole message for stderr (exit 2), e.g.
  // "ringfence run: --seed \"x\": expected an unsigned integer (see ringfence run --help)".
  std::string error;
};

// Parses `args` (argv without the program name). `--opt value` and `--opt=value` both work,
// `--` ends the options, and `-` names standard input where a file is read. Never throws and
// has no side effect (nothing is read; standard input is only named).
CommandLine ParseCommandLine(const std::vector<std::string>& args);

// `ringfence --help` (for "") or `ringfence COMMAND --help`: usage, every option with its
// description, the global options and the exit codes. "" for a command that does not exist.
std::string HelpText(const std::string& command);

// `ringfence help --markdown`: the command table and one option table per command, as
// docs/cli.md holds them between its "generated" markers (scripts/gen-cli-docs).
std::string MarkdownTables();

// What `ringfence demo` runs: demo/demo_command.cc sets it at start-up (RINGFENCE_DEMO_COMMAND).
// Unset (a binary without demo/), the demo command says so and exits 2.
using DemoCommand = std::function<int(const DemoRequest&)>;
void SetDemoCommand(DemoCommand command);

// The whole command line: `ringfence <command> [args]`. Returns the process exit code.
int RunCli(int argc, char** argv);

}  // namespace ringfence
