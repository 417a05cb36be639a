#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "core/status.h"

namespace ringfence {

using Duration = std::chrono::milliseconds;

// Parses "250ms", "30s", "2m", "1h", also with a fraction ("1.5s") when it is a whole number of
// milliseconds. Negative, empty, unit-less or overflowing texts are kInvalidInput.
Result<Duration> ParseDuration(std::string_view text);

// The shortest exact text for d in the units above ("250ms", "30s", "2m", "1h30m" is "90m"):
// the largest unit that divides d evenly; 0 is "0s".
std::string FormatDuration(Duration d);

// The start of every "allowed" text for a duration in validation errors; callers append the
// limit, e.g. " (greater than 0)".
inline constexpr char kDurationAllowed[] = "a duration such as \"250ms\", \"30s\", \"2m\"";

}  // namespace ringfence
