#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/duration.h"
#include "core/base/regex.h"
#include "core/base/validation.h"

namespace ringfence {

class FaultCatalog;

// ---- Targets ---------------------------------------------------------------------------------

// Exactly one of pid / pidfile / name / cmdline is set; `user` (a name or a numeric uid) filters.
struct ProcessSelector {
  std::optional<int> pid;
  std::optional<std::string> pidfile;
  std::optional<std::string> name;  // exact match on /proc/PID/comm
  std::optional<Regex> cmdline;     // searched in the whole command line
  std::optional<std::string> user;
};

enum class SelectionMode { kAll, kCount, kPercent };

struct Selection {
  SelectionMode mode = SelectionMode::kAll;
  int count = 0;         // kCount
  double percent = 100;  // kPercent: ceil(percent/100 * matches), at least 1 when matches exist
};

// Which hosts of the inventory a target lives on (docs/fleets.md): hosts in at least one of
// `groups` (Ansible groups, directly or through children; any host when empty) carrying every
// tag of `tags` (all hosts when both are empty), or the hosts named in `names`; then `select`
// picks among them (seeded; a percent rounds down). Hitting every host of a group of two or
// more needs allow_full_blast.
struct HostSelection {
  std::vector<std::string> groups;
  std::map<std::string, std::string> tags;
  std::vector<std::string> names;
  Selection select;
  bool allow_full_blast = false;
};

struct TargetSpec {
  std::string name;     // the key under /targets
  std::string pointer;  // "/targets/<name>", for error messages at run time
  ProcessSelector process;
  Selection select;  // of processes (on each host, when `hosts` is set)
  bool allow_empty = false;
  // Set: the target lives on inventory hosts. Without a process selector (has_process false)
  // it names the hosts themselves, for host faults.
  std::optional<HostSelection> hosts;
  bool has_process = true;
  // settings.max_targets (or --max-targets): a selector matching more processes (on one host)
  // is refused at resolve — a too-broad selector is more likely a mistake than a plan.
  int max_targets = 100;
};

// ---- Probes ----------------------------------------------------------------------------------

// What a probe's value must be: an exact value, a numeric range, a regex over a string, or one
// of a list of allowed values.
struct Tolerance {
  enum class Kind { kExact, kRange, kRegex, kOneOf } kind = Kind::kExact;
  nlohmann::json exact;            // kExact
  std::optional<double> min, max;  // kRange (inclusive; either may be open)
  Regex regex;                     // kRegex (searched)
  nlohmann::json one_of;           // kOneOf: an array; the value must equal one of its members
  nlohmann::json ToJson() const;
};

// A check of a probe's output (a command's stdout, an HTTP body) read as JSON: the values the
// JSONPath `path` selects (core/base/json_path.h) must equal `expect` (a single value: exactly
// that one match; an array: exactly those matches, in order), or number `count`, or, with
// neither, be at least one.
struct JsonPathCheck {
  std::string path;
  std::optional<nlohmann::json> expect;
  std::optional<int64_t> count;
  nlohmann::json ToJson() const;
};

enum class ProbeType { kHttp, kTcp, kCommand, kProcessAlive };

struct ProbeSpec {
  std::string name;
  std::string pointer;  // where it was defined, e.g. "/steady_state/0"
  ProbeType type = ProbeType::kHttp;
  Duration timeout = std::chrono::seconds(2);
  // http: the value is the status code; `tolerance` defaults to exactly 200.
  std::string url;
  std::string method = "GET";  // GET, HEAD, POST, PUT, PATCH or DELETE
  std::optional<Regex> body_regex;
  std::optional<JsonPathCheck> body_jsonpath;
  std::vector<std::pair<std::string, std::string>> headers;  // sent as given
  std::string body;                                          // sent with POST, PUT, PATCH
  std::string content_type = "text/plain";                   // of `body`
  bool verify_tls = true;  // false: an https server's certificate is not checked
  // tcp: the value is true when a connection was made; met when it is.
  std::string address = "127.0.0.1";
  int port = 0;
  // command: the value is the exit code; `tolerance` defaults to exactly 0.
  std::vector<std::string> argv;
  std::optional<Regex> stdout_regex;
  std::optional<JsonPathCheck> stdout_jsonpath;
  // process_alive: the value is the number of processes the target's selector matches now
  // (selection mode ignored); `tolerance` defaults to at least 1.
  std::string target;
  Tolerance tolerance;
};

// ---- Method ----------------------------------------------------------------------------------

struct FaultStep {
  std::string name;       // unique within the experiment; defaults to "<type>-<index>"
  std::string type;       // a registered fault type
  std::string target;     // a key of /targets
  nlohmann::json params;  // validated against the fault's declaration, defaults filled in
  Duration duration{0};
  Duration start_after{0};
};

struct WaitStep {
  Duration duration{0};
};

// Steps run in order. A fault step schedules its fault (start_after later, active for
// `duration`) and the method moves on at once; a wait step advances; a probe step runs its
// probe and, when it is not met, ends the method with status `failed`; an action step runs its
// command or HTTP request (a ProbeSpec) and records the outcome without ending the method —
// with `background`, on a thread of its own while the method goes on (the method waits for it
// before it ends).
struct MethodStep {
  enum class Kind { kFault, kWait, kProbe, kAction } kind = Kind::kFault;
  std::string pointer;  // "/method/<i>"
  // What --from / --to and the operator call it: the fault's or the probe's name; a wait
  // step's optional `name`, else "wait-<i>".
  std::string name;
  FaultStep fault;
  WaitStep wait;
  ProbeSpec probe;          // kProbe, kAction
  bool background = false;  // kAction
};

// ---- Guards ----------------------------------------------------------------------------------

// One guard of /guards, validated (docs/guards.md). A guard names a source of numbers, the
// condition the numbers must keep, and what to do when it cannot see.
struct GuardSpec {
  std::string name;
  std::string pointer;    // "/guards/0"
  nlohmann::json source;  // validated source object (type: promql | scrape | probe_stats |
                          // probe | affected_fraction), kept as JSON for the sources
  // The condition: the value must stay within [min, max], or within
  // [min_vs_baseline × baseline, max_vs_baseline × baseline].
  std::optional<double> min, max;
  std::optional<double> min_vs_baseline, max_vs_baseline;
  Duration interval = std::chrono::seconds(1);  // ≥ 50 ms
  int for_samples = 1;           // consecutive breaching samples before it counts (≥ 1)
  int min_samples = 1;           // samples before the guard may judge at all
  bool abort_on_no_data = true;  // on_no_data: abort (default, fail closed) | ignore
  bool abort_on_error = true;    // on_error: abort (default, fail closed) | ignore
  std::string ThresholdText(std::optional<double> baseline) const;  // "<= 0.2", "<= 1.5 × 12ms"
};

// ---- Rollbacks and settings ------------------------------------------------------------------

// A user rollback: a command (`argv`), or an HTTP request or command given as a probe object
// (`action`, judged by its tolerance).
struct RollbackSpec {
  std::string name;
  std::vector<std::string> argv;
  Duration timeout = std::chrono::seconds(30);
  std::optional<ProbeSpec> action;
};

// When user rollbacks run (settings.rollback_strategy). kAfterRevert (the native default):
// after the faults are reverted, whenever the method began, before the steady state after.
// The others run them after the steady state after, as Chaos Toolkit does: kDefault when the
// method began, kAlways even when the steady state before failed, kNever not at all, kDeviated
// only when the steady state after was not met. Faults are reverted whatever the strategy.
enum class RollbackStrategy { kAfterRevert, kDefault, kAlways, kNever, kDeviated };

struct Settings {
  std::optional<uint64_t> seed;                      // overridden by --seed; generated when absent
  Duration probe_timeout = std::chrono::seconds(2);  // default for probes without one
  int revert_attempts = 3;  // tries per revert before it is reported as failed
  // No fault stays injected longer than this, whatever its duration says (the watchdog enforces
  // it); a fault step whose duration exceeds it is invalid.
  Duration max_fault_lifetime = std::chrono::hours(1);
  // Fleets (docs/fleets.md): host-side actions in flight at once, and what an unreachable host
  // does to the run: abort it (fail closed, the default) or be skipped and counted as unknown.
  int max_concurrency = 32;
  bool skip_unreachable = false;
  // The most processes one process target may match (copied into every TargetSpec).
  int max_targets = 100;
  // An operator's hold (docs/game-days.md) longer than this aborts the run.
  Duration max_hold = std::chrono::minutes(15);
  // Whether the steady state is checked before and after the method.
  bool steady_state_before = true;
  bool steady_state_after = true;
  RollbackStrategy rollback_strategy = RollbackStrategy::kAfterRevert;
};

struct Experiment {
  int version = 1;
  std::string title;
  std::string description;
  std::vector<std::string> tags;
  std::vector<TargetSpec> targets;  // in file order
  std::vector<ProbeSpec> steady_state;
  std::vector<MethodStep> method;
  std::vector<GuardSpec> guards;
  std::vector<RollbackSpec> rollbacks;
  Settings settings;
  // /inventory: null, a path (relative to the experiment file) or an inventory object.
  nlohmann::json inventory;
  nlohmann::json document;  // the document as loaded, placeholders filled (for the journal)

