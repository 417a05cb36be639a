#include "core/base/duration.h"

#include <cstdint>
#include <limits>

namespace ringfence {

namespace {

struct Unit {
  std::string_view suffix;
  int64_t ms;
};

// Longest suffix first so that "ms" is not read as "m" followed by garbage.
constexpr Unit kUnits[] = {{"ms", 1}, {"h", 3'600'000}, {"m", 60'000}, {"s", 1'000}};

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

Status Invalid(std::string_view text, const char* why) {
  return Status::InvalidInput("invalid duration \"" + std::string(text) + "\": " + why);
}

}  // namespace

Result<Duration> ParseDuration(std::string_view text) {
  const Unit* unit = nullptr;
  for (const Unit& u : kUnits) {
    if (text.size() > u.suffix.size() && text.substr(text.size() - u.suffix.size()) == u.suffix) {
      unit = &u;
      break;
    }
  }
  if (unit == nullptr) return Invalid(text, "expected a number followed by ms, s, m or h");
  std::string_view number = text.substr(0, text.size() - unit->suffix.size());
  std::string_view whole = number;
  std::string_view fraction;
  if (size_t dot = number.find('.'); dot != std::string_view::npos) {
    whole = number.substr(0, dot);
    fraction = number.substr(dot + 1);
    if (!AllDigits(fraction)) return Invalid(text, "expected a number followed by ms, s, m or h");
  }
  if (!AllDigits(whole)) return Invalid(text, "expected a number followed by ms, s, m or h");

  while (!fraction.empty() && fraction.back() == '0') fraction.remove_suffix(1);
  // A unit is at most 3'600'000 ms = 2^7 * 3^2 * 5^5, so a fraction with more than 7 significant
  // digits can never be a whole number of milliseconds.
  if (fraction.size() > 7) return Invalid(text, "not a whole number of milliseconds");

  constexpr __int128 kMax = kMaxDuration.count();
  __int128 whole_value = 0;
  for (char c : whole) {
    whole_value = whole_value * 10 + (c - '0');
    if (whole_value * unit->ms > kMax) return Invalid(text, "too large (at most 100000h)");
  }
  __int128 fraction_value = 0;
  __int128 scale = 1;
  for (char c : fraction) {
    fraction_value = fraction_value * 10 + (c - '0');
    scale *= 10;
  }
  __int128 fraction_ms = fraction_value * unit->ms;
  if (fraction_ms % scale != 0) return Invalid(text, "not a whole number of milliseconds");
  __int128 total = whole_value * unit->ms + fraction_ms / scale;
  if (total > kMax) return Invalid(text, "too large (at most 100000h)");
  return Duration(static_cast<Duration::rep>(total));
}

std::string FormatDuration(Duration d) {
  const Duration::rep ms = d.count();
  if (ms == 0) return "0s";
  for (const Unit& u : {kUnits[1], kUnits[2], kUnits[3]}) {
    if (ms % u.ms == 0) return std::to_string(ms / u.ms) + std::string(u.suffix);
  }
  return std::to_string(ms) + "ms";
}

}  // namespace ringfence
