#include "runner/cli/cli.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/base/duration.h"
#include "core/base/input_file.h"
#include "core/fault/fault.h"
#include "core/ledger/file_ledger.h"
#include "core/model/params.h"
#include "runner/cli/build_info.h"
#include "runner/cli/cli_description.h"
#include "runner/cli/cli_generators.h"
#include "runner/commands/init_command.h"
#include "runner/commands/state_commands.h"
#include "runner/commands/suite_command.h"
#include "runner/commands/template_validation.h"
#include "runner/host/host_command.h"
#include "runner/run/ctk_source.h"
#include "runner/run/experiment_runner.h"
#include "runner/watchdog/watchdog.h"

namespace ringfence {

namespace {

// "ringfence run: <message> (see ringfence run --help)"; "ringfence: <message>" outside a command.
std::string UsageMessage(const std::string& command, const std::string& message) {
  if (command.empty()) return "ringfence: " + message;
  return "ringfence " + command + ": " + message + " (see ringfence " + command + " --help)";
}

// Why a value was refused ("" when it was taken): the check of one option, which stores the
// converted value itself.
using Take = std::function<std::string(const std::string& value)>;

// Option groups: how the help and the tables list an option.
constexpr const char* kGlobalGroup = "global";  // on every command; listed once
constexpr const char* kOptionsGroup = "options";

// Declares the options of one command (or of the top level) so that a refused value becomes
// the line's error, in the command's usage form; the first error wins.
class Declarer {
 public:
  Declarer(CLI::App& app, CommandLine& line, std::string command)
      : app_(app), line_(line), command_(std::move(command)) {}

  CommandLine& line() { return line_; }
  const std::string& command() const { return command_; }
  CLI::App& app() { return app_; }

  void Fail(const std::string& message) {
    if (line_.error.empty()) line_.error = UsageMessage(command_, message);
  }

  // `--flag VALUE` (or `--flag=VALUE`); given twice, the last one counts.
  CLI::Option* Value(const std::string& flag, const std::string& value_name,
                     const std::string& help, Take take, const std::string& default_text = "") {
    CLI::Option* o = app_.add_option_function<std::string>(
        flag, [this, flag, take](const std::string& v) { Check(flag, take, v); }, help);
    o->type_name(value_name)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast)
        ->group(kOptionsGroup);
    if (!default_text.empty()) o->default_str(default_text);
    return o;
  }

  // `--flag VALUE`, repeatable: one value each time.
  CLI::Option* Repeated(const std::string& flag, const std::string& value_name,
                        const std::string& help, Take take) {
    CLI::Option* o = app_.add_option_function<std::vector<std::string>>(
        flag,
        [this, flag, take](const std::vector<std::string>& values) {
          for (const auto& v : values) Check(flag, take, v);
        },
        help);
    o->type_name(value_name)
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
        ->group(kOptionsGroup);
    return o;
  }

  CLI::Option* Flag(const std::string& flag, bool& target, const std::string& help) {
    return app_.add_flag(flag, target, help)->group(kOptionsGroup);
  }

  // Positional arguments (checked by the command's Finally); `usage` is how the usage line
  // shows them ("FILE", "FILE..."). What follows `--` on the line is added to them.
  CLI::Option* Positional(const std::string& name, const std::string& usage,
                          std::vector<std::string>& target, const std::string& help) {
    positionals_ = &target;
    return app_.add_option(name, target, help)->type_name(usage)->group(kOptionsGroup);
  }

  // Checks the command's options together, once the line is parsed (and only if it parsed).
  void Finally(std::function<void()> check) { finally_ = std::move(check); }

  // The line parsed for this command; `after_dashes` is what stood after `--`.
  void Finish(const std::vector<std::string>& after_dashes) {
    if (!after_dashes.empty()) {
      if (positionals_ == nullptr) return Fail("unexpected argument " + after_dashes.front());
      positionals_->insert(positionals_->end(), after_dashes.begin(), after_dashes.end());
    }
    if (finally_) finally_();
  }

 private:
  void Check(const std::string& flag, const Take& take, const std::string& v) {
    if (!line_.error.empty()) return;
    const std::string why = take(v);
    if (!why.empty()) Fail(flag + " \"" + v + "\": " + why);
  }

  CLI::App& app_;
  CommandLine& line_;
  std::string command_;
  std::vector<std::string>* positionals_ = nullptr;
  std::function<void()> finally_;
};

// Helpers for Take: parse `v` into `out`, "" or why not.
std::string TakeNameValue(const std::string& v, std::map<std::string, std::string>& out) {
  const auto eq = v.find('=');
  if (eq == std::string::npos || eq == 0) return "expected name=value";
  out[v.substr(0, eq)] = v.substr(eq + 1);
  return "";
}

std::string TakeDuration(const std::string& v, std::chrono::milliseconds& out) {
  auto d = ParseDuration(v);
  if (!d.ok() || d->count() < 100) return "expected a duration of at least 100ms";
  out = *d;
  return "";
}

std::string TakeWholeNumber(const std::string& v, long min, long max, int& out,
                            const std::string& why) {
  char* end = nullptr;
  errno = 0;
  const long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno != 0 || n < min || n > max) return why;
  out = static_cast<int>(n);
  return "";
}

Take Into(std::string& target) {
  return [&target](const std::string& v) {
    target = v;
    return std::string();
  };
}

// ---- the global options: on the top level and on every command -------------------------

void DeclareGlobalOptions(Declarer& d) {
  CommandLine& line = d.line();
  d.app()
      .add_option_function<std::string>(
          "--log-format",
          [&line](const std::string& v) {
            if (v == "text" || v == "json") {
              line.log_format = v == "json" ? LogFormat::kJson : LogFormat::kText;
            } else if (line.error.empty()) {
              line.error = UsageMessage("", "--log-format expects text or json");
            }
          },
          "logs on stderr: readable (default) or one JSON object per line with time, level, msg")
      ->type_name("text|json")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast)
      ->group(kGlobalGroup);
  d.app()
      .add_flag("--help,-h", line.help, "this text, or a command's options after the command")
      ->group(kGlobalGroup);
  d.app()
      .add_flag("--version", line.version,
                "print the version and the build (git commit, build type, compiler)")
      ->group(kGlobalGroup);
  d.app()
      .add_flag_function(
          "-q,--quiet", [&line](int64_t count) { line.verbosity -= static_cast<int>(count); },
          "-q: quieter logs on stderr, warnings and errors only (-qq: errors only)")
      ->group(kGlobalGroup);
  d.app()
      .add_flag_function(
          "-v,--verbose", [&line](int64_t count) { line.verbosity += static_cast<int>(count); },
          "-v: louder logs on stderr, debug lines too (-vv: trace)")
      ->group(kGlobalGroup);
}

// ---- the commands ------------------------------------------------------------------------

// What DefaultStateDir() is, for the help.
constexpr const char* kDefaultStateDirText =
    "/var/lib/ringfence for root, else $XDG_STATE_HOME/ringfence or ~/.local/state/ringfence";

// Options shared by run and demo (demo has no --dry-run, --progress, … of its own).
struct RunOptionStorage {
  std::vector<std::string> files;
  std::string progress = "auto";
};

