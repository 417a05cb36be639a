#pragma once

#include <string>
#include <string_view>

namespace ringfence {

// Text for HTML and XML (the reports): every user string — titles, outputs, labels, errors — goes
// through one of these, whatever it holds. Bytes that are not valid UTF-8 and control characters
// that XML 1.0 forbids become U+FFFD, so the document stays well-formed.
std::string EscapeText(std::string_view text);  // & < > " ' escaped
// A number for SVG coordinates and figures: at most `decimals` decimals, no exponent, no "-0".
std::string Fixed(double value, int decimals = 1);
// A figure for people: 3 significant digits where that is enough ("0.0123", "41.2", "1250").
std::string Figure(double value);
// At most `max_chars` characters (code points) of `text`, with "…" when cut.
std::string Shorten(std::string_view text, size_t max_chars);
// "1.25 s", "3 min 4 s", "2 h 05 min": a duration for people.
std::string HumanSeconds(double seconds);

}  // namespace ringfence
