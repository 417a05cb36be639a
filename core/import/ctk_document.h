#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/duration.h"
#include "core/base/validation.h"

namespace ringfence {

// Chaos Toolkit experiments (docs/chaos-toolkit.md): recognised by their keys and converted
// into ringfence's own experiment document, which the native loader then validates and runs —
// nothing after this unit knows where an experiment came from.

// Whether `doc` is a Chaos Toolkit experiment: it has `steady-state-hypothesis`, or a method or
// rollback entry with a `provider` or a `ref`.
bool LooksLikeChaosToolkit(const nlohmann::ordered_json& doc);

struct CtkOptions {
  // --var / --secret: override configuration entries (and secrets) of the same name.
  std::map<std::string, std::string> vars;
  // Looks up an environment variable (configuration and secrets of type env); getenv when unset.
  std::function<std::optional<std::string>(const std::string&)> env;
  // "" takes the experiment's runtime.rollbacks.strategy (else "default").
  std::string rollback_strategy;
  // "" takes the experiment's runtime.hypothesis.strategy (else "default").
  std::string hypothesis_strategy;
  std::optional<Duration> hypothesis_frequency;  // default: runtime's, else 1s
  bool fail_fast = false;
  // `ringfence convert`: process providers running kill/pkill/killall/stress-ng become native
  // faults where the mapping is exact, and secrets become ${NAME} placeholders instead of
  // their values (a converted file never holds a secret).
  bool for_convert = false;
};

struct CtkConversion {
  nlohmann::ordered_json native;  // the native experiment document
  // What was not mapped exactly, one line each, e.g.
  // "/contributions: kept in the Chaos Toolkit journal only".
  std::vector<std::string> notes;
  // Secret values (name, value) to redact everywhere; empty for_convert.
  std::vector<std::pair<std::string, std::string>> secrets;
  // For each native method step, the CTK activity it came from (its index in the converted
  // activity list below) or -1 for a pause; the journal in Chaos Toolkit's shape uses them.
  std::vector<int> method_origin;
  nlohmann::ordered_json activities;  // the method's activities, refs resolved
};

// Converts `doc` (a Chaos Toolkit experiment). Every problem goes to `errors` with its JSON
// pointer, what was found and what is allowed (a Python provider: its module and function, and
// the native fault or probe that does the same where there is one); nullopt then.
std::optional<CtkConversion> ConvertChaosToolkit(const nlohmann::ordered_json& doc,
                                                 const CtkOptions& options,
                                                 ValidationErrors& errors);

// Splits a command line the way Python's shlex.split does (POSIX mode): whitespace separates,
// '…' is literal, "…" keeps \" \\ \$ \` escapes, a backslash outside quotes escapes the next
// character. nullopt for an unterminated quote.
std::optional<std::vector<std::string>> SplitShellWords(const std::string& line);

}  // namespace ringfence