  const TargetSpec* FindTarget(const std::string& name) const;
};

// ---- Loading ---------------------------------------------------------------------------------

struct LoadOptions {
  std::map<std::string, std::string> vars;  // from --var name=value; they win over the env
  // Looks up a placeholder in the environment; nullopt when unset. Defaults to getenv.
  std::function<std::optional<std::string>(const std::string&)> env;
  // Fault types and their params (FaultRegistry::Global() for the built-in faults); nullptr
  // means none: every fault step is then an unknown type.
  const FaultCatalog* catalog = nullptr;
};

// The limits on an experiment file.
inline constexpr size_t kMaxExperimentBytes = 1 << 20;
inline constexpr int kMaxExperimentDepth = 64;

// Reads, parses, fills placeholders and validates. On failure `errors` holds every problem
// (file size, syntax, then all semantic errors at once) and the result is nullopt. Error lines
// start with whatever name the caller passes to ValidationErrors::Format (usually the path as
// given). The texts are listed in docs/experiment-format.md. `path` is a name from the command
// line: "-" reads standard input (core/base/input_file.h ReadCommandLineInput).
std::optional<Experiment> LoadExperimentFile(const std::string& path, const LoadOptions& options,
                                             ValidationErrors& errors);
// The same from text already in memory.
std::optional<Experiment> LoadExperimentText(const std::string& text, const LoadOptions& options,
                                             ValidationErrors& errors);

// Reads one probe object the way the loader reads probes (type defaults, `name` defaulting to
// "<type>-0", settings.probe_timeout when it has no timeout), against `experiment`'s targets:
// e.g. the probe of a guard's source, which GuardSpec keeps as JSON. nullopt with `errors`
// filled (pointers under `pointer`) when it is invalid.
std::optional<ProbeSpec> ReadProbeObject(const nlohmann::json& probe, const std::string& pointer,
                                         const Experiment& experiment, ValidationErrors& errors);

}  // namespace ringfence
