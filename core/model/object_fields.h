#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/validation.h"

namespace ringfence {

// One known key of an object in a file the user wrote (an experiment, a schedule, a dependency
// map): how to read it, and what to say when a required one is missing. `Json` is the document's
// type: nlohmann::ordered_json keeps the file's order of keys (errors come in file order).
template <typename Json>
struct BasicObjectField {
  std::string key;
  bool required = false;
  std::string missing_allowed;
  std::function<void(const Json& value, const std::string& pointer)> read;
};
using ObjectField = BasicObjectField<nlohmann::ordered_json>;
using JsonObjectField = BasicObjectField<nlohmann::json>;

// "<pointer>/<key>" (the key escaped) and "<pointer>/<index>".
std::string ChildPointer(const std::string& pointer, const std::string& key);
std::string ChildPointer(const std::string& pointer, size_t index);

// A name in a user's file (a schedule entry, a dependency): letters, digits, "-", "_" and ".",
// 1 to 64 characters, not starting with ".".
inline constexpr char kPlainNameAllowed[] =
    "a name of letters, digits, \"-\", \"_\" and \".\" (at most 64)";
bool IsPlainName(const std::string& name);

// Reads `object`'s members at `pointer` in the object's order: each known key through its
// field, each unknown key as an error at its pointer listing the known ones ("unknown key: one
// of a, b"); then a "missing" error for each absent required key, in the fields' order. A value
// that is not an object is one error, "an object".
template <typename Json>
void ReadObjectFields(const Json& object, const std::string& pointer,
                      const std::vector<BasicObjectField<Json>>& fields, ValidationErrors& errors) {
  if (!object.is_object()) return errors.Add(pointer, FoundValue(object), "an object");
  std::vector<std::string> keys;
  for (const auto& f : fields) keys.push_back(f.key);
  for (const auto& [key, value] : object.items()) {
    const BasicObjectField<Json>* field = nullptr;
    for (const auto& f : fields) {
      if (f.key == key) field = &f;
    }
    if (field == nullptr) {
      errors.Add(ChildPointer(pointer, key), kFoundUnknownKey, OneOf(keys));
    } else {
      field->read(value, ChildPointer(pointer, key));
    }
  }
  for (const auto& f : fields) {
    if (f.required && !object.contains(f.key)) {
      errors.Add(ChildPointer(pointer, f.key), kFoundMissing, f.missing_allowed);
    }
  }
}

}  // namespace ringfence
