#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/validation.h"
#include "core/import/ctk_document.h"
#include "runner/base/run_request.h"

namespace ringfence {

// How `run` and `convert` read an experiment file (docs/chaos-toolkit.md): JSON or YAML (by
// extension), native or Chaos Toolkit (by its keys, or forced with --format).
struct SourceOptions {
  std::string format = "auto";  // auto | ctk | native
  CtkOptions ctk;
};

struct ExperimentSource {
  std::string native_text;           // the native document as JSON text, for LoadExperimentText
  std::optional<CtkConversion> ctk;  // set when the file was a Chaos Toolkit experiment
  nlohmann::ordered_json original;   // the document as read (a CTK journal repeats it)
};

// The options of `request` that concern Chaos Toolkit experiments: --format, --var and
// --secret (which override configuration and secrets), the strategies.
SourceOptions ChaosToolkitSourceOptions(const RunRequest& request);

// Reads `text` (the bytes of `file`) into a native document. Errors (syntax with line and
// column, a Chaos Toolkit key that cannot be mapped, a Python provider) go to `errors`.
std::optional<ExperimentSource> ReadExperimentSource(const std::string& file,
                                                     const std::string& text,
                                                     const SourceOptions& options,
                                                     ValidationErrors& errors);

// The run's journal in Chaos Toolkit's shape (docs/chaos-toolkit.md lists its fields), from
// ringfence's own journal and the conversion.
nlohmann::json ChaosToolkitJournal(const nlohmann::json& journal, const ExperimentSource& source);

// Where the Chaos Toolkit journal goes: journal.json beside the native journal.
std::string ChaosToolkitJournalPath(const std::string& native_journal);

}  // namespace ringfence
