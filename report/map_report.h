#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/base/status.h"

namespace ringfence {

// The dependency map's heatmap (docs/dependency-map.md, "The heatmap"): one self-contained HTML
// page from a map journal (`ringfence map --journal`, read back: every field is checked, a
// missing or mistyped one shows as "—"). Rows are the dependencies, columns the faults, each
// cell coloured by its outcome with its detail; then each dependency's verdict against its
// `expect`, the undeclared dependencies discovery found and the declared ones never seen.
std::string RenderMapHeatmap(const nlohmann::json& map_journal);

// RenderMapHeatmap written to `path` atomically (mode 0644).
Status WriteMapHeatmap(const nlohmann::json& map_journal, const std::string& path);

}  // namespace ringfence
