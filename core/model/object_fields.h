#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/validation.h"

namespace ringfence {

// One known key of an object in a user's file (a schedule, a dependency map): how to read it,
// and what to say when a required one is missing.
struct ObjectField {
  std::string key;
  bool required = false;
  std::string missing_allowed;
  std::function<void(const nlohmann::json& value, const std::string& pointer)> read;
};

// "<pointer>/<key>" (the key escaped) and "<pointer>/<index>".
std::string ChildPointer(const std::string& pointer, const std::string& key);
std::string ChildPointer(const std::string& pointer, size_t index);

// A name in a user's file (a schedule entry, a dependency): letters, digits, "-", "_" and ".",
// 1 to 64 characters, not starting with ".".
inline constexpr char kPlainNameAllowed[] =
    "a name of letters, digits, \"-\", \"_\" and \".\" (at most 64)";
bool IsPlainName(const std::string& name);

// Reads the members of `object` at `pointer`: each known key through its field, in the
// object's order; a missing required key is "missing", any other key an "unknown key" (with
// the known ones as allowed), and a value that is not an object "an object".
void ReadObjectFields(const nlohmann::json& object, const std::string& pointer,
                      const std::vector<ObjectField>& fields, ValidationErrors& errors);

}  // namespace ringfence
