#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/base/validation.h"

namespace ringfence {

// Parses a JSON document the user wrote that is not an experiment (a suite file, a var file)
// with the experiment's bounds (core/model/experiment.h): at most kMaxExperimentBytes,
// kMaxExperimentDepth levels, no duplicate key; syntax errors carry line and column, the others
// a pointer (the texts of docs/experiment-format.md). nullopt with `errors` filled on any
// problem. Never throws.
std::optional<nlohmann::ordered_json> ParseJsonDocument(const std::string& text,
                                                        ValidationErrors& errors);

}  // namespace ringfence
