#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/base/clock.h"
#include "core/base/env.h"
#include "core/base/process_table.h"
#include "core/model/experiment.h"

namespace ringfence {

// What one run of a probe found.
struct ProbeOutcome {
  std::string name;
  std::string type;          // "http", "tcp", "command", "process_alive"
  nlohmann::json value;      // the measured value (status code, exit code, true/false, count);
                             // null when the probe could not measure (timeout, refused, ...)
  nlohmann::json tolerance;  // Tolerance::ToJson()
  bool met = false;
  std::string detail;             // why it is not met, or "" when met
  nlohmann::json ToJson() const;  // {name, type, value, tolerance, met, detail}
};

// Runs probes. The real one uses an Env's HTTP (http) and commands (command), sockets (tcp) and
// the Env's process table (process_alive). Never throws; every failure is an outcome that is not
// met. Thread-safe.
class ProbeRunner {
 public:
  virtual ~ProbeRunner() = default;
  // Runs `probe` until it has a value or its timeout passes.
  virtual ProbeOutcome Run(const ProbeSpec& probe, const Experiment& experiment) = 0;
  // The same, but ends at once when `stop` is requested (an HTTP exchange is abandoned, a
  // command's process group killed): value null, not met, detail "interrupted by <reason>".
  // The default (for fakes that never wait) ignores `stop`.
  virtual ProbeOutcome Run(const ProbeSpec& probe, const Experiment& experiment,
                           const StopSource& stop) {
    (void)stop;
    return Run(probe, experiment);
  }
};

// The real probes: HTTP and commands through `system`, its process table, sockets (tcp).
// `system` must outlive the runner.
std::unique_ptr<ProbeRunner> MakeProbeRunner(Env& system);

// Whether `value` is within `tolerance` (a number for kRange, equal JSON for kExact, a string
// or number rendered as text for kRegex).
bool WithinTolerance(const Tolerance& tolerance, const nlohmann::json& value);

// The tolerance a probe is judged by: its own, or, when it is default-constructed (kExact with
// a null value, i.e. the file gave none), the default of its type: http exactly 200, command
// exactly 0, process_alive at least 1, tcp exactly true (tcp is met when it connects).
Tolerance EffectiveTolerance(const ProbeSpec& probe);

}  // namespace ringfence
