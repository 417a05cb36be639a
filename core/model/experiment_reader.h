#pragma once

// The experiment reader (internal to core/model): reads a parsed experiment document into an
// Experiment, adding every problem to a ValidationErrors. LoadExperimentText and ReadProbeObject
// (core/model/experiment.cc) are its users. One unit per section of the document:
//   experiment_reader.cc  the helpers every section uses: Child, IntegralIn, DurationAllowed and
//                         the value readers (String, RegexValue, Bool, DurationValue, Integer,
//                         Strings, TargetRef)
//   read_document.cc      the document: Read (the top-level keys and the checks across
//                         sections) and ReadObject (the members of any object)
//   read_targets.cc       /targets: ReadTargets, ReadHosts, ReadProcess, ReadSelect,
//                         CheckTargetKinds
//   read_probes.cc        probes: ReadProbe, ReadTolerance, ReadOneProbe
//   read_method.cc        /method: ReadStep, ReadFault
//   read_guards.cc        /guards: ReadGuard, ReadCondition, ReadSource
//   read_settings.cc      /rollbacks and /settings: ReadRollback, ReadSettings

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/duration.h"
#include "core/base/regex.h"
#include "core/base/validation.h"
#include "core/model/object_fields.h"

namespace ringfence {

// Declared in core/model/experiment.h and core/model/fault_catalog.h. This header does not include
// experiment.h: experiment.cc includes this header, and the two units would form a cycle
// (tests/rooms_check.py).
struct Experiment;
struct FaultStep;
struct GuardSpec;
struct HostSelection;
struct JsonPathCheck;
struct MethodStep;
struct ProbeSpec;
struct ProcessSelector;
struct RollbackSpec;
struct Selection;
struct Settings;
struct Tolerance;
class FaultCatalog;
class FaultSchema;

namespace internal {

using ojson = nlohmann::ordered_json;

// ---- Allowed texts used by more than one section (docs/experiment-format.md) -----------------

inline constexpr char kNonEmptyString[] = "a non-empty string";
inline constexpr char kAString[] = "a string";
inline constexpr char kProbeObject[] = "a probe object";
inline constexpr char kArgvAllowed[] = "a non-empty array of strings";

std::string DurationAllowed(bool positive);

std::string Child(const std::string& pointer, const std::string& key);
std::string Child(const std::string& pointer, size_t index);

// An integral number (5 or 5.0) within [lo, hi].
std::optional<int64_t> IntegralIn(const ojson& v, int64_t lo, int64_t hi);

// One known key of an object (core/model/object_fields.h).
using Field = ObjectField;

// Reads the document into an Experiment, adding every problem to `errors`.
class ExperimentReader {
 public:
  ExperimentReader(const FaultCatalog& catalog, ValidationErrors& errors)
      : catalog_(catalog), errors_(errors) {}

  // read_document.cc
  void Read(const ojson& doc, Experiment& out);

  // read_probes.cc
  std::optional<ProbeSpec> ReadOneProbe(const ojson& v, const std::string& p,
                                        const Experiment& experiment);

 private:
  // experiment_reader.cc
  void Error(const std::string& pointer, const ojson& found, const std::string& allowed);
  std::optional<std::string> String(const ojson& v, const std::string& p, bool non_empty,
                                    const std::string& allowed);
  std::optional<Regex> RegexValue(const ojson& v, const std::string& p, bool non_empty,
                                  const std::string& allowed);
  std::optional<bool> Bool(const ojson& v, const std::string& p);
  std::optional<Duration> DurationValue(const ojson& v, const std::string& p, bool positive);
  std::optional<int64_t> Integer(const ojson& v, const std::string& p, int64_t lo, int64_t hi,
                                 const std::string& allowed);
  std::optional<std::vector<std::string>> Strings(const ojson& v, const std::string& p,
                                                  const std::string& allowed, bool argv);
  std::string TargetAllowed() const;
  std::optional<std::string> TargetRef(const ojson& v, const std::string& p);

  // read_document.cc
  void ReadObject(const ojson& object, const std::string& pointer,
                  const std::vector<Field>& fields);

  // read_targets.cc
  void ReadTargets(const ojson& v, const std::string& p, Experiment& out);
  void ReadHosts(const ojson& v, const std::string& p, HostSelection& hosts);
  void CheckTargetKinds(const Experiment& out);
  void ReadProcess(const ojson& v, const std::string& p, ProcessSelector& sel);
  void ReadSelect(const ojson& v, const std::string& p, Selection& sel);

  // read_probes.cc
  std::optional<Tolerance> ReadTolerance(const ojson& v, const std::string& p);
  std::optional<JsonPathCheck> ReadJsonPathCheck(const ojson& v, const std::string& p);
  std::optional<ProbeSpec> ReadProbe(const ojson& v, const std::string& p, size_t index);

  // read_method.cc
  std::string StepTypesAllowed() const;
  std::optional<MethodStep> ReadStep(const ojson& v, const std::string& p, size_t index);
  void ReadFault(const ojson& v, const std::string& p, size_t index, const FaultSchema& factory,
                 FaultStep& fault);

  // read_guards.cc
  std::optional<double> Number(const ojson& v, const std::string& p, const std::string& allowed,
                               const std::function<bool(double)>& ok);
  std::optional<std::string> OneOfNames(const ojson& v, const std::string& p,
                                        const std::vector<std::string>& names);
  std::optional<std::string> Url(const ojson& v, const std::string& p);
  std::optional<GuardSpec> ReadGuard(const ojson& v, const std::string& p, size_t index);
  void ReadCondition(const ojson& v, const std::string& p, GuardSpec& guard);
  std::optional<ojson> ReadSource(const ojson& v, const std::string& p);

  // read_settings.cc
  std::optional<RollbackSpec> ReadRollback(const ojson& v, const std::string& p, size_t index);
  void ReadSettings(const ojson& v, const std::string& p, Settings& s);

  const FaultCatalog& catalog_;
  ValidationErrors& errors_;
  std::vector<std::string> target_names_;      // keys of /targets, in file order
  std::set<std::string> probes_with_timeout_;  // pointers of probes with their own timeout
  // Every timeout read (pointer, value), checked against settings.max_fault_lifetime at the end.
  std::vector<std::pair<std::string, Duration>> timeouts_;
  std::map<std::string, std::string> fault_names_;  // fault step name → pointer of its step
  std::map<std::string, std::string> guard_names_;  // guard name → pointer of its guard
};

}  // namespace internal
}  // namespace ringfence