// A --var-file F: read when the command runs (parsing reads nothing).
void DeclareVarFile(Declarer& d, std::vector<std::string>& files) {
  d.Repeated("--var-file", "F",
             "a JSON object or a YAML mapping (.yaml, .yml) of placeholder values (strings, "
             "numbers, true/false); --var beats it, it beats the environment, a later file "
             "beats an earlier one",
             [&files](const std::string& v) {
               files.push_back(v);
               return std::string();
             });
}

void DeclareSharedRunOptions(Declarer& d, RunRequest& r, bool with_journal = true) {
  if (with_journal) {
    d.Value("--journal", "P",
            "where the journal goes, written atomically (temporary file, fsync, rename)",
            Into(r.journal), "ringfence-journal.json");
  }
  d.Repeated("--var", "k=v", "fills ${k} placeholders; wins over the environment",
             [&r](const std::string& v) { return TakeNameValue(v, r.vars); });
  DeclareVarFile(d, d.line().suite.var_files);
  d.Repeated("--secret", "k=v",
             "like --var, but the value is always redacted (journal, ledger, logs, output)",
             [&d, &r](const std::string& v) {
               // The value is a secret: the error never repeats it.
               if (TakeNameValue(v, r.secrets).empty()) return std::string();
               d.Fail("--secret: expected name=value");
               return std::string();
             });
  d.Value("--seed", "N",
          "the seed for random target selection (overrides settings.seed); always recorded in "
          "the journal",
          [&r](const std::string& v) {
            char* end = nullptr;
            errno = 0;
            const unsigned long long seed = std::strtoull(v.c_str(), &end, 10);
            if (v.empty() || *end != '\0' || errno != 0 || v[0] == '-') {
              return std::string("expected an unsigned integer");
            }
            r.seed = seed;
            return std::string();
          });
  d.Value("--state-dir", "D", "where ledgers and the lock live (made 0700)", Into(r.state_dir),
          kDefaultStateDirText);
  d.Flag("--check-sources", r.check_sources,
         "read every guard's source once before anything is injected; one that cannot be read "
         "ends the run with exit 2");
  d.Value("--metrics-listen", "ADDR:PORT",
          "serve the runner's own metrics on http://ADDR:PORT/metrics while the run lasts",
          Into(r.metrics_listen));
  d.Value("--pushgateway", "URL",
          "push the final result to a Prometheus Pushgateway under job ringfence",
          Into(r.pushgateway));
  // Reports (docs/reports.md): written at the end, also of a failed or aborted run.
  d.Value("--report", "F",
          "write the HTML report of the run to F at its end (one self-contained page)",
          Into(r.report_html));
  d.Value("--junit", "F", "write the run as JUnit XML to F at its end", Into(r.report_junit));
  d.Value("--summary", "F", "write a Markdown summary of the run to F at its end",
          Into(r.report_summary));
}

