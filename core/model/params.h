#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/duration.h"
#include "core/base/validation.h"

namespace ringfence {

// The type of one fault parameter. The same declaration validates an experiment's `params`,
// is printed by `ringfence faults`, and is the source of each fault's parameter table in docs.
enum class ParamType {
  kString,
  kInteger,
  kNumber,
  kBoolean,
  kDuration,    // a string such as "250ms" (see ParseDuration)
  kSignal,      // a signal name ("SIGTERM" or "TERM") or number 1..64
  kStringList,  // an array of strings
  kEnum,        // a string out of `choices`
  kCountList,   // an array of counts (integers) and percentages (strings such as "10%")
};

const char* ParamTypeName(ParamType type);

struct ParamDecl {
  std::string name;
  ParamType type = ParamType::kString;
  bool required = false;
  nlohmann::json default_value;  // null when there is no default
  std::optional<double> min;     // kInteger, kNumber; for kDuration in milliseconds
  std::optional<double> max;
  std::vector<std::string> choices;  // kEnum
  std::string doc;                   // one line
};

// What a fault acts on. Process faults take a target whose selector matches processes; host
// faults (disk, network, CPU, memory) act on the host itself: their method step takes no
// `target` (one Target, "local") or a target that names inventory hosts (one Target per host).
enum class TargetKind { kProcess, kHost };

struct FaultDecl {
  std::string name;     // stable, e.g. "process_kill"
  std::string summary;  // one line
  TargetKind target_kind = TargetKind::kProcess;
  std::vector<ParamDecl> params;
};

// Checks `params` (found at JSON pointer `pointer`) against `decl`: object-ness, unknown keys,
// required keys, types, limits and choices. Adds one error per problem to `errors`.
void ValidateParams(const FaultDecl& decl, const nlohmann::json& params, const std::string& pointer,
                    ValidationErrors& errors);

// The `allowed` text of a validation error for `param`, with its limits and choices,
// e.g. "an integer from 1 to 100" or `a duration such as "250ms", "30s", "2m" (at least 1s)`.
std::string ParamAllowed(const ParamDecl& param);

// `params` with every declared default filled in (call only on params that validated).
nlohmann::json WithDefaults(const FaultDecl& decl, const nlohmann::json& params);

// Typed reading of params that passed ValidateParams: what each fault's config struct is built
// from, once. A param absent from `params` reads as its declaration's default, so that no fault
// repeats a default. Reading a name that `decl` does not declare, or (with Get) one that is
// absent and has no default, is a programming error: std::logic_error. A value of the wrong type
// (params that did not validate) throws nlohmann::json::exception.
class ParamReader {
 public:
  // Both must outlive the reader.
  ParamReader(const FaultDecl& decl, const nlohmann::json& params) : decl_(decl), params_(params) {}

  // Whether `params` holds `name` (given, or filled in by WithDefaults).
  bool Given(const std::string& name) const;
  // The value given, else the declared default.
  template <typename T>
  T Get(const std::string& name) const {
    const nlohmann::json* value = Find(name);
    if (value == nullptr) NoValue(name);
    return value->get<T>();
  }
  // The value given, else the declared default, else nullopt.
  template <typename T>
  std::optional<T> Optional(const std::string& name) const {
    const nlohmann::json* value = Find(name);
    if (value == nullptr) return std::nullopt;
    return value->get<T>();
  }
  // A kDuration param, parsed (nullopt when absent without a default).
  std::optional<Duration> OptionalDuration(const std::string& name) const;
  // A kSignal param as its number (ParseSignal); it must have a value or a default.
  int Signal(const std::string& name) const;

 private:
  const nlohmann::json* Find(const std::string& name) const;
  [[noreturn]] void NoValue(const std::string& name) const;

  const FaultDecl& decl_;
  const nlohmann::json& params_;
};

// A machine-readable form of the declaration (used by `ringfence faults --json`):
// {"name","summary","target_kind","params":[{"name","type","required","default","min","max",
// "choices","doc"}]}, absent optional members omitted. A kDuration's min and max are duration
// texts ("1s") like its values; other limits are numbers.
nlohmann::json DeclToJson(const FaultDecl& decl);

}  // namespace ringfence
