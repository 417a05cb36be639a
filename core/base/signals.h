#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace ringfence {

// Signal names and numbers: "SIGTERM", "TERM", "15" or 15 → 15. Returns 0 when unknown.
int ParseSignal(const nlohmann::json& value);
// 15 → "SIGTERM" (or "SIG<n>" for a signal without a name).
std::string SignalName(int signo);

}  // namespace ringfence
