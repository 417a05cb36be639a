#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace ringfence {

// A JSON value (a fault's `observed`, its parameters) as HTML people read: an object is a table of
// its keys, an array of objects a table with a column per key, an array of plain values a list,
// a plain value its text. Every string escaped; deep or long values are cut with a note.
std::string JsonAsHtml(const nlohmann::json& value);

}  // namespace ringfence
