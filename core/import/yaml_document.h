#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/base/validation.h"

namespace ringfence {

// Reads a YAML document (yaml-cpp) into JSON values: mappings become objects (keys must be
// scalars), sequences arrays, and plain scalars null (~, null, empty), true/false, integers,
// floats or strings the way YAML 1.2's core schema reads them; quoted scalars stay strings.
// Refused, into `errors`, each with where it was found: a syntax error ("line 3, column 5:
// syntax error: …"), nesting deeper than `max_depth`, a key given twice, anchors and aliases
// (an alias bomb is the YAML way to blow up memory), tags, more than one document. Built from
// the parser's events, never as a node tree. Never throws.
std::optional<nlohmann::ordered_json> ParseYamlDocument(const std::string& text, int max_depth,
                                                        ValidationErrors& errors);

// Whether `path` names a YAML file by its extension (.yaml or .yml, any case).
bool IsYamlPath(const std::string& path);

}  // namespace ringfence
