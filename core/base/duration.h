#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "core/base/status.h"

namespace ringfence {

using Duration = std::chrono::milliseconds;

// The longest duration ParseDuration accepts: 100000h (about 11 years). Longer ones would
// overflow once converted to the clocks' nanoseconds and added to now (2562047788015h fits in
// int64 milliseconds but not in std::chrono::steady_clock's nanoseconds), so they are refused
// where they are read rather than wrapping around at run time.
inline constexpr Duration kMaxDuration = std::chrono::hours(100000);

// Parses "250ms", "30s", "2m", "1h", also with a fraction ("1.5s") when it is a whole number of
// milliseconds. Negative, empty, unit-less or longer than kMaxDuration texts are kInvalidInput.
Result<Duration> ParseDuration(std::string_view text);

// The shortest exact text for d in the units above ("250ms", "30s", "2m", "1h30m" is "90m"):
// the largest unit that divides d evenly; 0 is "0s".
std::string FormatDuration(Duration d);

// The start of every "allowed" text for a duration in validation errors; callers append the
// limit, e.g. " (greater than 0)".
inline constexpr char kDurationAllowed[] = "a duration such as \"250ms\", \"30s\", \"2m\"";

}  // namespace ringfence
