#pragma once

#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/base/validation.h"

namespace ringfence {

// Looks up the value of placeholder `name`; nullopt when it has none.
using PlaceholderLookup = std::function<std::optional<std::string>(const std::string& name)>;

// Fills `${name}` placeholders in one string value found at JSON pointer `pointer`.
// A name is a letter or '_' followed by letters, digits, '_', '-' or '.'. `$${` is a literal
// `${`. When the whole string is exactly one placeholder and its value parses as a JSON number,
// true or false, the result is that number or boolean; otherwise it is the string with every
// placeholder replaced by its value's text (values are not scanned again).
// Problems (an unfilled placeholder, a malformed one, a value that is not UTF-8) are added to
// `errors` at `pointer` with the original string as `found`; the result is then the original.
nlohmann::ordered_json FillPlaceholdersInString(const std::string& text,
                                                const PlaceholderLookup& lookup,
                                                const std::string& pointer,
                                                ValidationErrors& errors);

// Fills placeholders in every string value (never in keys) of `document`, in document order.
// `pointer` is the pointer of `document` itself ("" for the root). Recursive: call it only on
// documents whose depth was checked.
void FillPlaceholders(nlohmann::ordered_json& document, const PlaceholderLookup& lookup,
                      const std::string& pointer, ValidationErrors& errors);

}  // namespace ringfence
