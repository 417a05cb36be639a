#pragma once

#include <string>

namespace ringfence {

// Percent-encodes every byte of `text` but the unreserved characters of RFC 3986 (letters,
// digits, - _ . ~), for a URL's query string or an application/x-www-form-urlencoded body.
std::string UrlQueryEscape(const std::string& text);

}  // namespace ringfence