// Tag names separated by commas ("web,db").
std::string TakeTags(const std::string& v, std::vector<std::string>& out) {
  std::vector<std::string> tags;
  size_t start = 0;
  while (true) {
    const size_t comma = v.find(',', start);
    std::string tag =
        v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (tag.empty()) return "expected tag names separated by commas";
    tags.push_back(tag);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  out = tags;
  return "";
}

// The options of a suite (run with several files, suite FILE).
void DeclareSuiteOptions(Declarer& d, SuiteOptions& s) {
  d.Value("--journal-dir", "D",
          "a suite's journals: one per experiment, named after its file (<name>.journal.json; "
          "made if missing) (default ringfence-journals)",
          Into(s.journal_dir));
  d.Flag("--fail-fast", s.fail_fast,
         "a suite stops after the first experiment that does not pass; the rest are skipped (a "
         "Chaos Toolkit experiment: stop at the first deviation of its hypothesis)");
  d.Value("--tags", "a,b", "a suite runs only the experiments with one of these tags",
          [&s](const std::string& v) { return TakeTags(v, s.tags); });
  d.Value("--skip-tags", "a,b", "a suite skips the experiments with one of these tags",
          [&s](const std::string& v) { return TakeTags(v, s.skip_tags); });
}

// Game days (docs/game-days.md): run and demo.
void DeclareGameDayOptions(Declarer& d, RunRequest& r) {
  d.Flag("--step", r.step_mode,
         "stop before each method step and ask: c runs it, s skips it, a aborts (needs the "
         "dashboard's keys or --control-listen)");
  d.Value("--only", "steady-state",
          "check the steady state and read every guard's source, inject nothing; exit 0 when "
          "it holds",
          [&r](const std::string& v) {
            if (v != "steady-state") return std::string("expected steady-state");
            r.only_steady_state = true;
            return std::string();
          });
  d.Value("--from", "STEP",
          "start the method at the step of that name (the steady state is still checked first)",
          Into(r.from_step));
  d.Value("--to", "STEP", "end the method after the step of that name", Into(r.to_step));
  d.Value("--control-listen", "ADDR:PORT",
          "serve the control API and its page on http://ADDR:PORT/ while the run lasts",
          Into(r.control_listen));
  d.Value("--control-token-file", "F",
          "the control API's bearer tokens, `name token` a line (owner-only); without it only "
          "loopback clients may connect, and only to look",
          Into(r.control_token_file));
}

// What DeclareGameDayOptions' options allow together; "" when they do.
std::string GameDayOptionsError(const RunRequest& r) {
  if (r.only_steady_state && (r.step_mode || !r.from_step.empty() || !r.to_step.empty())) {
    return "--only steady-state runs no method step: no --step, --from or --to";
  }
  if (!r.control_token_file.empty() && r.control_listen.empty()) {
    return "--control-token-file needs --control-listen";
  }
  return "";
}

// Options of Chaos Toolkit experiments (docs/chaos-toolkit.md), shared by run and convert.
std::string TakeOneOf(const std::string& v, const std::vector<std::string>& allowed,
                      std::string& out) {
  std::string list;
  for (size_t i = 0; i < allowed.size(); ++i) {
    if (v == allowed[i]) {
      out = v;
      return "";
    }
    list += (i == 0 ? "" : i + 1 == allowed.size() ? " or " : ", ") + allowed[i];
  }
  return "expected " + list;
}

// `run` has one --fail-fast for suites and Chaos Toolkit experiments (DeclareSuiteOptions).
void DeclareChaosToolkitOptions(Declarer& d, RunRequest& r, bool with_fail_fast) {
  d.Value(
      "--format", "auto|ctk|native",
      "the experiment's format: auto tells a Chaos Toolkit experiment by its keys",
      [&r](const std::string& v) {
        return TakeOneOf(v, {"auto", "ctk", "native"}, r.format);
      },
      "auto");
  d.Value("--rollback-strategy", "S",
          "Chaos Toolkit experiments: when rollbacks run (default, always, never, deviated); "
          "faults are reverted whatever it says",
          [&r](const std::string& v) {
            return TakeOneOf(v, {"default", "always", "never", "deviated"}, r.rollback_strategy);
          });
  d.Value("--hypothesis-strategy", "S",
          "Chaos Toolkit experiments: when the steady-state hypothesis is checked (default, "
          "before-method-only, after-method-only, during-method, continuously)",
          [&r](const std::string& v) {
            return TakeOneOf(v,
                             {"default", "before-method-only", "after-method-only", "during-method",
                              "continuously"},
                             r.hypothesis_strategy);
          });
  d.Value("--hypothesis-frequency", "SECONDS",
          "Chaos Toolkit experiments: how often a during-method or continuously hypothesis is "
          "checked (seconds, or a duration such as 500ms; at least 50ms)",
          [&r](const std::string& v) {
            char* end = nullptr;
            errno = 0;
            const double seconds = std::strtod(v.c_str(), &end);
            Result<Duration> d = ParseDuration(v);
            std::chrono::milliseconds ms{0};
            if (!v.empty() && *end == '\0' && errno == 0 && seconds > 0 && seconds <= 86400) {
              ms = std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
            } else if (d.ok()) {
              ms = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
            }
            if (ms.count() < 50 || ms > std::chrono::hours(24)) {
              return std::string("expected seconds or a duration from 50ms to 24h");
            }
            r.hypothesis_frequency = ms;
            return std::string();
          });
  if (!with_fail_fast) return;
  d.Flag("--fail-fast", r.fail_fast,
         "Chaos Toolkit experiments: stop at the first deviation of a during-method or "
         "continuously hypothesis (ringfence always does: the run aborts and reverts)");
}

void DeclareRun(Declarer& d) {
  CommandLine& line = d.line();
  RunRequest& r = line.run;
  auto storage = std::make_shared<RunOptionStorage>();
  d.Positional("FILE", "FILE...", storage->files,
               "the experiment file (- reads standard input); several files or folders (their "
               "*.json, sorted) run as a suite under one lock");
  DeclareSharedRunOptions(d, r);
  DeclareSuiteOptions(d, line.suite);
  d.Flag("--dry-run", r.dry_run,
         "validate and resolve targets, print the plan (which fault hits which target, when, "
         "for how long, how it is undone) and exit 0; nothing is injected, no journal written");
  d.Value(
      "--progress", "auto|always|never",
      "the live status line on stderr; auto draws it when stderr is a terminal",
      [storage](const std::string& v) {
        if (v != "auto" && v != "always" && v != "never") {
          return std::string("expected auto, always or never");
        }
        storage->progress = v;
        return std::string();
      },
      "auto");
  d.Flag("--allow-concurrent", r.allow_concurrent,
         "do not take the state directory's lock (runs side by side on purpose)");
  d.Value(
      "--watchdog-grace", "DURATION",
      "how long the watchdog waits without a heartbeat before it reverts; also added to "
      "each fault's deadline (at least 100ms)",
      [&r](const std::string& v) { return TakeDuration(v, r.watchdog_grace); }, "3s");
  d.Value("--max-targets", "N",
          "refuse (exit 2) a run that would touch more than N targets (replaces "
          "settings.max_targets)",
          [&r](const std::string& v) {
            return TakeWholeNumber(v, 1, 1 << 30, r.max_targets,
                                   "expected a whole number of at least 1");
          });
  d.Value("--inventory", "F",
          "the hosts of targets with hosts (overrides the experiment's inventory; - reads "
          "standard input)",
          Into(r.inventory));
  d.Value("--limit", "PATTERN",
          "only the inventory hosts this Ansible host pattern matches (groups, hosts, * ? [..], "
          "~regex; ':' or ',' union, ':&' intersection, ':!' exclusion)",
          Into(r.limit));
  d.Value("--push-binary", "PATH",
          "copy this ringfence binary to PATH (absolute) on every host it uses and run that one "
          "there",
          [&r](const std::string& v) {
            if (v.empty() || v[0] != '/')
              return std::string("expected an absolute path on the hosts");
            r.push_binary = v;
            return std::string();
          });
  DeclareGameDayOptions(d, r);
  DeclareChaosToolkitOptions(d, r, /*with_fail_fast=*/false);
  d.Value(
      "--journal-format", "native|ctk",
      "ctk also writes a Chaos Toolkit-shaped journal.json beside the journal (Chaos Toolkit "
      "experiments only)",
      [&r](const std::string& v) {
        return TakeOneOf(v, {"native", "ctk"}, r.journal_format);
      },
      "native");
  d.Finally([&d, &line, storage] {
    if (storage->files.empty()) return d.Fail("expected at least one experiment FILE");
    SuiteOptions& suite = line.suite;
    suite.files = storage->files;
    suite.suite = storage->files.size() > 1 || !suite.journal_dir.empty() || !suite.tags.empty() ||
                  !suite.skip_tags.empty();
    line.run.fail_fast = suite.fail_fast;  // the one --fail-fast (DeclareChaosToolkitOptions)
    suite.journal_given = d.app().get_option("--journal")->count() > 0;
    if (suite.suite && suite.journal_given) {
      return d.Fail(
          "--journal names the journal of one run; a suite writes one per experiment "
          "in --journal-dir");
    }
    if (suite.suite && std::find(suite.files.begin(), suite.files.end(), kStandardInputName) !=
                           suite.files.end()) {
      return d.Fail("standard input (-) cannot be part of a suite");
    }
    if (const std::string e = GameDayOptionsError(line.run); !e.empty()) return d.Fail(e);
    line.run.file = storage->files[0];
    line.run.progress =
        storage->progress == "always" || (storage->progress == "auto" && StderrIsTerminal());
    if (line.run.file == kStandardInputName && line.run.inventory == kStandardInputName) {
      d.Fail("standard input (-) can be read only once");
    }
  });
}

void DeclareConvert(Declarer& d) {
  CommandLine& line = d.line();
  auto files = std::make_shared<std::vector<std::string>>();
  d.Positional("FILE", "FILE", *files,
               "a Chaos Toolkit experiment, JSON or YAML (- reads standard input)");
  d.Value("-o,--output", "OUT", "where the native experiment goes (default: standard output)",
          Into(line.convert.output));
  d.Repeated("--var", "k=v", "overrides the configuration entry k",
             [&line](const std::string& v) { return TakeNameValue(v, line.convert.options.vars); });
  DeclareVarFile(d, line.convert.var_files);
  DeclareChaosToolkitOptions(d, line.convert.options, /*with_fail_fast=*/true);
  d.Finally([&d, &line, files] {
    if (files->size() != 1) return d.Fail("expected exactly one experiment FILE");
    line.convert.file = (*files)[0];
  });
}

void DeclareValidate(Declarer& d) {
  CommandLine& line = d.line();
  d.Positional("FILE", "FILE...", line.files, "experiment files (- reads standard input)");
  d.Repeated("--var", "k=v", "fills ${k} placeholders; wins over the environment",
             [&line](const std::string& v) { return TakeNameValue(v, line.vars); });
  DeclareVarFile(d, line.var_files);
  d.Flag("--templates", line.templates,
         "check the structure with placeholders left unfilled (only --var and --var-file fill "
         "them, not the environment): each unfilled one is listed with its pointer, and "
         "accepted where a number or duration must stand; exit 0 when the rest is valid");
  d.Finally([&d, &line] {
    if (line.files.empty()) return d.Fail("expected at least one experiment FILE");
    if (std::count(line.files.begin(), line.files.end(), kStandardInputName) > 1) {
      d.Fail("standard input (-) can be read only once");
    }
  });
}

void DeclareReport(Declarer& d) {
  CommandLine& line = d.line();
  auto journals = std::make_shared<std::vector<std::string>>();
  d.Positional("JOURNAL", "JOURNAL", *journals, "the journal of a run (any journal_version)");
  d.Value("--html", "F", "the HTML report (default: beside the journal, .html)",
          Into(line.report.html));
  d.Value("--junit", "F", "JUnit XML", Into(line.report.junit));
  d.Value("--markdown", "F", "the Markdown summary", Into(line.report.markdown));
  d.Finally([&d, &line, journals] {
    if (journals->size() != 1) return d.Fail("expected exactly one JOURNAL");
    line.report.journal = (*journals)[0];
  });
}

std::vector<std::string> FaultTypes() {
  std::vector<std::string> types;
  for (const auto* f : FaultRegistry::Global().All()) types.push_back(f->Declaration().name);
  return types;
}

std::string FaultTypeList() {
  std::string list;
  for (const auto& type : FaultTypes()) list += (list.empty() ? "" : " ") + type;
  return list;
}

void DeclareFaults(Declarer& d) {
  CommandLine& line = d.line();
  d.Positional("TYPE", "[TYPE...]", line.fault_types, "only these fault types (default: all)");
  d.Flag("--json", line.json, "print the declarations as JSON");
  d.Finally([&d, &line] {
    for (const auto& type : line.fault_types) {
      if (FaultRegistry::Global().Find(type) == nullptr) {
        return d.Fail("unknown fault type '" + type + "' (types: " + FaultTypeList() + ")");
      }
    }
  });
}

void DeclareInit(Declarer& d) {
  CommandLine& line = d.line();
  d.Value(
      "--template", "TEMPLATE", "the starting point: one of " + InitTemplateList(),
      [&line](const std::string& v) {
        if (FindInitTemplate(v) == nullptr) return "expected one of " + InitTemplateList();
        line.init.template_name = v;
        return std::string();
      },
      line.init.template_name);
  d.Value("-o,--output", "FILE",
          "where to write it (- writes to standard output); never overwritten",
          Into(line.init.output), line.init.output);
}

void DeclareDemo(Declarer& d) {
  CommandLine& line = d.line();
  d.Value("--scenario", "FILE",
          "the game day to run (default scenarios/demo-game-day.json; - reads standard input)",
          Into(line.demo.scenario));
  d.Value("--suite", "FILE",
          "run a suite file (docs/suites.md) against the one fleet instead of a scenario; the "
          "fleet is as large as its largest member asks for",
          Into(line.demo.suite));
  d.Value("--fleet-size", "N",
          "how many demo services to start (default: the scenario's demo-fleet-size tag, else "
          "the demo's default)",
          [&line](const std::string& v) {
            return TakeWholeNumber(v, 1, 64, line.demo.fleet_size,
                                   "expected an integer from 1 to 64");
          });
  DeclareSharedRunOptions(d, line.run);
  DeclareGameDayOptions(d, line.run);
  d.Finally([&d, &line] {
    if (const std::string e = GameDayOptionsError(line.run); !e.empty()) return d.Fail(e);
    line.demo.run = line.run;
    line.demo.run.progress = true;
  });
}

void DeclareStateDir(Declarer& d);

void DeclareSuite(Declarer& d) {
  CommandLine& line = d.line();
  auto files = std::make_shared<std::vector<std::string>>();
  d.Positional("FILE", "FILE", *files, "the suite file (docs/suites.md)");
  DeclareSharedRunOptions(d, line.run, /*with_journal=*/false);
  DeclareSuiteOptions(d, line.suite);
  d.Flag("--dry-run", line.run.dry_run,
         "validate every experiment, print each one's plan and exit; nothing is injected");
  d.Flag("--allow-concurrent", line.run.allow_concurrent,
         "do not take the state directory's lock (runs side by side on purpose)");
  d.Finally([&d, &line, files] {
    if (files->size() != 1) return d.Fail("expected exactly one suite FILE");
    if ((*files)[0] == kStandardInputName)
      return d.Fail("expected a suite file, not standard input");
    line.suite.files = *files;
    line.suite.suite = true;
    line.run.progress = StderrIsTerminal();
  });
}

void DeclareMap(Declarer& d) {
  CommandLine& line = d.line();
  auto files = std::make_shared<std::vector<std::string>>();
  d.Positional("FILE", "FILE", *files, "the dependency map (docs/dependency-map.md)");
  d.Flag("--dry-run", line.map.dry_run,
         "validate the map, find the service's processes and (discover) its dependencies in "
         "use, print the cells in order and exit; nothing is injected");
  d.Value("--journal", "F",
          "where the map's result goes (JSON); each cell's run journal is written beside it as "
          "F-without-.json.DEPENDENCY-FAULT.journal.json",
          Into(line.map.journal), "ringfence-map.json");
  d.Value("--report", "F",
          "write the heatmap of the map (dependencies × faults, verdicts, undeclared "
          "dependencies) to F at its end (one self-contained page)",
          Into(line.map.report_html));
  d.Value("--state-dir", "D", "where ledgers and the lock live (made 0700)",
          Into(line.run.state_dir), kDefaultStateDirText);
  d.Flag("--allow-concurrent", line.run.allow_concurrent,
         "do not take the state directory's lock (runs side by side on purpose)");
  d.Finally([&d, &line, files] {
    if (files->size() != 1) return d.Fail("expected exactly one map FILE");
    line.map.file = (*files)[0];
    line.run.progress = StderrIsTerminal();
  });
}

void DeclareStatus(Declarer& d) {
  DeclareStateDir(d);
  d.Flag("--json", d.line().json,
         "one JSON object: the state dir, every run (id, state, title, status, ledger, "
         "journal, active faults with deadline and manual undo) and untrusted ledgers");
}

void DeclareStateDir(Declarer& d) {
  CommandLine& line = d.line();
  d.Value("--state-dir", "D", "the state directory to read", Into(line.state_dir),
          kDefaultStateDirText);
  d.Finally([&line] {
    if (line.state_dir.empty()) line.state_dir = DefaultStateDir();
  });
}

void DeclareRecover(Declarer& d) {
  CommandLine& line = d.line();
  DeclareStateDir(d);
  d.Value("--run", "ID", "only this run's ledger", Into(line.run_id));
  d.Value("--inventory", "F",
          "the hosts to revert on (default: the inventory the run recorded; - reads standard "
          "input)",
          Into(line.inventory));
  d.Repeated("--secret", "k=v", "the value of a [redacted:k] an undo record needs",
             [&d, &line](const std::string& v) {
               const auto eq = v.find('=');
               if (eq == std::string::npos || eq == 0) {
                 d.Fail("--secret: expected name=value");
               } else {
                 line.secrets.Add(v.substr(0, eq), v.substr(eq + 1));
               }
               return std::string();
             });
}

void DeclareWatchdog(Declarer& d) {
  CommandLine& line = d.line();
  d.Value("--ledger", "PATH", "the ledger of the run to watch", Into(line.ledger))->required();
  d.Value(
      "--grace", "DURATION", "how long to wait without a heartbeat before reverting",
      [&line](const std::string& v) {
        auto g = ParseDuration(v);
        if (!g.ok()) return g.status().message();
        line.grace = *g;
        return std::string();
      },
      "3s");
}

std::string HostActionList() {
  std::string list;
  for (const auto& a : HostActions()) list += (list.empty() ? "" : ", ") + a;
  return list;
}

void DeclareHost(Declarer& d) {
  CommandLine& line = d.line();
  auto actions = std::make_shared<std::vector<std::string>>();
  d.Positional("ACTION", "ACTION", *actions, "one of: " + HostActionList());
  d.Value("--state-dir", "D", "the host's state directory", Into(line.host.state_dir),
          kDefaultStateDirText);
  d.Value("--run", "ID", "the run the action belongs to", Into(line.host.run_id));
  d.Value(
      "--grace", "DURATION",
      "how long the host-side watchdog waits without a heartbeat (at least 100ms)",
      [&line](const std::string& v) {
        auto g = ParseDuration(v);
        if (!g.ok() || g->count() < 100) return std::string("at least 100ms");
        line.host.grace = *g;
        return std::string();
      },
      "3s");
  d.Finally([&d, &line, actions] {
    if (actions->empty()) return d.Fail("expected an action (" + HostActionList() + ")");
    if (actions->size() > 1) return d.Fail("unexpected argument " + (*actions)[1]);
    line.host.action = (*actions)[0];
    if (line.host.state_dir.empty()) line.host.state_dir = DefaultStateDir();
    const auto& all = HostActions();
    if (std::find(all.begin(), all.end(), line.host.action) == all.end()) {
      d.Fail("unknown action " + line.host.action);
    }
  });
}

// ---- schedules and history (docs/scheduling.md) -------------------------------------------

std::string ScheduleActionList() {
  std::string list;
  for (const char* a : kScheduleActions) list += std::string(list.empty() ? "" : ", ") + a;
  return list;
}

void DeclareSchedule(Declarer& d) {
  CommandLine& line = d.line();
  ScheduleRequest& r = line.schedule;
  auto words = std::make_shared<std::vector<std::string>>();
  d.Positional("ACTION", "ACTION [FILE]", *words,
               "check FILE, install FILE, or uninstall (what install wrote)");
  d.Value("--from", "TIME",
          "check: the next runs after this time (UTC, such as 2026-12-07T08:00:00Z) instead of "
          "now",
          [&r](const std::string& v) {
            int y, mo, dd, h, mi, s;
            char z = 0, tail = 0;
            if (std::sscanf(v.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c%c", &y, &mo, &dd, &h, &mi, &s, &z,
                            &tail) != 7 ||
                z != 'Z') {
              return std::string("expected a UTC time such as 2026-12-07T08:00:00Z");
            }
            r.from = v;
            return std::string();
          });
  d.Value(
      "--count", "N", "check: how many next runs to print per entry",
      [&r](const std::string& v) {
        return TakeWholeNumber(v, 1, 1000, r.count, "expected a whole number from 1 to 1000");
      },
      "5");
  d.Value("--entry", "NAME", "check: only this entry", Into(r.entry));
  d.Flag("--allowed-now", r.allowed_now,
         "check: exit 0 when --entry may start a run now (window, blackouts), else print why "
         "and exit 1 (the units' ExecCondition)");
  d.Flag("--user", r.user, "install/uninstall: systemd user units (~/.config/systemd/user)");
  d.Value("--unit-dir", "D",
          "install/uninstall: the unit directory (default /etc/systemd/system, or the user's with "
          "--user)",
          Into(r.unit_dir));
  d.Value("--state-dir", "D", "install: the state dir of the installed runs", Into(r.state_dir),
          kDefaultStateDirText);
  d.Finally([&d, &r, words] {
    if (words->empty()) return d.Fail("expected an action (" + ScheduleActionList() + ")");
    r.action = (*words)[0];
    bool known = false;
    for (const char* a : kScheduleActions) known = known || r.action == a;
    if (!known) return d.Fail("unknown action " + r.action);
    const size_t want = r.action == "uninstall" ? 1 : 2;
    if (words->size() < want) return d.Fail("expected a schedule FILE");
    if (words->size() > want) return d.Fail("unexpected argument " + (*words)[want]);
    if (want == 2) r.file = (*words)[1];
    if (r.allowed_now && r.entry.empty()) return d.Fail("--allowed-now needs --entry");
  });
}

void DeclareScheduler(Declarer& d) {
  CommandLine& line = d.line();
  SchedulerRequest& r = line.scheduler;
  auto files = std::make_shared<std::vector<std::string>>();
  d.Positional("FILE", "FILE", *files, "the schedule file");
  d.Value("--state-dir", "D", "the runs' state dir, where history.db is kept", Into(r.state_dir),
          kDefaultStateDirText);
  d.Value("--metrics-listen", "ADDR:PORT",
          "serve per-entry metrics (last status, last and next run time, runs by status, "
          "consecutive failures) on http://ADDR:PORT/metrics",
          Into(r.metrics_listen));
  d.Value("--pushgateway", "URL", "every run pushes its result to this Prometheus Pushgateway",
          Into(r.pushgateway));
  d.Finally([&d, &r, files] {
    if (files->size() != 1) return d.Fail("expected exactly one schedule FILE");
    r.file = (*files)[0];
  });
}

void DeclareHistory(Declarer& d) {
  CommandLine& line = d.line();
  HistoryRequest& r = line.history;
  d.Value("--experiment", "TITLE", "only the runs of this experiment (its title)",
          Into(r.experiment));
  d.Value("--since", "AGE", "only runs started in the last AGE (7d, 12h, 30m)",
          [&r](const std::string& v) {
            long long ms = 0;
            if (!ParseSince(v, ms)) return std::string("expected an age such as 7d, 12h or 30m");
            r.since = v;
            return std::string();
          });
  d.Flag("--json", r.json,
         "print the summaries as JSON (with every run of the experiment when --experiment is "
         "given)");
  d.Value("--html", "F",
          "write a self-contained page with one chart per experiment (pass or fail, time to "
          "detect, over time)",
          Into(r.html));
  d.Value("--state-dir", "D", "the state dir whose history.db to read", Into(r.state_dir),
          kDefaultStateDirText);
}

void DeclareHelp(Declarer& d);

int CmdRun(const CommandLine& line) { return RunFilesCommand(line.suite, line.run); }
int CmdSuite(const CommandLine& line) { return RunSuiteFileCommand(line.suite, line.run); }
int CmdMap(const CommandLine& line) {
  MapRequest map = line.map;
  map.run = line.run;
  return RunMapCommand(map);
}
int CmdSchedule(const CommandLine& line) { return RunScheduleCommand(line.schedule); }
int CmdScheduler(const CommandLine& line) { return RunScheduler(line.scheduler); }
int CmdHistory(const CommandLine& line) { return PrintHistory(line.history); }
DemoCommand& DemoCommandSlot() {
  static DemoCommand command;
  return command;
}

int CmdDemo(const CommandLine& line) {
  if (!DemoCommandSlot()) {
    std::fprintf(stderr, "ringfence demo: this binary has no demo\n");
    return 2;
  }
  DemoRequest demo = line.demo;
  if (!ApplyVarFiles(line.suite.var_files, demo.run.vars)) return 2;
  return DemoCommandSlot()(demo);
}
int CmdRecover(const CommandLine& line) {
  return RecoverStateDir(line.state_dir, line.run_id, line.inventory, line.secrets);
}
int CmdStatus(const CommandLine& line) { return PrintStatus(line.state_dir, line.json); }
int CmdWatchdog(const CommandLine& line) { return RunWatchdog(line.ledger, line.grace); }
int CmdHost(const CommandLine& line) { return RunHostAction(line.host); }
int CmdReport(const CommandLine& line) { return RunReportCommand(line.report); }
int CmdValidate(const CommandLine& line);
int CmdConvert(const CommandLine& line) {
  ConvertRequest convert = line.convert;
  if (!ApplyVarFiles(convert.var_files, convert.options.vars)) return 2;
  return ConvertExperimentFile(convert);
}
int CmdFaults(const CommandLine& line);
int CmdHelp(const CommandLine& line);
int CmdInit(const CommandLine& line) { return RunInit(line.init); }

struct Command {
  const char* name;
  const char* summary;
  void (*declare)(Declarer& d);
  int (*run)(const CommandLine& line);
};

// The one declaration of the commands: with their options, it is the parser, `--help` and
// docs/cli.md's tables.
const Command kCommands[] = {
    {"run",
     "validate FILE, resolve its targets, check the steady state, inject its faults, revert them "
     "(always), check again, write the journal; several FILEs or a folder run as a suite under "
     "one lock (docs/suites.md)",
     DeclareRun, CmdRun},
    {"convert",
     "write the native experiment equivalent to a Chaos Toolkit one (JSON or YAML) and say "
     "what could not be mapped exactly",
     DeclareConvert, CmdConvert},
    {"validate", "check experiment files without running anything; exit 2 if any is invalid",
     DeclareValidate, CmdValidate},
    {"suite",
     "run the experiments of a suite file one after another under one lock, each with its own "
     "vars and journal; exit with the worst of their codes (docs/suites.md)",
     DeclareSuite, CmdSuite},
    {"map",
     "fault each dependency of a service in turn (latency, partition, kill), watch its SLOs, "
     "classify each cell and each dependency (hard, soft, none) against what the map expects, "
     "and find the dependencies in use that it does not declare (docs/dependency-map.md)",
     DeclareMap, CmdMap},
    {"faults", "list the fault types with their parameters, defaults and limits", DeclareFaults,
     CmdFaults},
    {"init",
     "write a starting experiment from a template (kill-and-restart, pause, latency to a "
     "dependency, disk fill, bad-update rehearsal) to fill in and validate",
     DeclareInit, CmdInit},
    {"demo",
     "start an embedded demo fleet, run a game day against it (default "
     "scenarios/demo-game-day.json), stop the fleet",
     DeclareDemo, CmdDemo},
    {"report",
     "write the HTML report, JUnit XML and Markdown summary of a run from its journal (any "
     "journal_version); 2 when it is not a journal, truncated or newer than this ringfence",
     DeclareReport, CmdReport},
    {"recover",
     "revert every fault the ledgers show as not reverted (newest first, idempotent; on fleet "
     "hosts over SSH); exit 0 only when nothing is left, else 4 with how to undo the rest by "
     "hand (3: a ledger or the state dir is not trusted)",
     DeclareRecover, CmdRecover},
    {"status",
     "list runs, their state, and any fault still active with its deadline (3: a ledger or the "
     "state dir is not trusted)",
     DeclareStatus, CmdStatus},
    {"watchdog",
     "(internal, started by run) revert from the ledger when the runner's heartbeats stop or a "
     "deadline passes",
     DeclareWatchdog, CmdWatchdog},
    {"host",
     "(internal, run over SSH on fleet hosts) the host side of a run: one JSON request on "
     "stdin, one JSON reply on stdout; session: many requests, one JSON line each, over one "
     "command",
     DeclareHost, CmdHost},
    {"schedule",
     "check a schedule file and print each entry's next runs; install or uninstall it as "
     "systemd timers",
     DeclareSchedule, CmdSchedule},
    {"scheduler",
     "run a schedule in the foreground: start each entry's run when due (never two at once), "
     "record every run in the history",
     DeclareScheduler, CmdScheduler},
    {"history",
     "runs per experiment from the state dir's history: pass rate, aborts, time to detect, "
     "trend, streak, resilience score",
     DeclareHistory, CmdHistory},
    {"help",
     "print the options of a command, or (--markdown) docs/cli.md's tables, (--man DIR) the man "
     "pages, (--bash-completion) the bash completion script",
     DeclareHelp, CmdHelp},
};

const Command* FindCommand(const std::string& name) {
  for (const auto& c : kCommands) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

std::string CommandList() {
  std::string list;
  for (const auto& c : kCommands) list += std::string(list.empty() ? "" : " ") + c.name;
  return list;
}

std::string UnknownCommand(const std::string& name) {
  return "unknown command '" + name + "' (commands: " + CommandList() + ")";
}

void DeclareHelp(Declarer& d) {
  CommandLine& line = d.line();
  auto names = std::make_shared<std::vector<std::string>>();
  d.Positional("COMMAND", "[COMMAND]", *names, "the command whose options to print");
  d.Flag("--markdown", line.markdown, "print docs/cli.md's command and option tables");
  d.Value("--man", "DIR",
          "write the man pages ringfence(1) and ringfence-COMMAND(1) of every command into DIR "
          "(an existing directory)",
          Into(line.man_dir));
  d.Flag("--bash-completion", line.bash_completion, "print the bash completion script");
  d.Finally([&d, &line, names] {
    line.help = true;
    if (line.markdown + !line.man_dir.empty() + line.bash_completion > 1) {
      return d.Fail("--markdown, --man and --bash-completion exclude each other");
    }
    if (names->size() > 1) return d.Fail("unexpected argument " + (*names)[1]);
    if (!names->empty() && FindCommand((*names)[0]) == nullptr) {
      return d.Fail(UnknownCommand((*names)[0]));
    }
    line.help_command = names->empty() ? "" : (*names)[0];
  });
}

// The parser: the top level and one sub-app per command, all writing into `line`.
struct Declaration {
  std::unique_ptr<CLI::App> app;
  std::vector<std::unique_ptr<Declarer>> declarers;
};

Declaration Declare(CommandLine& line) {
  Declaration decl;
  decl.app = std::make_unique<CLI::App>("ringfence", "ringfence");
  CLI::App& app = *decl.app;
  app.set_help_flag();
  app.allow_extras();
  app.require_subcommand(0, 1);
  decl.declarers.push_back(std::make_unique<Declarer>(app, line, ""));
  DeclareGlobalOptions(*decl.declarers.back());
  for (const auto& c : kCommands) {
    CLI::App* sub = app.add_subcommand(c.name, c.summary);
    sub->set_help_flag();
    sub->allow_extras();
    decl.declarers.push_back(std::make_unique<Declarer>(*sub, line, c.name));
    c.declare(*decl.declarers.back());
    DeclareGlobalOptions(*decl.declarers.back());
  }
  return decl;
}

// The first argument CLI11 did not place: an unknown option or an unexpected argument.
std::string ExtraArgumentError(const std::vector<std::string>& extras) {
  for (const auto& a : extras) {
    if (a.size() > 1 && a[0] == '-') return "unknown option " + a.substr(0, a.find('='));
    return "unexpected argument " + a;
  }
  return "";
}

// ---- help ---------------------------------------------------------------------------------

bool Positional(const CLI::Option* o) { return o->get_positional(); }
bool TakesValue(const CLI::Option* o) { return !o->get_type_name().empty(); }
bool Repeatable(const CLI::Option* o) {
  return !Positional(o) && TakesValue(o) &&
         o->get_multi_option_policy() == CLI::MultiOptionPolicy::TakeAll;
}

// "--journal P", "--dry-run", "FILE...".
std::string OptionForm(const CLI::Option* o) {
  if (Positional(o)) return o->get_type_name();
  std::string form = o->get_lnames().empty() ? o->get_name() : "--" + o->get_lnames().front();
  if (TakesValue(o)) form += " " + o->get_type_name();
  return form;
}

std::vector<const CLI::Option*> OptionsOf(const CLI::App& app, bool global) {
  std::vector<const CLI::Option*> out;
  for (const CLI::Option* o : app.get_options()) {
    if ((o->get_group() == kGlobalGroup) == global) out.push_back(o);
  }
  return out;
}

std::string Usage(const CLI::App& sub) {
  std::string usage;
  for (const CLI::Option* o : OptionsOf(sub, false)) {
    std::string word = OptionForm(o);
    if (!Positional(o) && !o->get_required()) word = "[" + word + "]";
    if (Repeatable(o)) word += "...";
    usage += (usage.empty() ? "" : " ") + word;
  }
  return usage;
}

std::string Description(const CLI::Option* o) {
  std::string text = o->get_description();
  if (!o->get_default_str().empty()) text += " (default " + o->get_default_str() + ")";
  if (Repeatable(o)) text += "; repeatable";
  return text;
}

const char* kExitCodes =
    "exit codes: 0 passed; 1 failed, aborted or not steady; 2 invalid input (nothing touched);\n"
    "  3 runtime error (after reverting); 4 a revert failed (what is left is printed);\n"
    "  130 / 143 / 129 interrupted by SIGINT / SIGTERM / SIGHUP (after reverting)\n";

// The help's width: what a terminal of 100 columns shows without breaking a word.
constexpr size_t kHelpWidth = 100;

// `words`, split at their spaces, laid out from column `column` up to kHelpWidth; continuation
// lines start at column `indent`. A usage line keeps each [--option value] group whole.
std::string Wrap(const std::string& words, size_t column, size_t indent) {
  const std::string separator = " ";
  std::string out;
  size_t at = column;
  size_t start = 0;
  while (start < words.size()) {
    size_t end = words.find(separator, start);
    end = end == std::string::npos ? words.size() : end + separator.size();
    std::string piece = words.substr(start, end - start);
    const size_t visible = piece.size() - (end < words.size() ? 1 : 0);  // a trailing space
    if (at > indent && at + visible > kHelpWidth) {
      while (!out.empty() && out.back() == ' ') out.pop_back();
      out += "\n" + std::string(indent, ' ');
      at = indent;
    }
    out += piece;
    at += piece.size();
    start = end;
  }
  return out;
}

// A usage line from column `column`, broken between its [...] groups only.
std::string WrapUsage(std::string groups, size_t column) {
  int depth = 0;
  for (char& c : groups) {
    depth += c == '[' ? 1 : c == ']' ? -1 : 0;
    if (c == ' ' && depth > 0) c = '\x1f';  // no break point inside a group
  }
  std::string wrapped = Wrap(groups, column, column);
  std::replace(wrapped.begin(), wrapped.end(), '\x1f', ' ');
  return wrapped;
}

std::string OptionLines(const std::vector<const CLI::Option*>& options) {
  std::string text;
  for (const CLI::Option* o : options) {
    std::string form = OptionForm(o);
    if (form.size() < 26)
      form.resize(26, ' ');
    else
      form += "\n" + std::string(28, ' ');
    text += "  " + form + Wrap(Description(o), 28, 28) + "\n";
  }
  return text;
}

std::string GlobalHelp(const CLI::App& app) {
  return "global options (before or after the command):\n" + OptionLines(OptionsOf(app, true));
}

// `|` cannot stand in a table cell as it is.
std::string Cell(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

void OptionTable(const std::vector<const CLI::Option*>& options, std::string& out) {
  out += "| option | what it does |\n|---|---|\n";
  for (const CLI::Option* o : options) {
    out += "| `" + Cell(OptionForm(o)) + "` | " + Cell(Description(o)) + " |\n";
  }
}

// ---- the commands that print ---------------------------------------------------------------

int CmdValidate(const CommandLine& line) {
  std::map<std::string, std::string> vars = line.vars;
  if (!ApplyVarFiles(line.var_files, vars)) return 2;
  if (line.templates) return ValidateTemplates(line.files, vars);
  int code = 0;
  for (const auto& file : line.files) {
    ValidationErrors errors;
    LoadOptions options;
    options.vars = vars;
    options.catalog = &FaultRegistry::Global();
    // A Chaos Toolkit experiment (or a YAML file) is validated as the native one it becomes.
    std::optional<Experiment> experiment;
    InputFileRefusal refusal;
    Result<std::string> text =
        ReadCommandLineInput(file, kMaxExperimentBytes, "JSON file", &refusal);
    if (!text.ok()) {
      errors.Add("", refusal.found, refusal.allowed);
    } else {
      RunRequest request;
      request.vars = line.vars;
      auto source = ReadExperimentSource(file, *text, ChaosToolkitSourceOptions(request), errors);
      if (source) experiment = LoadExperimentText(source->native_text, options, errors);
    }
    if (!experiment) {
      for (const auto& l : errors.Format(file)) std::fprintf(stderr, "%s\n", l.c_str());
      code = 2;
      continue;
    }
    size_t faults = 0;
    for (const auto& s : experiment->method) faults += s.kind == MethodStep::Kind::kFault;
    std::printf("%s: ok (%zu steps, %zu faults)\n", file.c_str(), experiment->method.size(),
                faults);
  }
  return code;
}

// A limit or default as a person writes it: 1 rather than 1.0, durations as "250ms".
std::string LimitText(const nlohmann::json& v) {
  if (v.is_number_float() &&
      v.get<double>() == static_cast<double>(static_cast<long long>(v.get<double>()))) {
    return std::to_string(static_cast<long long>(v.get<double>()));
  }
  return v.is_string() ? v.get<std::string>() : v.dump();
}

int CmdFaults(const CommandLine& line) {
  auto all = FaultRegistry::Global().All();
  if (!line.fault_types.empty()) {
    std::erase_if(all, [&line](const FaultFactory* f) {
      return std::find(line.fault_types.begin(), line.fault_types.end(), f->Declaration().name) ==
             line.fault_types.end();
    });
  }
  if (line.json) {
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
      std::string text = "  " + p.value("name", "") + " (" + p.value("type", "");
      text += p.value("required", false) ? ", required" : ", optional";
      if (p.contains("default")) text += ", default " + p["default"].dump();
      if (p.contains("min")) text += ", min " + LimitText(p["min"]);
      if (p.contains("max")) text += ", max " + LimitText(p["max"]);
      if (p.contains("choices")) {
        text += ", one of";
        for (const auto& c : p["choices"]) text += " " + c.get<std::string>();
      }
      text += "): " + p.value("doc", "");
      std::printf("%s\n", text.c_str());
    }
    std::printf("\n");
  }
  return 0;
}

int CmdHelp(const CommandLine& line) {
  if (!line.man_dir.empty()) return WriteManPages(DescribeCommandLine(), line.man_dir);
  if (line.bash_completion) {
    std::fputs(BashCompletion(DescribeCommandLine(), FaultTypes(), InitTemplateNames()).c_str(),
               stdout);
    return 0;
  }
  std::fputs((line.markdown ? MarkdownTables() : HelpText(line.help_command)).c_str(), stdout);
  return 0;
}

}  // namespace

CommandLine ParseCommandLine(const std::vector<std::string>& args) {
  CommandLine line;
  Declaration decl = Declare(line);
  CLI::App& app = *decl.app;
  // `--` ends the options: what follows goes to the command's positionals as it stands. (CLI11
  // would hand it to the top level once the command's positionals have their minimum.)
  const auto dashes = std::find(args.begin(), args.end(), "--");
  const std::vector<std::string> after_dashes(dashes == args.end() ? dashes : dashes + 1,
                                              args.end());
  // CLI11 takes the arguments reversed.
  std::vector<std::string> reversed(std::make_reverse_iterator(dashes), args.rend());
  CLI::App* sub = nullptr;
  auto parsed_sub = [&] {
    const auto subs = app.get_subcommands();
    return subs.empty() ? nullptr : subs.front();
  };
  try {
    app.parse(reversed);
    sub = parsed_sub();
    if (sub != nullptr) {
      for (const auto& d : decl.declarers) {
        if (&d->app() == sub) d->Finish(after_dashes);
      }
    } else if (!after_dashes.empty() && app.remaining(false).empty()) {
      line.error = UsageMessage("", UnknownCommand(after_dashes.front()));
    }
  } catch (const CLI::RequiredError&) {
    sub = parsed_sub();
    if (sub != nullptr) {
      for (const CLI::Option* o : sub->get_options()) {
        if (o->get_required() && o->count() == 0) {
          line.error = UsageMessage(sub->get_name(), "expected " + OptionForm(o));
          break;
        }
      }
    }
  } catch (const CLI::ArgumentMismatch& e) {
    // A value missing at the end of the line ("--journal" last, or "--journal="): CLI11 names
    // the option before the first colon.
    sub = parsed_sub();
    const std::string what = e.what();
    const std::string flag = what.substr(0, what.find(':'));
    line.error = flag == "--log-format"
                     ? UsageMessage("", "--log-format expects text or json")
                     : UsageMessage(sub != nullptr ? sub->get_name() : "", flag + " needs a value");
  } catch (const CLI::ParseError& e) {  // e.g. a flag given a value that is not a boolean
    sub = parsed_sub();
    line.error = UsageMessage(sub != nullptr ? sub->get_name() : "", e.what());
  }
  line.command = sub != nullptr ? sub->get_name() : "";
  if (line.version) return line;
  if (const auto top = app.remaining(false); !top.empty()) {
    // Before the command (or instead of one): what stands first is taken as the command.
    line.error = UsageMessage("", UnknownCommand(top.front()));
    line.command.clear();
  } else if (sub != nullptr) {
    if (const std::string extra = ExtraArgumentError(sub->remaining(false)); !extra.empty()) {
      line.error = UsageMessage(sub->get_name(), extra);
    }
  }
  // --help after a known command prints its help whatever else the line holds.
  if (line.help && !line.command.empty() && line.command != "help") {
    line.help_command = line.command;
    line.error.clear();
  }
  return line;
}

std::string HelpText(const std::string& command) {
  CommandLine scratch;
  Declaration decl = Declare(scratch);
  const CLI::App& app = *decl.app;
  if (command.empty()) {
    std::string text = "usage: ringfence <command> [options]\n\ncommands:\n";
    for (const auto& c : kCommands) {
      const CLI::App* sub = app.get_subcommand(c.name);
      char name[16];
      std::snprintf(name, sizeof name, "%-9s", c.name);
      text += "  " + std::string(name) + " " + WrapUsage(Usage(*sub), 12) + "\n" +
              std::string(14, ' ') + Wrap(c.summary, 14, 14) + "\n";
    }
    return text + "\nringfence help COMMAND (or ringfence COMMAND --help): its options\n\n" +
           GlobalHelp(app) + "\n" + kExitCodes;
  }
  if (FindCommand(command) == nullptr) return "";
  const CLI::App* sub = app.get_subcommand(command);
  const std::string usage = "usage: ringfence " + command + " ";
  return usage + WrapUsage(Usage(*sub), usage.size()) + "\n\n" +
         Wrap(sub->get_description(), 0, 0) + "\n\noptions:\n" +
         OptionLines(OptionsOf(*sub, false)) + "\n" + GlobalHelp(app) + "\n" + kExitCodes;
}

std::string MarkdownTables() {
  CommandLine scratch;
  Declaration decl = Declare(scratch);
  const CLI::App& app = *decl.app;
  // Blank lines around the tables: the markers are HTML comments.
  std::string out = "\n| command | usage | what it does |\n|---|---|---|\n";
  for (const auto& c : kCommands) {
    out += "| `" + std::string(c.name) + "` | `" + Cell(Usage(*app.get_subcommand(c.name))) +
           "` | " + Cell(c.summary) + " |\n";
  }
  out += "\n### Global options\nAccepted anywhere on the line, before or after the command.\n\n";
  OptionTable(OptionsOf(app, true), out);
  for (const auto& c : kCommands) {
    const auto options = OptionsOf(*app.get_subcommand(c.name), false);
    out += "\n### `ringfence " + std::string(c.name) + "`\n";
    if (options.empty()) {
      out += "No options of its own.\n";
      continue;
    }
    out += "\n";
    OptionTable(options, out);
  }
  return out + "\n";
}

CliInfo DescribeCommandLine() {
  CommandLine scratch;
  Declaration decl = Declare(scratch);
  const CLI::App& app = *decl.app;
  auto describe = [](const std::vector<const CLI::Option*>& options) {
    std::vector<CliOptionInfo> out;
    for (const CLI::Option* o : options) {
      CliOptionInfo info;
      if (!Positional(o)) {
        for (const auto& l : o->get_lnames()) info.names.push_back("--" + l);
        for (const auto& s : o->get_snames()) info.names.push_back("-" + s);
      }
      info.value_name = o->get_type_name();
      info.form = OptionForm(o);
      info.description = Description(o);
      info.positional = Positional(o);
      info.repeatable = Repeatable(o);
      info.required = o->get_required();
      out.push_back(std::move(info));
    }
    return out;
  };
  CliInfo info;
  info.version = RINGFENCE_VERSION;
  info.exit_codes = kExitCodes;
  info.global_options = describe(OptionsOf(app, true));
  for (const auto& c : kCommands) {
    const CLI::App* sub = app.get_subcommand(c.name);
    info.commands.push_back({c.name, c.summary, Usage(*sub), describe(OptionsOf(*sub, false))});
  }
  return info;
}

void SetDemoCommand(DemoCommand command) { DemoCommandSlot() = std::move(command); }

int RunCli(int argc, char** argv) {
  CommandLine line = ParseCommandLine(std::vector<std::string>(argv + 1, argv + argc));
  // The journal records the command as typed (journal v3), for the report's replay command.
  line.run.command_line.assign(argv, argv + argc);
  line.demo.run.command_line = line.run.command_line;
  if (line.version) {
    std::printf("ringfence %s\nbuild: %s\n", RINGFENCE_VERSION, BuildDescription().c_str());
    return 0;
  }
  if (!line.error.empty()) {
    std::fprintf(stderr, "%s\n", line.error.c_str());
    return 2;
  }
  SetupLogging(line.log_format, line.verbosity);
  if (line.help) return CmdHelp(line);
  const Command* command = FindCommand(line.command);
  if (command == nullptr) {
    std::fputs(HelpText("").c_str(), stdout);
    return 2;
  }
  // The last net: whatever a library still throws ends the command with exit 3 and a message.
  // The engine's Run never throws (it reverts on every path), so by the time an exception
  // reaches here nothing is left injected by this process.
  try {
    return command->run(line);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ringfence: internal error: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "ringfence: internal error: an unknown exception\n");
  }
  return 3;
}

}  // namespace ringfence
